"""The running balance (migration 0009): ``subscriptions.balance_minor`` is always the sum
of the subscription's ledger entries, whatever order appends, retries, rollbacks and stale
writers come in, and nothing but a ledger insert can move it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from billing import db, ledger
from billing.models import LedgerEntry, Subscription
from billing.operations import Sessions
from tests.billing.helpers import NOW, seed, subscribe
from tests.billing.pg import drop_postgres, fresh_postgres, postgres_or_skip

APPS = ("bot-1", "bot-2", "bot-3")
_examples = itertools.count()  # keys are fresh per example: the store outlives examples

# one step: (what, subscription, amount in minor units, which of a few keys)
STEP = st.tuples(
    st.sampled_from(["commit", "rollback", "stale"]),
    st.integers(0, len(APPS) - 1),
    st.integers(-(10**12), 10**12),
    st.integers(0, 5),  # few keys: duplicates are common
)


def _subscription(session: Session, app: str) -> Subscription:
    return session.scalars(select(Subscription).where(Subscription.app_id == app)).one()


def _append(session: Session, subscription: Subscription, amount: int, key: str) -> bool:
    entry = ledger.append(
        session,
        subscription,
        kind="adjustment",
        amount_minor=amount,
        currency="USD",
        reason="property test",
        key=key,
        now_ms=NOW,
    )
    return entry is not None


def assert_running_equals_sum(sessions: Sessions) -> None:
    with sessions() as session:
        for subscription in session.scalars(select(Subscription)):
            total, newest = session.execute(
                select(
                    func.coalesce(func.sum(LedgerEntry.amount_minor), 0),
                    func.coalesce(func.max(LedgerEntry.id), 0),
                ).where(LedgerEntry.subscription_id == subscription.id)
            ).one()
            assert (subscription.balance_minor, subscription.balance_entry_id) == (total, newest)
            assert ledger.posted_balance(subscription) == total


def apply_step(sessions: Sessions, step: tuple[str, int, int, int], example: int) -> None:
    """``commit``: append and commit; ``rollback``: append, then the transaction dies;
    ``stale``: a writer that read the subscription before someone else's append commits
    its own append and another change of the row: its stale copy must not win."""
    what, index, amount, key_no = step
    app, key = APPS[index], f"p{example}:{key_no}"
    if what == "commit":
        with sessions.begin() as session:
            _append(session, _subscription(session, app), amount, key)
    elif what == "rollback":
        with sessions() as session:
            _append(session, _subscription(session, app), amount, key)
            session.rollback()
    else:
        with sessions() as stale:
            copy = _subscription(stale, app)
            stale.commit()  # the copy stays loaded (SQLite: and the write lock is let go)
            with sessions.begin() as other:
                _append(other, _subscription(other, app), amount, key)
            _append(stale, copy, -amount, f"{key}:stale")
            copy.balance_state = "low" if copy.balance_state == "ok" else "ok"
            stale.commit()


def check_random_sequences(sessions: Sessions, max_examples: int) -> None:
    @settings(max_examples=max_examples, deadline=None, database=None)
    @given(steps=st.lists(STEP, min_size=1, max_size=25))
    def run(steps: list[tuple[str, int, int, int]]) -> None:
        example = next(_examples)
        for step in steps:
            apply_step(sessions, step, example)
            assert_running_equals_sum(sessions)

    run()


@pytest.fixture
def store(db_url: str) -> Iterator[Sessions]:
    sessions = db.open_store(db_url)
    seed(sessions)
    for app in APPS:
        subscribe(sessions, app)
    yield sessions
    sessions.kw["bind"].dispose()


def test_running_balance_is_the_ledger_sum_after_every_step(store: Sessions, db_url: str) -> None:
    check_random_sequences(store, 150 if db_url.startswith("sqlite") else 25)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE subscriptions SET balance_minor = balance_minor + 1",
        "UPDATE subscriptions SET balance_entry_id = balance_entry_id + 1",
        # a real entry's id and amount, but another subscription's: not its fold
        "UPDATE subscriptions SET balance_minor = balance_minor + (SELECT amount_minor FROM "
        "ledger_entries WHERE id = (SELECT MAX(id) FROM ledger_entries)), balance_entry_id = "
        "(SELECT MAX(id) FROM ledger_entries) WHERE app_id = 'bot-3'",
    ],
    ids=["balance", "entry-id", "borrowed-entry"],
)
def test_only_a_ledger_insert_moves_the_running_balance(store: Sessions, statement: str) -> None:
    with store.begin() as session:
        subscription = _subscription(session, "bot-1")
        before = subscription.balance_minor  # its first period's fee
        _append(session, subscription, 12_345, "guard:1")
    with store() as session, pytest.raises(DBAPIError, match="changes only with a ledger entry"):
        session.execute(text(statement))
        session.commit()
    with store() as session, pytest.raises(DBAPIError, match="changes only with a ledger entry"):
        _subscription(session, "bot-2").balance_minor = 10**9  # the ORM is refused alike
        session.commit()
    assert_running_equals_sum(store)
    with store() as session:
        assert _subscription(session, "bot-1").balance_minor == before + 12_345


def _copy_of_bot_1(app: str, balance_minor: int) -> str:
    """SQL inserting a copy of bot-1's row as ``app``, with no entries and this balance."""
    names = [c.name for c in Subscription.__table__.columns if c.name != "id"]
    given_values = {"app_id": f"'{app}'", "balance_minor": str(balance_minor)}
    given_values["balance_entry_id"] = "0"
    values = ", ".join(given_values.get(name, name) for name in names)
    return (
        f"INSERT INTO subscriptions ({', '.join(names)}) SELECT {values} "
        "FROM subscriptions WHERE app_id = 'bot-1'"
    )


