"""The meter adapter with in-memory tables (no Kafka): ordering, crash safety, state writes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import orjson
import pytest

from agents.meter import Incoming, Meter
from agents.settings import WorkerSettings
from schemas import billing_session
from tests.factories import T0

TURNS, TRANSFERS = "conversation-turns", "agent-transfers"
NOW_S = T0 / 1000 + 3600  # the worker clock: an hour after the events


class FakeTable:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.writes = 0

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def put(self, partition: int, key: str, value: str) -> None:
        self.data[key] = value
        self.writes += 1

    def delete(self, partition: int, key: str) -> None:
        self.data.pop(key, None)
        self.writes += 1

    def items(self) -> Iterable[tuple[str, str]]:
        return list(self.data.items())


class Tables:
    def __init__(self) -> None:
        self.conversations, self.alerts, self.pending = FakeTable(), FakeTable(), FakeTable()


def meter(
    tables: Tables,
    sent: list[tuple[str, bytes]],
    *,
    fail: bool = False,
    now: list[float] | None = None,
) -> Meter:
    clock = now if now is not None else [NOW_S]

    async def send(topic: str, key: bytes | None, value: bytes, ts: int | None) -> Any:
        if fail:
            raise ConnectionError("broker down")
        sent.append((topic, value))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def caught_up(topic: str, partition: int) -> float | None:
        return None

    return Meter(
        WorkerSettings(max_hold_s=1.0),
        conversations=tables.conversations,
        alerts=tables.alerts,
        pending=tables.pending,
        send=send,
        caught_up=caught_up,
        assigned=lambda: {0},
        clock=lambda: clock[0],
    )


def record(topic: str, offset: int, minutes: float, value: dict[str, Any]) -> Incoming:
    ts = T0 + int(minutes * 60_000)
    body = {
        "app_id": "app-1",
        "conversation_id": "c-1",
        "channel": "web",
        "occurred_at": ts,
        **value,
    }
    return Incoming(topic, 0, offset, ts, b"c-1", orjson.dumps(body))


def sessions(sent: list[tuple[str, bytes]]) -> list[str]:
    return [orjson.loads(v)["session_id"] for t, v in sent if t == billing_session.TOPIC]


TURN_0 = record(TURNS, 0, 0, {"event_id": "e1", "actor": "user"})
TO_AGENT = record(TRANSFERS, 0, 5, {"event_id": "e2", "direction": "to_agent", "agent_id": "a-1"})
TURN_20 = record(TURNS, 1, 20, {"event_id": "e3", "actor": "agent", "agent_id": "a-1"})


def test_a_turn_waits_for_the_earlier_transfer_of_the_other_topic() -> None:
    tables, sent = Tables(), []
    m = meter(tables, sent)
    asyncio.run(m.on_records([TURN_0, TURN_20]))  # transfers not read yet: both held
    assert sessions(sent) == []
    assert len(tables.pending.data) == 2
    asyncio.run(m.on_records([TO_AGENT]))  # frontier of transfers reaches 5: turn@0 released
    assert sessions(sent) == ["app-1/c-1/0/usage/0"]
    assert len(tables.pending.data) == 1  # turn@20 still waits for transfers to pass 20


def test_held_records_survive_a_crash_through_the_pending_table() -> None:
    tables, sent = Tables(), []
    asyncio.run(meter(tables, sent).on_records([TURN_0, TO_AGENT, TURN_20]))
    assert len(tables.pending.data) == 1
    clock = [NOW_S]
    restarted = meter(tables, sent, now=clock)  # a new process: empty merge buffers
    asyncio.run(restarted.tick_release())  # restores partition 0 from the pending table
    clock[0] += 2.0
    asyncio.run(restarted.tick_release())  # held long enough, but transfers not caught up
    assert len(tables.pending.data) == 1
    state = orjson.loads(tables.conversations.data["app-1\x1fc-1"])
    assert state[1][5] == T0 + 5 * 60_000  # last_ms: processed up to the transfer only


def test_a_failed_send_writes_no_state() -> None:
    tables, sent = Tables(), []
    with pytest.raises(ConnectionError):
        asyncio.run(meter(tables, sent, fail=True).on_records([TURN_0, TO_AGENT]))
    assert tables.conversations.data == {}
