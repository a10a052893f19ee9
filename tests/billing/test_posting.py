"""Posting usage charges: exact, idempotent, safe from two processes and from SIGKILL."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import db
from billing import operations as ops
from billing.access import OPERATOR
from billing.operations import Sessions
from billing.posting import PeriodQuantities, post_once
from tests.billing.helpers import NOW, ms, seed, starter, subscribe
from tests.billing.poster import NOVEMBER, QUANTITIES

ROOT = Path(__file__).resolve().parents[2]
# starter: 1000 / 200 / 2 included at 0.05 / 0.10 / 15: 234 x 0.05 + 50 x 0.10 + 2 x 15
EXPECTED_CHARGES = {"billing_sessions": "11.70", "voice_sessions": "5.00", "agents": "30.00"}


class Source:
    def __init__(self, readings: list[PeriodQuantities]) -> None:
        self.readings = readings

    def period_quantities(
        self, app_id: str, start_ms: int, end_ms: int, tz: str
    ) -> PeriodQuantities:
        return self.readings.pop(0) if self.readings else {}


def _usage_posted(sessions: Sessions, app: str = "bot-1") -> int:
    return sum(
        int(e["amount"].replace(".", ""))
        for e in ops.ledger(sessions, OPERATOR, app)
        if e["kind"] == "usage"
    )


def test_posting_debits_the_growth_of_each_charge_once_an_hour(sessions: Sessions) -> None:
    seed(sessions)
    subscribe(sessions)
    ops.add_funds(sessions, OPERATOR, "bot-1", amount="100", key=None, now_ms=NOW)
    half = {k: v // 2 + 600 * (k == "billing_sessions") for k, v in QUANTITIES.items()}
    assert post_once(sessions, Source([{NOVEMBER: half}]), NOW).entries == 1  # 1217 sessions
    # the same hour: voice and agents get their first entry, billing sessions wait
    assert post_once(sessions, Source([{NOVEMBER: dict(QUANTITIES)}]), NOW + 15_000).entries == 2
    assert _usage_posted(sessions) == -(1085 + 500 + 3000)  # 217 x 0.05 posted, 17 x 0.05 not
    view = ops.subscriptions(sessions, OPERATOR, "bot-1", NOW + 15_000)[0]
    assert view["charges"] == EXPECTED_CHARGES  # live: what the quantities cost now
    assert view["usage"] == QUANTITIES
    assert view["balance"] == "4.30"  # 100 - 49 - 11.70 - 5.00 - 30.00, before it is posted
    later = NOW + 3_600_000  # the next hour: the rest is posted, once
    assert post_once(sessions, Source([{NOVEMBER: dict(QUANTITIES)}]), later).entries == 1
    assert post_once(sessions, Source([{NOVEMBER: dict(QUANTITIES)}]), later + 1).entries == 0
    assert _usage_posted(sessions) == -(1170 + 500 + 3000)
    assert ops.subscriptions(sessions, OPERATOR, "bot-1", later)[0]["balance"] == "4.30"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 3000), st.integers(0, 400), st.integers(0, 6)),
        min_size=1,
        max_size=6,
    ),
    order=st.randoms(use_true_random=False),
)
def test_readings_in_any_order_repeated_or_split_give_one_balance(
    tmp_path_factory: object, steps: list[tuple[int, int, int]], order: random.Random
) -> None:
    """Quantities only grow; a poster may see them in any order (a stale reading after a
    fresh one), repeated, or split into many postings. The balance is always what the
    largest reading costs."""
    url = f"sqlite:///{tmp_path_factory.mktemp('p') / 'b.db'}"  # type: ignore[attr-defined]
    sessions = db.open_store(url)
    seed(sessions)
    subscribe(sessions)
    grown = [
        {
            "billing_sessions": sum(s[0] for s in steps[: i + 1]),
            "voice_sessions": sum(s[1] for s in steps[: i + 1]),
            "agents": sum(s[2] for s in steps[: i + 1]),
        }
        for i in range(len(steps))
    ]
    readings = [*grown, *order.sample(grown, len(grown))]
    order.shuffle(readings)
    for step, reading in enumerate(readings):  # 15 s apart: some in the same hour
        post_once(sessions, Source([{NOVEMBER: reading}]), NOW + step * 15_000)
    final = grown[-1]
    expected = (
        max(0, final["billing_sessions"] - 1000) * 5
        + max(0, final["voice_sessions"] - 200) * 10
        + max(0, final["agents"] - 2) * 1500
    )
    view = ops.subscriptions(sessions, OPERATOR, "bot-1", NOW + len(readings) * 15_000)[0]
    assert int(view["balance"].replace(".", "")) == -4900 - expected  # live: posted + accrued
    post_once(sessions, Source([]), ms("2026-12-01T00:00:00+00:00"))  # the closing entries
    assert -_usage_posted(sessions) == expected
    sessions.kw["bind"].dispose()


def _poster(url: str, slow: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.billing.poster", url, str(NOW), str(slow)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _many(sessions: Sessions, count: int) -> None:
    seed(sessions)
    for n in range(count):
        subscribe(sessions, f"bot-{n:02}")


def _charged_exactly_once(sessions: Sessions, count: int) -> None:
    for view in ops.subscriptions(sessions, OPERATOR, None, NOW):
        assert view["charges"] == EXPECTED_CHARGES, view["app_id"]
    entries = ops.ledger(sessions, OPERATOR, None)
    assert sum(e["kind"] == "usage" for e in entries) == 3 * count
    assert sum(e["kind"] == "fee" for e in entries) == count


def test_two_posting_processes_at_once_charge_once(db_url: str, sessions: Sessions) -> None:
    _many(sessions, 12)
    posters = [_poster(db_url, 0.01) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in posters]
    assert [p.returncode for p in posters] == [0, 0], [o[1][-2000:] for o in outputs]
    assert sum(int(o[0]) for o in outputs) == 36  # every entry written by exactly one of them
    _charged_exactly_once(sessions, 12)


def test_a_killed_posting_process_loses_and_doubles_nothing(
    db_url: str, sessions: Sessions
) -> None:
    _many(sessions, 12)
    rng = random.Random(7)
    for _ in range(4):
        poster = _poster(db_url, 0.05)
        time.sleep(rng.uniform(0.8, 1.6))  # start-up, then somewhere among the 12 subscriptions
        poster.send_signal(signal.SIGKILL)
        poster.wait(timeout=30)
    finisher = _poster(db_url, 0.0)
    _out, err = finisher.communicate(timeout=120)
    assert finisher.returncode == 0, err[-2000:]
    _charged_exactly_once(sessions, 12)


class Recording(Source):
    def __init__(self, readings: list[PeriodQuantities]) -> None:
        super().__init__(readings)
        self.windows: list[tuple[int, int, str]] = []

    def period_quantities(
        self, app_id: str, start_ms: int, end_ms: int, tz: str
    ) -> PeriodQuantities:
        self.windows.append((start_ms, end_ms, tz))
        return super().period_quantities(app_id, start_ms, end_ms, tz)


def test_a_term_plan_warns_expires_and_stops_charging(sessions: Sessions) -> None:
    seed(sessions)
    ops.add_plan(sessions, OPERATOR, starter("short", term_days=10), NOW)
    subscribe(sessions, plan="short", now_ms=ms("2026-11-02T00:00:00+00:00"))
    ends = ms("2026-11-11T00:00:00+00:00")
    source = Recording([{NOVEMBER: {"billing_sessions": 1100}}, {}])
    post_once(sessions, source, ms("2026-11-08T12:00:00+00:00"))  # 2.5 days left
    assert source.windows[-1] == (NOVEMBER, ends, "UTC")  # usage after ends_at is not charged
    view = ops.subscriptions(sessions, OPERATOR, "bot-1", ms("2026-11-08T12:00:00+00:00"))[0]
    assert (view["status"], view["charges"]["billing_sessions"]) == ("depleted", "5.00")
    assert "expiring" in view["notices"]
    december = ms("2026-12-05T00:00:00+00:00")
    post_once(sessions, source, december)
    assert source.windows[-1] == (NOVEMBER, ends, "UTC")
    view = ops.subscriptions(sessions, OPERATOR, "bot-1", december)[0]
    assert view["status"] == "expired"
    fees = [e for e in ops.ledger(sessions, OPERATOR, "bot-1") if e["kind"] == "fee"]
    assert [f["period_start"] for f in fees] == ["2026-11-01T00:00:00Z"]  # no December fee
    notices = [
        (n["kind"], n["data"].get("days")) for n in ops.notifications(sessions, OPERATOR, "bot-1")
    ]
    assert ("plan.expiring", 3) in notices and ("plan.expired", 0) in notices
    assert ("plan.expiring", 7) not in notices  # first seen 2.5 days before: only the nearest
    post_once(sessions, source, december + 3_600_000)
    assert len(ops.notifications(sessions, OPERATOR, "bot-1")) == len(notices)  # once each
