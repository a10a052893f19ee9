"""Billing on the real broker, real ClickHouse (chdb) and both databases: a streamed trace
is charged exactly what the usage report by month in each subscription's zone costs, and
every notification reaches the topic and a webhook that was down, once."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from billing.delivery import sign
from tests.integration.backends import bootstrap, store_url
from tests.integration.webhook_receiver import Receiver
from tests.integration.workers import (
    WorkerProcess,
    cli,
    cli_ok,
    free_port,
    kafka_reachable,
    settled_report,
    wait_for,
    write_trace,
)

pytestmark = [pytest.mark.integration, pytest.mark.kafka]
PRICES = {"billing_sessions": "0.0125", "voice_sessions": "0.0333", "agents": "1.5"}
FEE, FUNDS = Decimal("5.00"), Decimal("100.00")
ZONES = ("Asia/Kolkata", "Asia/Kathmandu", "UTC")
SECRET = b"test-webhook-secret-0123456789"


def first_event_ms(trace: Path) -> int:
    stamps = []
    for line in trace.read_bytes().splitlines():
        try:
            value = orjson.loads(line)["value"]
            moment = datetime.fromisoformat(value["occurred_at"].replace("Z", "+00:00"))
            stamps.append(int(moment.timestamp() * 1000))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return min(stamps)


def apps_of(trace: Path) -> list[str]:
    apps: set[str] = set()
    for line in trace.read_bytes().splitlines():
        try:
            apps.add(orjson.loads(line)["value"]["app_id"])
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return sorted(a for a in apps if isinstance(a, str))[: len(ZONES)]


def expected_balance(worker: WorkerProcess, app: str, tz: str, start: date, key: str) -> Decimal:
    """funds - fees - charges, from the usage report by month in the zone (SPEC §6)."""
    now = datetime.now(ZoneInfo(tz)).date()
    months = (now.year - start.year) * 12 + now.month - start.month + 1
    end = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
    rows = worker.get_as(f"/api/usage?by=month&tz={tz}&app={app}&from={start}&to={end}", key)
    charges = Decimal(0)
    for row in rows:
        for meter, price in PRICES.items():
            amount = Decimal(row[meter]) * Decimal(price)
            charges += amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return FUNDS - FEE * months - charges


def test_streamed_usage_is_charged_exactly_and_notifications_arrive_once(
    tmp_path: Path, db_url: str
) -> None:
    assert kafka_reachable(), f"no Kafka at {bootstrap()}"
    prefix = f"t{uuid.uuid4().hex[:10]}."
    trace = tmp_path / "events.jsonl"
    expected = write_trace(trace, events=6_000, seed=41)
    db = ("--db", db_url)
    key = cli_ok("users", "add", "root", "--role", "admin", *db, cwd=tmp_path)["api_key"]
    cli_ok("users", "add", "alice", "--role", "owner", *db, cwd=tmp_path)
    prices = ",".join(f"{m}={p}" for m, p in PRICES.items())
    cli_ok(
        "plans",
        "add",
        "metered",
        "--name",
        "Metered",
        "--currency",
        "USD",
        "--fee",
        str(FEE),
        "--price",
        prices,
        *db,
        cwd=tmp_path,
    )
    first = datetime.fromtimestamp(first_event_ms(trace) / 1000, tz=UTC) - timedelta(days=2)
    starts: dict[str, tuple[str, date]] = {}
    for app, tz in zip(apps_of(trace), ZONES, strict=True):
        start = first.astimezone(ZoneInfo(tz)).date()
        starts[app] = (tz, start)
        cli_ok(
            "subscribe",
            app,
            "--plan",
            "metered",
            "--owner",
            "alice",
            "--tz",
            tz,
            "--start",
            str(start),
            *db,
            cwd=tmp_path,
        )
        cli_ok(
            "funds", "add", app, str(FUNDS), "--idempotency-key", f"first-{app}", *db, cwd=tmp_path
        )
    hook_port = free_port()  # nothing listens yet: the webhook is down
    env = {
        "BILLING_DB_URL": db_url,
        "BILLING_POST_INTERVAL": "1",
        "BILLING_WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/hook",
        "BILLING_WEBHOOK_SECRET": "whsec_" + base64.b64encode(SECRET).decode(),
        "BILLING_WEBHOOK_BACKOFF": "0.2",
    }
    store = store_url(tmp_path, prefix)
    worker = WorkerProcess(tmp_path, prefix, "meter,sink,web,billing", store, env).start()
    receiver = Receiver(hook_port)
    try:
        cli_ok(
            "produce",
            str(trace),
            "--topic-prefix",
            prefix,
            "--bootstrap",
            bootstrap(),
            cwd=tmp_path,
        )
        settled_report(worker, expected, 120)
        wants: dict[str, Decimal] = {}
        for app, (tz, start) in starts.items():
            want = wants[app] = expected_balance(worker, app, tz, start, key)
            wait_for(
                lambda a=app, w=want: (
                    Decimal(worker.get_as(f"/api/subscriptions/{a}", key)["balance"]) == w
                ),
                60,
                lambda a=app, w=want: (
                    f"{a}: {worker.get_as(f'/api/subscriptions/{a}', key)} != {w}"
                ),
            )
        stored = worker.get_as("/api/notifications", key)
        assert len(stored) >= 2 * len(starts)  # at least depleted (the fee) then recovered (funds)
        time.sleep(1.5)  # failed attempts pile up meanwhile
        receiver.start()
        wait_for(
            lambda: len(receiver.received) >= len(stored),
            60,
            lambda: f"{len(receiver.received)} of {len(stored)}",
        )
        time.sleep(2)  # nothing more arrives
    finally:
        worker.stop()
        receiver.stop()
    ids = [orjson.loads(body)["id"] for _, body in receiver.received]
    assert sorted(ids) == sorted(f"ntf_{n['id']}" for n in stored)  # each once
    for headers, body in receiver.received:
        assert headers["webhook-signature"] == sign(
            SECRET, headers["webhook-id"], int(headers["webhook-timestamp"]), body
        )
    assert sorted(set(topic_ids(prefix))) == sorted(ids)  # the topic carries every one
    # usage is written at most once an hour per meter: a pass in a new hour writes what the
    # worker read since its last entry, and the balance (posted + read) stays exactly the same
    again = cli("ledger", "post", "--clickhouse", store, *db, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.startswith("posted "), again
    shown = cli_ok("balance", "--format", "json", *db, cwd=tmp_path)
    assert {row["app_id"]: Decimal(row["balance"]) for row in shown} == wants


def topic_ids(prefix: str) -> list[str]:
    from aiokafka import AIOKafkaConsumer

    async def read() -> list[str]:
        consumer = AIOKafkaConsumer(
            f"{prefix}billing-notifications",
            bootstrap_servers=bootstrap(),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=5000)
            return [orjson.loads(m.value)["id"] for batch in batches.values() for m in batch]
        finally:
            await consumer.stop()

    return asyncio.run(read())
