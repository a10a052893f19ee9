"""Invoices from streamed traffic on the real broker, chdb and both databases: a month of
traffic, finalized, gives lines equal to the usage report by month in the subscription's
zone times the plan, with a PDF stating the same; sessions of that month that arrive
afterwards are an adjustment on the next invoice, and the finalized one stays byte-identical."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.core.config import MeterConfig
from pipeline.eventfile import parse_line
from pipeline.replay import replay
from pipeline.tracegen import TraceSpec, generate
from sinks.base import BatchingSink
from tests.billing.invoices_helpers import pdf_text
from tests.integration.backends import bootstrap, store_url
from tests.integration.workers import NullBackend, WorkerProcess, cli_ok, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.kafka]
TZ = "Asia/Kolkata"
PRICES = {"billing_sessions": "0.0125", "voice_sessions": "0.0333", "agents": "1.5"}
INCLUDED = {"billing_sessions": 100, "voice_sessions": 20, "agents": 3}


def month_bounds() -> tuple[date, date, int]:
    """Last month in the zone: its first day, the next month's, and its end as epoch ms."""
    today = datetime.now(ZoneInfo(TZ)).date()
    first_next = today.replace(day=1)
    first = (first_next - timedelta(days=1)).replace(day=1)
    end = datetime(first_next.year, first_next.month, 1, tzinfo=ZoneInfo(TZ))
    return first, first_next, int(end.timestamp() * 1000)


def write(path: Path, spec: TraceSpec) -> None:
    path.write_bytes(b"".join(generate(spec)))


def month_usage(store: str, first: date, first_next: date, cwd: Path) -> dict[str, int]:
    """app-1's row of the usage report for the month ``[first, first_next)`` in the zone."""
    [row] = cli_ok(
        "usage",
        "--clickhouse",
        store,
        "--by",
        "month",
        "--tz",
        TZ,
        "--app",
        "app-1",
        "--from",
        str(first),
        "--to",
        str(first_next),
        "--format",
        "json",
        cwd=cwd,
    )
    return dict(row)


def charge(quantity: int, meter: str) -> Decimal:
    overage = max(0, quantity - INCLUDED[meter])
    return (Decimal(overage) * Decimal(PRICES[meter])).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def sessions_in(trace: Path) -> int:
    """How many sessions one clean offline pass of ``trace`` opens."""
    lines = trace.read_bytes().splitlines(keepends=True)
    messages = [parse_line(line, n) for n, line in enumerate(lines, 1)]
    tally = replay(messages, BatchingSink(NullBackend()), MeterConfig(), "file:x")
    return sum(tally.sessions.values())


def stream(tmp_path: Path, prefix: str, store: str, *, money: str, trace: Path, total: int) -> None:
    """Stream ``trace`` through a worker until the store holds ``total`` sessions."""
    env = {"BILLING_DB_URL": money, "BILLING_INVOICE_GRACE": "400d"}  # finalized by hand below
    worker = WorkerProcess(tmp_path, prefix, "meter,sink,web,billing", store, env).start()
    query = "/api/usage?by=month&all_apps=1&from=2020-01-01&to=2030-01-01"

    def count() -> int:
        report = worker.get(query) or []
        return sum(r["usage_sessions"] + r["alert_sessions"] + r["voice_sessions"] for r in report)

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
        wait_for(lambda: count() == total, 180, lambda: f"{count()} != {total}\n{worker.tail()}")
    finally:
        worker.stop()


