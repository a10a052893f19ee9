"""Alert sessions and their de-duplication (SPEC sections 3 and 4)."""

from __future__ import annotations

from pipeline.core.alerts import step_alert
from pipeline.core.config import HOUR_MS, MeterConfig
from pipeline.core.meter import apply_event
from pipeline.core.state import PartitionState
from tests.factories import T0, alert

CFG = MeterConfig()
NOW = T0 + 400 * 24 * HOUR_MS


def test_report_every_8_hours_is_3_alert_sessions_a_day() -> None:
    part = PartitionState()
    opened = [apply_event(part, alert(f"d{n}", n * 480), NOW, CFG).sessions for n in range(3)]
    assert [s.session_id for sessions in opened for s in sessions] == [
        "app-1/alert/d0",
        "app-1/alert/d1",
        "app-1/alert/d2",
    ]


def test_repeat_within_horizon_is_a_duplicate() -> None:
    first = step_alert(None, alert("d1", 0), CFG)
    assert first.session is not None
    assert not first.duplicate
    again = step_alert(first.seen_at_ms, alert("d1", 23 * 60), CFG)
    assert again.duplicate
    assert again.session is None
    earlier = step_alert(first.seen_at_ms, alert("d1", -23 * 60), CFG)
    assert earlier.duplicate


def test_repeat_beyond_horizon_is_a_new_delivery() -> None:
    first = step_alert(None, alert("d1", 0), CFG)
    later = step_alert(first.seen_at_ms, alert("d1", 24 * 60), CFG)
    assert not later.duplicate
    assert later.seen_at_ms == first.seen_at_ms + 24 * HOUR_MS


def test_same_delivery_id_in_two_apps_is_two_sessions() -> None:
    part = PartitionState()
    a = apply_event(part, alert("d1", 0, app="a"), NOW, CFG)
    b = apply_event(part, alert("d1", 0, app="b"), NOW, CFG)
    assert not a.duplicate
    assert not b.duplicate
