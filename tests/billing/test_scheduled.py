"""Future-dated subscriptions (issue #23 item 3) on SQLite and PostgreSQL: ``scheduled``
until the start, no fee and no balance notice before it, its first fee at the start."""

from __future__ import annotations

from typing import Any

from billing import operations as ops
from billing.access import OPERATOR
from billing.operations import Sessions
from billing.posting import PeriodQuantities, post_once
from tests.billing.helpers import NOW, ms, seed, subscribe

MARCH = ms("2027-03-01T00:00:00+00:00")


class Fixed:
    """A usage source that answers the same reading for every window it is asked."""

    def __init__(self, reading: PeriodQuantities) -> None:
        self.reading = reading
        self.asked: list[tuple[int, int]] = []

    def period_quantities(
        self, app_id: str, start_ms: int, end_ms: int, tz: str
    ) -> PeriodQuantities:
        self.asked.append((start_ms, end_ms))
        return {k: v for k, v in self.reading.items() if start_ms <= k < end_ms}


def view(sessions: Sessions, now: int, app: str = "bot-1") -> dict[str, Any]:
    return ops.subscriptions(sessions, OPERATOR, app, now)[0]


def entries(sessions: Sessions, kind: str) -> list[dict[str, Any]]:
    return [e for e in ops.ledger(sessions, OPERATOR, "bot-1") if e["kind"] == kind]


def notices(sessions: Sessions) -> list[str]:
    return [n["kind"] for n in reversed(ops.notifications(sessions, OPERATOR, "bot-1"))]


def test_scheduled_until_the_start_then_charged_from_it(sessions: Sessions) -> None:
    seed(sessions)
    first = subscribe(sessions, start="2027-03-01", low_balance="20.00")
    assert (first["status"], first["notices"], first["balance"]) == (
        "scheduled",
        ["scheduled"],
        "0.00",
    )
    assert (first["starts_at"], first["starts_on"]) == ("2027-03-01T00:00:00Z", "2027-03-01")
    assert first["period_start"] == "2027-03-01T00:00:00Z"  # its first period, not November's
    funded = ops.add_funds(sessions, OPERATOR, "bot-1", amount="10.00", key=None, now_ms=NOW)
    assert funded["subscription"]["status"] == "scheduled"  # not "active" for November
    source = Fixed({MARCH: {"billing_sessions": 1500}})
    post_once(sessions, source, ms("2027-02-28T23:59:59+00:00"))
    assert source.asked == []  # no usage is read, nor charged, before the start
    assert entries(sessions, "fee") == [] and notices(sessions) == []
    post_once(sessions, source, MARCH + 3_600_000)
    assert [f["period_start"] for f in entries(sessions, "fee")] == ["2027-03-01T00:00:00Z"]
    started = view(sessions, MARCH + 3_600_000)
    assert started["status"] == "depleted"  # 10.00 - 49.00 fee - 25.00 usage
    assert started["balance"] == "-64.00"
    assert notices(sessions) == ["balance.depleted"]  # told once, when the fee is charged


def test_enterprise_and_term_plans_wait_for_the_start_too(sessions: Sessions) -> None:
    seed(sessions)
    corp = subscribe(sessions, "bot-1", plan="corp", start="2027-03-01", tz="Asia/Kolkata")
    assert (corp["status"], corp["amount_due"]) == ("scheduled", "0.00")
    assert corp["starts_at"] == "2027-03-01T00:00:00+05:30"
    trial = subscribe(sessions, "bot-2", plan="trial", start="2027-03-01")
    assert trial["ends_at"] == "2027-03-31T00:00:00Z"  # the term runs from the start
    assert view(sessions, ms("2027-03-25T00:00:00+00:00"), "bot-2")["status"] == "expiring"


def test_a_plan_chosen_before_the_start_replaces_the_first_one(sessions: Sessions) -> None:
    seed(sessions)
    subscribe(sessions, start="2027-03-01")
    preview = ops.preview_change(sessions, OPERATOR, "bot-1", "pro", NOW)
    assert (preview["kind"], preview["proration"]) == ("replace", None)
    order = ops.change_plan(sessions, OPERATOR, "bot-1", "pro", NOW)
    assert (order["status"], order["amount"]) == ("done", "0.00")
    assert ops.ledger(sessions, OPERATOR, "bot-1") == []  # nothing to prorate
    after = order["subscription"]
    assert (after["plan"], after["status"], after["pending_plan"]) == ("pro", "scheduled", None)
    post_once(sessions, Fixed({}), MARCH)
    assert [f["amount"] for f in entries(sessions, "fee")] == ["-99.00"]  # pro's fee
