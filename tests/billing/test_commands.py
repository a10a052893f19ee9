"""Subscription commands on SQLite and PostgreSQL: each refusal changes nothing, and
every accepted command leaves the ledger, orders and notifications it should."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from billing import operations as ops
from billing import plan_operations as plan_ops
from billing.access import OPERATOR
from billing.catalog import Revision
from billing.errors import BillingError
from billing.operations import Sessions
from tests.billing.helpers import NOW, ms, seed, snapshot, subscribe


def kinds(sessions: Sessions, app: str = "bot-1") -> list[str]:
    return [n["kind"] for n in reversed(ops.notifications(sessions, OPERATOR, app))]


def balance(sessions: Sessions, app: str = "bot-1", now: int = NOW) -> dict[str, Any]:
    return ops.subscriptions(sessions, OPERATOR, app, now)[0]


REFUSALS: list[tuple[str, int, Callable[[Sessions, Any], object]]] = [
    ("unknown plan", 404, lambda s, _a: subscribe(s, "bot-2", plan="nope")),
    (
        "unknown app",
        404,
        lambda s, _a: ops.add_funds(s, OPERATOR, "nope", amount="5", key=None, now_ms=NOW),
    ),
    (
        "negative amount",
        400,
        lambda s, _a: ops.add_funds(s, OPERATOR, "bot-1", amount="-5", key=None, now_ms=NOW),
    ),
    (
        "zero amount",
        400,
        lambda s, _a: ops.add_funds(s, OPERATOR, "bot-1", amount="0.00", key=None, now_ms=NOW),
    ),
    (
        "too precise",
        400,
        lambda s, _a: ops.add_funds(s, OPERATOR, "bot-1", amount="1.001", key=None, now_ms=NOW),
    ),
    ("currency mismatch", 409, lambda s, _a: ops.change_plan(s, OPERATOR, "bot-1", "euro", NOW)),
    ("second subscription", 409, lambda s, _a: subscribe(s, "bot-1", plan="pro")),
    (
        "extension without a term",
        409,
        lambda s, _a: ops.request_extension(s, OPERATOR, "bot-1", days=5, reason="", now_ms=NOW),
    ),
    (
        "member",
        403,
        lambda s, a: ops.add_funds(s, a["bob"], "bot-1", amount="5", key=None, now_ms=NOW),
    ),
    ("member reads", 403, lambda s, a: ops.subscriptions(s, a["bob"], None, NOW)),
    (
        "other owner",  # another's app answers like an unknown one
        404,
        lambda s, a: ops.add_funds(s, a["carol"], "bot-1", amount="5", key=None, now_ms=NOW),
    ),
    (
        "owner changes owner",
        403,
        lambda s, a: ops.change_owner(s, a["alice"], "bot-1", "carol", NOW),
    ),
    ("unknown user", 404, lambda s, _a: ops.change_owner(s, OPERATOR, "bot-1", "zed", NOW)),
    ("same plan", 409, lambda s, _a: ops.change_plan(s, OPERATOR, "bot-1", "starter", NOW)),
    ("nothing to cancel", 409, lambda s, _a: ops.cancel_change(s, OPERATOR, "bot-1", NOW)),
    ("bad zone", 400, lambda s, _a: subscribe(s, "bot-3", tz="Mars/Base")),
    ("member as owner", 400, lambda s, _a: subscribe(s, "bot-4", owner="bob")),
]


@pytest.mark.parametrize(("name", "status", "call"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_change_nothing(
    sessions: Sessions, name: str, status: int, call: Callable[[Sessions, Any], object]
) -> None:
    actors = seed(sessions).actors
    subscribe(sessions)
    before = snapshot(sessions)
    with pytest.raises(BillingError) as refused:
        call(sessions, actors)
    assert refused.value.status == status, (name, str(refused.value))
    assert snapshot(sessions) == before


def test_approving_twice_is_refused(sessions: Sessions) -> None:
    seed(sessions)
    subscribe(sessions, plan="trial")
    ext = ops.request_extension(sessions, OPERATOR, "bot-1", days=10, reason="pilot", now_ms=NOW)
    decided = ops.decide_extension(sessions, OPERATOR, ext["id"], approve=True, now_ms=NOW)
    assert decided["subscription"]["ends_at"] == "2026-12-11T00:00:00Z"  # Nov 1 + 30 + 10 days
    before = snapshot(sessions)
    with pytest.raises(BillingError, match="already approved") as refused:
        ops.decide_extension(sessions, OPERATOR, ext["id"], approve=False, now_ms=NOW)
    assert refused.value.status == 409
    assert snapshot(sessions) == before
    assert kinds(sessions)[-2:] == ["extension.requested", "extension.approved"]


def test_funds_are_idempotent_by_key(sessions: Sessions) -> None:
    seed(sessions)
    subscribe(sessions)
    first = ops.add_funds(sessions, OPERATOR, "bot-1", amount="100.00", key="k1", now_ms=NOW)
    again = ops.add_funds(sessions, OPERATOR, "bot-1", amount="100.00", key="k1", now_ms=NOW)
    assert again["id"] == first["id"]
    assert balance(sessions)["balance"] == "51.00"  # 100.00 - 49.00 fee
    with pytest.raises(BillingError, match="different amount"):
        ops.add_funds(sessions, OPERATOR, "bot-1", amount="5.00", key="k1", now_ms=NOW)


def test_upgrade_prorates_by_seconds_and_applies_to_the_whole_period(sessions: Sessions) -> None:
    seed(sessions)
    subscribe(sessions, tz="Asia/Kolkata")
    ops.add_funds(sessions, OPERATOR, "bot-1", amount="200", key=None, now_ms=NOW)
    order = ops.change_plan(sessions, OPERATOR, "bot-1", "pro", NOW)
    # the rest of November (IST) after 17:30 IST on the 15th: 1,319,400 s of 2,592,000 s
    assert order["amount"] == "25.45"
    after = order["subscription"]
    assert (after["plan"], after["balance"]) == ("pro", "125.55")  # 200 - 49 - 25.45
    assert after["included"]["billing_sessions"] == 5000
    assert "plan.changed" in kinds(sessions)


def test_downgrade_waits_for_the_next_period_and_can_be_cancelled(sessions: Sessions) -> None:
    seed(sessions)
    subscribe(sessions, plan="pro")
    scheduled = ops.change_plan(sessions, OPERATOR, "bot-1", "starter", NOW)
    assert scheduled["status"] == "scheduled"
    assert scheduled["detail"]["effective"] == "2026-12-01T00:00:00Z"
    assert balance(sessions)["notices"][-1] == "downgrade scheduled"
    assert ops.cancel_change(sessions, OPERATOR, "bot-1", NOW)["status"] == "cancelled"
    assert balance(sessions)["pending_plan"] is None
    ops.change_plan(sessions, OPERATOR, "bot-1", "starter", NOW)
    december = ms("2026-12-02T00:00:00+00:00")
    ops.add_funds(sessions, OPERATOR, "bot-1", amount="1", key=None, now_ms=december)  # rolls
    view = balance(sessions, now=december)
    assert (view["plan"], view["pending_plan"]) == ("starter", None)
    fees = [e["amount"] for e in ops.ledger(sessions, OPERATOR, "bot-1") if e["kind"] == "fee"]
    assert fees == ["-99.00", "-49.00"]
    assert kinds(sessions).count("plan.changed") == 1


def test_owner_change_is_audited_and_moves_visibility(sessions: Sessions) -> None:
    actors = seed(sessions).actors
    subscribe(sessions)
    assert [s["app_id"] for s in ops.subscriptions(sessions, actors["alice"], None, NOW)] == [
        "bot-1"
    ]
    change = ops.change_owner(sessions, actors["root"], "bot-1", "carol", NOW)
    assert (change["from"], change["to"], change["changed_by"]) == ("alice", "carol", "root")
    assert ops.subscriptions(sessions, actors["alice"], None, NOW) == []
    assert ops.subscriptions(sessions, actors["carol"], None, NOW)[0]["owner"] == "carol"
    assert kinds(sessions)[-1] == "owner.changed"


def test_balance_notifications_once_per_occurrence(sessions: Sessions) -> None:
    seed(sessions)
    subscribe(sessions, low_balance="20.00")  # the 49.00 fee: depleted at once
    ops.add_funds(sessions, OPERATOR, "bot-1", amount="60", key=None, now_ms=NOW)  # 11.00: low
    ops.add_funds(sessions, OPERATOR, "bot-1", amount="5", key=None, now_ms=NOW)  # 16.00: low
    ops.add_funds(sessions, OPERATOR, "bot-1", amount="10", key=None, now_ms=NOW)  # 26.00: ok
    assert kinds(sessions) == ["balance.depleted", "balance.recovered"]
    assert balance(sessions)["status"] == "active"


def test_enterprise_has_no_balance_but_an_amount_due(sessions: Sessions) -> None:
    seed(sessions)
    view = subscribe(sessions, plan="corp")
    assert (view["balance"], view["amount_due"], view["status"]) == (None, "1000.00", "active")
    with pytest.raises(BillingError, match="enterprise") as refused:
        ops.add_funds(sessions, OPERATOR, "bot-1", amount="5", key=None, now_ms=NOW)
    assert refused.value.status == 409


def test_plan_versions(sessions: Sessions) -> None:
    seed(sessions)
    subscribe(sessions)
    v2 = plan_ops.revise_plan(sessions, OPERATOR, "starter", Revision(fee="59.00"), NOW)
    assert v2["version"] == 2
    assert balance(sessions)["plan_version"] == 1  # keeps its version until it changes plan
    assert [p["version"] for p in ops.list_plans(sessions, OPERATOR) if p["code"] == "starter"] == [
        1,
        2,
    ]
