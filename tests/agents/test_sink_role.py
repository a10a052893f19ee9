"""The sink role's steps against a recording backend: sessions decoded column-wise, a batch with a
foreign producer's bad value decoded one by one (the bad one logged with its position,
never written), and a failed write retried until it succeeds."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry

from agents.kafka.records import PartitionBatch
from agents.metrics import BillingMetrics
from agents.sink import SinkRole
from schemas import agent_activity, billing_session
from schemas.agent_activity import AgentActivity
from schemas.billing_session import BillingSession, encode
from tests.sinks.recorder import Recorder


def _role(store: Recorder) -> SinkRole:
    metrics = BillingMetrics.create(CollectorRegistry())
    return SinkRole(store, 1000, metrics, asyncio.Event())  # type: ignore[arg-type]


def _session(n: int) -> bytes:
    return encode(BillingSession(f"a/c{n}/0@0/usage/0", "usage", "a", f"c{n}", 0, 0, "web", n))


def _sessions(partition: int, values: list[bytes]) -> PartitionBatch:
    offsets = list(range(10, 10 + len(values)))
    return PartitionBatch(billing_session.TOPIC, partition, offsets, [1] * len(values), values)


def test_valid_sessions_are_one_arrow_block_and_other_topics_records() -> None:
    store = Recorder()
    role = _role(store)
    activity = agent_activity.encode(AgentActivity("a", "agent-1", 900_000))
    batch = [
        _sessions(0, [_session(1), _session(2)]),
        PartitionBatch(agent_activity.TOPIC, 0, [5], [1], [activity]),
    ]
    decoded = asyncio.run(role.decode(batch))
    assert decoded.block is not None and decoded.block.num_rows == 2
    assert [type(r) for r in decoded.records] == [AgentActivity]
    asyncio.run(role.write(decoded))
    assert role.sink.rows_written == {
        "sessions": 2,
        "agent_activity": 1,
        "conversations": 0,
        "dead_letters": 0,
    }


def test_a_foreign_value_falls_back_and_is_logged_with_its_position(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Recorder()
    role = _role(store)
    batch = [_sessions(0, [_session(1)]), _sessions(3, [_session(2), b'{"kind": "minutes"}'])]
    with caplog.at_level(logging.ERROR):
        decoded = asyncio.run(role.decode(batch))
    assert decoded.block is None
    assert [r.conversation_id for r in decoded.records] == ["c1", "c2"]  # type: ignore[union-attr]
    assert role.undecodable == 1
    (logged,) = [r for r in caplog.records if r.getMessage().startswith("undecodable")]
    assert logged.context == {  # type: ignore[attr-defined]
        "topic": billing_session.TOPIC,
        "partition": 3,
        "offset": 11,
    }
    asyncio.run(role.write(decoded))
    (written,) = store.batches
    assert [s.session_id for s in written.records] == ["a/c1/0@0/usage/0", "a/c2/0@0/usage/0"]  # type: ignore[union-attr]


def test_a_failed_write_is_retried_with_the_same_rows() -> None:
    store = Recorder(fail=1)
    role = _role(store)
    decoded = asyncio.run(role.decode([_sessions(0, [_session(1), _session(2)])]))
    asyncio.run(role.write(decoded))
    (written,) = store.batches
    assert sum(block.num_rows for block in written.blocks) == 2
    assert role.sink.pending() == 0
