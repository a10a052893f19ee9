"""The dispatcher: de-duplication, stream time, lateness, forgetting, sweeps (SPEC 2, 2a, 4)."""

from __future__ import annotations

from pipeline.core.config import HOUR_MS, MINUTE_MS, MeterConfig
from pipeline.core.counts import Counts
from pipeline.core.meter import Event, Outcome, apply_event, sweep
from pipeline.core.state import PartitionState
from tests.factories import T0, alert, at, turn

CFG = MeterConfig()
NOW = T0 + 400 * 24 * HOUR_MS  # a processing clock far ahead: no capping


def run(
    events: list[Event],
    cfg: MeterConfig = CFG,
    part: PartitionState | None = None,
    now_ms: int = NOW,
) -> list[Outcome]:
    part = PartitionState() if part is None else part
    return [apply_event(part, event, now_ms, cfg) for event in events]


def ids(outcomes: list[Outcome]) -> list[str]:
    return [s.session_id for o in outcomes for s in o.sessions]


def test_duplicate_event_changes_nothing() -> None:
    part = PartitionState()
    run([turn("e1", 0), turn("e2", 10)], part=part)
    before = dict(part.conversations)
    outcome = apply_event(part, turn("e1", 30), NOW, CFG)
    assert outcome.duplicate
    assert outcome.sessions == ()
    assert part.conversations == before


def test_redelivered_old_event_never_opens_a_new_segment() -> None:
    outcomes = run([turn("e1", 0), turn("e2", 1, ends=True), turn("e1", 0), turn("e2", 1)])
    assert [o.duplicate for o in outcomes] == [False, False, True, True]
    assert ids(outcomes) == [f"app-1/c-1/0@{T0}/usage/0"]


def test_duplicates_are_remembered_across_segments_until_forgotten() -> None:
    outcomes = run([turn("e1", 0), turn("e2", 100), turn("e1", 200)])
    assert [o.duplicate for o in outcomes] == [False, False, True]


def test_same_event_id_in_another_conversation_is_not_a_duplicate() -> None:
    outcomes = run([turn("e1", 0), turn("e1", 0, conv="c-2")])
    assert [o.duplicate for o in outcomes] == [False, False]


def test_a_forgotten_conversation_starts_afresh_with_new_ids() -> None:
    cfg = MeterConfig(state_retention_ms=60 * MINUTE_MS)
    outcomes = run([turn("e1", 0), turn("e1", 61)], cfg)
    assert not outcomes[1].duplicate
    assert ids(outcomes) == [f"app-1/c-1/0@{at(0)}/usage/0", f"app-1/c-1/0@{at(61)}/usage/0"]


def test_forgetting_follows_the_partitions_stream_time_not_the_event() -> None:
    """Another conversation moves stream time; c-1's next event then finds it forgotten."""
    cfg = MeterConfig(state_retention_ms=60 * MINUTE_MS)
    outcomes = run([turn("e1", 0), turn("x", 70, conv="c-2"), turn("e2", 14)], cfg)
    assert [o.late for o in outcomes] == [False, False, False]  # 56 min behind: not late
    assert ids(outcomes)[-1] == f"app-1/c-1/0@{at(14)}/usage/0"  # afresh, unclamped


def test_an_event_more_than_retention_behind_stream_time_is_late() -> None:
    part = PartitionState()
    outcomes = run([turn("e1", 25 * 60), turn("e2", 0, conv="c-2")], part=part)
    assert outcomes[1].late and not outcomes[1].sessions
    assert "app-1\x1fc-2" not in part.conversations
    counts = Counts()
    for outcome in outcomes:
        if outcome.late:
            counts.events["conversation-turns", "late"] += 1
        else:
            counts.outcome("conversation-turns", outcome)
    tally = counts.tally()
    assert (tally.accepted, tally.late) == (1, 1)


def test_stream_time_never_passes_the_processing_clock() -> None:
    part = PartitionState()
    now = at(0)
    run([turn("e1", 23 * 60)], part=part, now_ms=now)  # 23 h in the future: valid
    assert part.conversation_stream_ms == now
    later = run([turn("e2", -23 * 60, conv="c-2")], part=part, now_ms=now)
    assert not later[0].late  # 23 h behind the clock, within retention of stream time


def test_alerts_have_their_own_stream_time() -> None:
    part = PartitionState()
    run([turn("e1", 48 * 60), alert("d1", 0)], part=part)
    assert part.alert_stream_ms == at(0)
    assert part.conversation_stream_ms == at(48 * 60)


def test_sweep_reports_idle_segments_once_and_frees_only_forgotten_state() -> None:
    cfg = MeterConfig(state_retention_ms=60 * MINUTE_MS)
    part = PartitionState()
    run([turn("e1", 0), turn("e2", 5), alert("d1", 0)], cfg, part)
    assert sweep(part, cfg) == []
    run([turn("z", 20.001, conv="c-9")], cfg, part)  # moves stream time
    closed = sweep(part, cfg)
    assert [(s.cause, s.bot_ms) for s in closed] == [("idle", 5 * MINUTE_MS)]
    assert sweep(part, cfg) == []  # reported once
    run([turn("z2", 65.001, conv="c-9")], cfg, part)
    sweep(part, cfg)
    assert set(part.conversations) == {"app-1\x1fc-9"}
    assert set(part.seen) == {"app-1\x1fc-9"}
    assert len(part.alerts) == 1  # alerts: 24 h horizon of their own stream time


def test_sweeping_at_any_time_never_changes_an_outcome() -> None:
    cfg = MeterConfig(state_retention_ms=60 * MINUTE_MS)
    events: list[Event] = [
        turn("e1", 0),
        turn("e2", 10),
        turn("x", 75, conv="c-2"),
        turn("e2", 10),
        turn("e3", 16),
        turn("e4", 130),
        alert("d1", 0),
        alert("d1", 30),
    ]
    plain = run(events, cfg)
    part = PartitionState()
    swept: list[Outcome] = []
    for event in events:
        swept += run([event], cfg, part)
        sweep(part, cfg)
    assert [(o.duplicate, o.late, o.sessions) for o in swept] == [
        (o.duplicate, o.late, o.sessions) for o in plain
    ]


def test_tally() -> None:
    counts = Counts()
    for outcome in run([turn("e1", 0), turn("e1", 0), alert("d1", 0), turn("e2", 20)]):
        counts.outcome("conversation-turns", outcome)
    counts.events["conversation-turns", "invalid"] += 1
    tally = counts.tally()
    assert (tally.events, tally.accepted, tally.duplicates, tally.invalid) == (5, 3, 1, 1)
    assert tally.sessions == {"usage": 2, "voice": 0, "alert": 1}
