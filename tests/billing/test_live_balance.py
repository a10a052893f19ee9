"""The live balance: usage is read every posting interval but written to the ledger at most
once an hour per meter; balance, status and the balance notices follow the reading at once,
and the period's closing entry makes its invoice exact."""

from __future__ import annotations

from billing import documents
from billing import operations as ops
from billing.access import OPERATOR
from billing.finalize import finalize_due
from billing.operations import Sessions
from billing.posting import post_once
from tests.billing.helpers import NOW, ms, seed, subscribe
from tests.billing.invoices_helpers import NOVEMBER, SETTINGS, Source

INTERVAL = 15_000  # BILLING_POST_INTERVAL's default


def _usage_entries(sessions: Sessions) -> list[dict[str, str]]:
    return [e for e in ops.ledger(sessions, OPERATOR, "bot-1") if e["kind"] == "usage"]


def _balance_notices(sessions: Sessions) -> list[str]:
    kinds = [n["kind"] for n in reversed(ops.notifications(sessions, OPERATOR, "bot-1"))]
    return [kind for kind in kinds if kind.startswith("balance.")]


def _reading(source: Source, billing_sessions: int) -> None:
    source.quantities["bot-1"] = {NOVEMBER: {"billing_sessions": billing_sessions}}


def test_a_burst_between_hourly_posts_is_noticed_within_an_interval_once(
    sessions: Sessions,
) -> None:
    seed(sessions)
    subscribe(sessions, low_balance="20.00")
    ops.add_funds(sessions, OPERATOR, "bot-1", amount="100", key=None, now_ms=NOW)  # 51.00
    source = Source()
    _reading(source, 1010)  # 10 over the included 1000: 0.50
    before = _balance_notices(sessions)  # the fee's depleted, the top-up's recovered
    post_once(sessions, source, NOW)
    assert len(_usage_entries(sessions)) == 1 and _balance_notices(sessions) == before
    _reading(source, 1700)  # a burst: 35.00 in all, 16.00 left, under the 20.00 threshold
    post_once(sessions, source, NOW + INTERVAL)
    view = ops.subscriptions(sessions, OPERATOR, "bot-1", NOW + INTERVAL)[0]
    assert (view["balance"], view["status"]) == ("16.00", "low")
    assert len(_usage_entries(sessions)) == 1  # not written yet: this hour has its entry
    assert _balance_notices(sessions) == [*before, "balance.low"]
    for step in range(2, 6):  # the same reading again and again: nothing new
        post_once(sessions, source, NOW + step * INTERVAL)
    assert _balance_notices(sessions) == [*before, "balance.low"]
    _reading(source, 2100)  # 55.00 in all: below zero
    post_once(sessions, source, NOW + 6 * INTERVAL)
    assert _balance_notices(sessions) == [*before, "balance.low", "balance.depleted"]
    assert ops.subscriptions(sessions, OPERATOR, "bot-1", NOW)[0]["balance"] == "-4.00"
    next_hour = NOW + 3_600_000
    post_once(sessions, source, next_hour)  # the hour's entry: posted, nothing re-notified
    post_once(sessions, source, next_hour + INTERVAL)
    assert [e["amount"] for e in _usage_entries(sessions)] == ["-0.50", "-54.50"]
    assert _balance_notices(sessions) == [*before, "balance.low", "balance.depleted"]
    assert ops.subscriptions(sessions, OPERATOR, "bot-1", next_hour)[0]["balance"] == "-4.00"


def test_busy_hours_are_a_few_entries_an_hour_not_hundreds(sessions: Sessions) -> None:
    seed(sessions)
    subscribe(sessions)
    source = Source()
    hours, every = 4, 30_000  # the posting interval at its longest
    per_hour = 3_600_000 // every
    for step in range(hours * per_hour):  # usage grows every pass, on every meter
        source.quantities["bot-1"] = {
            NOVEMBER: {"billing_sessions": 1000 + step, "voice_sessions": 200 + step, "agents": 3}
        }
        post_once(sessions, source, NOW + step * every)
    entries = _usage_entries(sessions)
    assert len(entries) == hours * 2 + 1  # two growing meters each hour, agents once
    posted = -sum(int(e["amount"].replace(".", "")) for e in entries)
    last = hours * per_hour - 1
    owed = last * 5 + last * 10 + 1500  # what the last reading costs, in cents
    last_hour_pending = (per_hour - 1) * (5 + 10)  # read in the last hour after its entry
    assert posted == owed - last_hour_pending
    view = ops.subscriptions(sessions, OPERATOR, "bot-1", NOW + last * every)[0]
    assert int(view["balance"].replace(".", "")) == -4900 - owed  # live: nothing missing


def test_the_closing_entry_makes_the_invoice_exact_without_a_posting_pass(
    sessions: Sessions,
) -> None:
    seed(sessions)
    subscribe(sessions)
    source = Source()
    source.quantities["bot-1"] = {NOVEMBER: {"billing_sessions": 1100, "voice_sessions": 250}}
    post_once(sessions, source, ms("2026-11-30T23:00:00+00:00"))
    source.quantities["bot-1"] = {NOVEMBER: {"billing_sessions": 1234, "voice_sessions": 300}}
    post_once(sessions, source, ms("2026-11-30T23:59:45+00:00"))  # read, not yet posted
    assert len(_usage_entries(sessions)) == 2
    [number] = finalize_due(sessions, ms("2026-12-01T01:00:00+00:00"), SETTINGS)
    invoice = documents.get_invoice(sessions, OPERATOR, number)
    lines = {line["description"]: line["amount"] for line in invoice["lines"]}
    assert (lines["Billing sessions (Starter)"], lines["Voice sessions (Starter)"]) == (
        "11.70",
        "10.00",
    )
    assert invoice["total"] == "70.70"  # 49.00 + 234 x 0.05 + 100 x 0.10
    amounts = sorted(e["amount"] for e in _usage_entries(sessions))
    assert amounts == ["-5.00", "-5.00", "-5.00", "-6.70"]  # the closing two: the rest, once


def test_finalizing_writes_no_entry_for_the_running_period(sessions: Sessions) -> None:
    seed(sessions)
    subscribe(sessions)
    source = Source()
    december = ms("2026-12-01T00:00:00+00:00")
    source.quantities["bot-1"] = {
        NOVEMBER: {"billing_sessions": 1100},
        december: {"billing_sessions": 1010},
    }
    post_once(sessions, source, december + 600_000)  # November closes, December's first entry
    source.quantities["bot-1"][december] = {"billing_sessions": 1050}
    post_once(sessions, source, december + 1_200_000)  # read: 2.00 pending till 01:00
    before = _usage_entries(sessions)
    assert finalize_due(sessions, december + 3_600_000, SETTINGS) != []
    assert _usage_entries(sessions) == before  # the hourly entry is the posting loop's
    view = ops.subscriptions(sessions, OPERATOR, "bot-1", december + 3_600_000)[0]
    assert view["balance"] == "-105.50"  # 2 x 49.00 fees, 5.00 November, 2.50 December
