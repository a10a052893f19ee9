"""An existing store (revision 0006, usage posted every 15 s the old way) upgraded to the
running balance: no ledger row changes, every balance equals its ledger sum, the next posting
pass adds nothing twice and the next invoice is exact."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, MetaData, func, select, text

from billing import db, documents
from billing import operations as ops
from billing.access import OPERATOR
from billing.finalize import finalize_due
from billing.models import LedgerEntry, Subscription
from billing.operations import Sessions
from billing.posting import post_once
from tests.billing.helpers import ms, seed, subscribe
from tests.billing.invoices_helpers import OCTOBER, SETTINGS, Source

OLD_INTERVAL = 15_000  # before BILLING_POST_EVERY, every pass was an entry


def _old_style_store(path: Path) -> tuple[Sessions, Source]:
    """Two apps with October's usage posted every 15 s for ten minutes, one entry a pass."""
    sessions = db.open_store(f"sqlite:///{path}")
    seed(sessions, OCTOBER)
    source = Source()
    for app in ("bot-0", "bot-1"):
        subscribe(sessions, app, start="2026-10-01", now_ms=OCTOBER)
        ops.add_funds(sessions, OPERATOR, app, amount="80", key=None, now_ms=OCTOBER)
    start = ms("2026-10-31T12:00:00+00:00")
    for step in range(40):
        for n, app in enumerate(("bot-0", "bot-1")):
            source.quantities[app] = {
                OCTOBER: {"billing_sessions": 1000 + 7 * step + n, "voice_sessions": 190 + step}
            }
        post_once(sessions, source, start + step * OLD_INTERVAL, every_ms=OLD_INTERVAL)
    return sessions, source


def _copy_into_0006(source: Engine, target: Engine) -> None:
    """The source's rows in a store at revision 0006 (only the columns that existed)."""
    db.upgrade(target, "0006")
    old, new = MetaData(), MetaData()
    old.reflect(target)
    new.reflect(source)
    with source.connect() as reading, target.begin() as writing:
        for table in reversed(old.sorted_tables):  # what the migrations seeded (the account)
            if table.name != "alembic_version" and writing.scalar(
                select(func.count()).select_from(table)
            ):
                writing.execute(table.delete())
        for table in old.sorted_tables:
            if table.name == "alembic_version":
                continue
            names = [c.name for c in table.columns]
            rows = reading.execute(select(*[new.tables[table.name].c[n] for n in names])).all()
            if rows:
                writing.execute(
                    table.insert(), [dict(zip(names, row, strict=True)) for row in rows]
                )
            if target.dialect.name == "postgresql" and "id" in names and rows:
                writing.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                         f"(SELECT MAX(id) FROM {table.name}))")
                )  # fmt: skip


def _ledger_rows(sessions: Sessions) -> list[tuple[object, ...]]:
    with sessions() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(LedgerEntry.id, LedgerEntry.amount_minor, LedgerEntry.idempotency_key)
            )
        ]


def test_an_old_ledger_upgrades_to_the_same_balances_and_invoices(
    tmp_path: Path, db_url: str
) -> None:
    old_store, source = _old_style_store(tmp_path / "old.db")
    views_before = {v["app_id"]: v for v in ops.subscriptions(old_store, OPERATOR, None, OCTOBER)}
    target = db.create(db_url)
    _copy_into_0006(old_store.kw["bind"], target)
    db.upgrade(target)  # 0006 -> the running balance
    sessions = db.open_store(db_url)
    ledger_before = _ledger_rows(sessions)
    assert len(ledger_before) > 2 * 40  # a usage entry per meter and pass, as it used to be
    with sessions() as session:
        for subscription in session.scalars(select(Subscription)):
            summed = session.scalar(
                select(func.sum(LedgerEntry.amount_minor)).where(
                    LedgerEntry.subscription_id == subscription.id
                )
            )
            assert subscription.balance_minor == summed
            assert subscription.pending_usage_minor == 0
    for view in ops.subscriptions(sessions, OPERATOR, None, OCTOBER):
        assert view["balance"] == views_before[view["app_id"]]["balance"]
    post_once(sessions, source, ms("2026-10-31T12:10:00+00:00"))  # the new rule: nothing owed
    assert _ledger_rows(sessions) == ledger_before  # nothing rewritten, nothing added
    numbers = finalize_due(sessions, ms("2026-11-01T01:00:00+00:00"), SETTINGS)
    for number in numbers:
        invoice = documents.get_invoice(sessions, OPERATOR, number)
        n = int(invoice["app_id"][-1])
        billing, voice = 7 * 39 + n, 190 + 39 - 200  # the last reading, over the included
        assert invoice["total"] == f"{(4900 + billing * 5 + voice * 10) / 100:.2f}"
    assert len(numbers) == 2
    sessions.kw["bind"].dispose()
    old_store.kw["bind"].dispose()
