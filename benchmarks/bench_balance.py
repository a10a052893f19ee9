"""Reading a balance over a long ledger (issue #25): the running balance beside the SUM.

Builds a store with one subscription and N ledger entries (inserted through the ledger
table, so the running-balance trigger folds every one), checks the two figures agree,
then times reading the balance both ways, median of R reads each, in the same run:

- ``sum``: ``SELECT SUM(amount_minor) FROM ledger_entries WHERE subscription_id = ?``
  (what every balance read did before migration 0009);
- ``running``: ``SELECT balance_minor FROM subscriptions WHERE id = ?``.

    python benchmarks/bench_balance.py [--entries 100000] [--reads 200] [--db URL]

Without ``--db`` it uses a new SQLite file; give a PostgreSQL URL of an empty database to
measure there.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, insert, text

from billing import db
from billing import operations as ops
from billing.access import OPERATOR
from billing.catalog import PlanSpec
from billing.models import LedgerEntry, Subscription

NOW = 1_794_729_600_000  # 2026-11-15T12:00:00Z
SUM = "SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_entries WHERE subscription_id = :id"
# entries per transaction: PostgreSQL keeps every version of the subscription's row that one
# transaction's folds make, so a transaction adding 100k entries to one subscription would be
# quadratic (posting adds at most a few per subscription and transaction)
BATCH = 1_000
RUNNING = "SELECT balance_minor FROM subscriptions WHERE id = :id"


def build(url: str, entries: int) -> int:
    """A store with one subscription and ``entries`` more ledger entries; its id."""
    sessions = db.open_store(url)
    ops.add_user(sessions, OPERATOR, "alice", "owner", NOW)
    plan = PlanSpec(
        code="starter",
        name="Starter",
        currency="USD",
        fee="49.00",
        included={"billing_sessions": "1000"},
        prices={"billing_sessions": "0.05"},
    )
    ops.add_plan(sessions, OPERATOR, plan, NOW)
    ops.subscribe(
        sessions, OPERATOR, app_id="bot-1", plan="starter", owner="alice",
        start="2026-11-01", tz="UTC", low_balance=None, now_ms=NOW,
    )  # fmt: skip
    with sessions.begin() as session:
        subscription = session.query(Subscription).one()
        sub_id, app_id = subscription.id, subscription.app_id
    rows = [
        {
            "subscription_id": sub_id, "app_id": app_id, "kind": "usage",
            "amount_minor": -(n % 97) - 1, "currency": "USD", "reason": "bench",
            "idempotency_key": f"bench:{n}", "created_ms": NOW + n,
        }
        for n in range(entries)
    ]  # fmt: skip
    for start in range(0, entries, BATCH):  # a transaction per batch, as posting passes are
        with sessions.begin() as session:
            session.execute(insert(LedgerEntry), rows[start : start + BATCH])
    sessions.kw["bind"].dispose()
    return sub_id


def median_ms(connection: Connection, sql: str, sub_id: int, reads: int) -> tuple[float, int]:
    """The median time of one read, in ms, and the figure read."""
    times, value = [], 0
    for _ in range(reads):
        started = time.perf_counter()
        value = int(connection.execute(text(sql), {"id": sub_id}).scalar_one())
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--db", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        sub_id = build(url, args.entries)
        engine = db.create(url)
        with engine.connect() as connection:
            run: Callable[[str], tuple[float, int]] = lambda sql: median_ms(  # noqa: E731
                connection, sql, sub_id, args.reads
            )
            run(SUM), run(RUNNING)  # warm the caches alike
            summed_ms, summed = run(SUM)
            running_ms, running = run(RUNNING)
        engine.dispose()
    assert summed == running, (summed, running)
    print(f"store: {engine.dialect.name}, ledger entries: {args.entries + 1}, reads: {args.reads}")
    print(f"balance {running / 100:.2f} both ways")
    print(f"SUM over the ledger: median {summed_ms:.3f} ms")
    print(f"running balance:     median {running_ms:.3f} ms")
    print(f"ratio: {summed_ms / running_ms:.0f}x")


if __name__ == "__main__":
    main()