def test_a_subscription_starts_at_zero(store: Sessions) -> None:
    with store() as session, pytest.raises(DBAPIError, match="changes only with a ledger entry"):
        session.execute(text(_copy_of_bot_1("bot-9", 500)))  # funded without an entry
        session.commit()
    with store.begin() as session:  # the same copy with nothing of its own is fine
        session.execute(text(_copy_of_bot_1("bot-9", 0)))
    assert_running_equals_sum(store)


def test_racing_appends_on_postgres_keep_the_sum() -> None:
    """Real concurrency (PostgreSQL): writers append to one subscription at once, with
    colliding keys and without the posting loop's row lock; the fold's atomic UPDATE
    serialises them and a key's loser rolls back whole."""
    postgres_or_skip()
    url, name = fresh_postgres()
    sessions = db.open_store(url)
    try:
        seed(sessions)
        subscribe(sessions, "bot-1")
        winners = _race(sessions, writers=8, keys=40)
        with sessions() as session:
            entries = session.scalars(
                select(LedgerEntry.amount_minor).where(LedgerEntry.kind == "adjustment")
            ).all()
        assert len(entries) == 40 and sorted(entries) == sorted(winners.values())
        assert_running_equals_sum(sessions)
    finally:
        sessions.kw["bind"].dispose()
        drop_postgres(name)


def _race(sessions: Sessions, *, writers: int, keys: int) -> dict[str, int]:
    """Each writer appends every key (its own amount); returns the amount that won each."""
    start = threading.Barrier(writers)

    def writer(number: int, won: dict[str, int]) -> None:
        start.wait()
        for key_no in range(keys):
            key, amount = f"race:{key_no}", 1000 * key_no + number + 1
            try:
                with sessions.begin() as session:
                    if _append(session, _subscription(session, "bot-1"), amount, key):
                        won[key] = amount  # kept only if the commit below succeeds
            except IntegrityError:
                won.pop(key, None)  # a concurrent writer committed the key first

    results: list[dict[str, int]] = [{} for _ in range(writers)]
    threads = [threading.Thread(target=writer, args=pair) for pair in enumerate(results)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners: dict[str, int] = {}
    for won in results:
        assert not winners.keys() & won.keys()  # no key won twice
        winners.update(won)
    return winners