def test_a_streamed_month_is_invoiced_exactly_and_late_usage_adjusts_the_next(
    tmp_path: Path, db_url: str
) -> None:
    first, first_next, end_ms = month_bounds()
    prefix, db = f"t{uuid.uuid4().hex[:10]}.", ("--db", db_url)
    store = store_url(tmp_path, prefix)
    cli_ok("users", "add", "alice", "--role", "owner", *db, cwd=tmp_path)
    meters = lambda values: ",".join(f"{k}={v}" for k, v in values.items())  # noqa: E731
    cli_ok(
        "plans",
        "add",
        "metered",
        "--name",
        "Metered",
        "--currency",
        "USD",
        "--fee",
        "5.00",
        "--included",
        meters(INCLUDED),
        "--price",
        meters(PRICES),
        *db,
        cwd=tmp_path,
    )
    cli_ok(
        "subscribe",
        "app-1",
        "--plan",
        "metered",
        "--owner",
        "alice",
        "--tz",
        TZ,
        "--start",
        str(first),
        *db,
        cwd=tmp_path,
    )
    month = TraceSpec(
        events=8_000,
        seed=77,
        end_ms=end_ms - 3_600_000,
        span_ms=25 * 86_400_000,
        apps=2,
        hostile_rate=0.0,
    )
    write(tmp_path / "month.jsonl", month)
    first_total = sessions_in(tmp_path / "month.jsonl")
    stream(tmp_path, prefix, store, money=db_url, trace=tmp_path / "month.jsonl", total=first_total)
    row = month_usage(store, first, first_next, tmp_path)
    seller = {"BILLING_SELLER": "Acme Bots Ltd|1 Market Street"}  # finalizing needs one
    finalized = cli_ok("invoices", "finalize", "--clickhouse", store, *db, cwd=tmp_path, env=seller)
    assert finalized.startswith("finalized 1 invoices: INV-"), finalized
    number = finalized.split(": ")[1].strip()
    invoice = cli_ok("invoices", "show", number, *db, cwd=tmp_path)
    lines = {line["meter"]: line for line in invoice["lines"] if line["kind"] == "usage"}
    total = Decimal("5.00")
    for meter in PRICES:
        assert lines[meter]["quantity"] == row[meter], meter
        assert Decimal(lines[meter]["amount"]) == charge(row[meter], meter), meter
        total += charge(row[meter], meter)
    assert Decimal(invoice["total"]) == total and total > Decimal("5.00")
    pdf_path = tmp_path / "invoice.pdf"
    cli_ok(
        "invoices", "show", number, "--format", "pdf", "--output", str(pdf_path), *db, cwd=tmp_path
    )
    words = pdf_text(pdf_path.read_bytes())
    assert all(
        line["description"] in words and line["amount"] in words for line in invoice["lines"]
    )
    assert f"Total {invoice['total']}" in words
    # sessions of last month (its last 30 minutes in the zone) reach ClickHouse afterwards
    late = TraceSpec(events=400, seed=78, end_ms=end_ms - 60_000, span_ms=30 * 60_000, apps=1)
    write(tmp_path / "late.jsonl", late)
    total = first_total + sessions_in(tmp_path / "late.jsonl")
    stream(tmp_path, prefix, store, money=db_url, trace=tmp_path / "late.jsonl", total=total)
    after = month_usage(store, first, first_next, tmp_path)
    grown = after["billing_sessions"] - row["billing_sessions"]
    assert grown > 0
    next_month = (first_next.replace(day=28) + timedelta(days=4)).replace(day=1)
    later = {
        **seller,
        "BILLING_NOW": datetime(next_month.year, next_month.month, 1, 2, tzinfo=UTC).isoformat(),
    }
    second = cli_ok("invoices", "finalize", "--clickhouse", store, *db, cwd=tmp_path, env=later)
    assert second.startswith("finalized 1 invoices"), second
    newer = cli_ok("invoices", "show", second.split(": ")[1].strip(), *db, cwd=tmp_path)
    [adjustment] = [
        x for x in newer["lines"] if x["kind"] == "adjustment" and x["meter"] == "billing_sessions"
    ]
    assert (adjustment["period"], adjustment["quantity"]) == (str(first), grown)
    assert cli_ok("invoices", "show", number, *db, cwd=tmp_path) == invoice
    again = tmp_path / "again.pdf"
    cli_ok("invoices", "show", number, "--format", "pdf", "--output", str(again), *db, cwd=tmp_path)
    assert again.read_bytes() == pdf_path.read_bytes()
