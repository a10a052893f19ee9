"""The dispatcher: event-id de-duplication, retention, sweeps (SPEC sections 2 and 4)."""

from __future__ import annotations

from pipeline.core.config import MINUTE_MS, MeterConfig
from pipeline.core.meter import Event, Outcome, Stores, Tally, apply_event, sweep
from tests.factories import T0, alert, at, turn

CFG = MeterConfig()


def run(events: list[Event], cfg: MeterConfig = CFG, stores: Stores | None = None) -> list[Outcome]:
    stores = Stores() if stores is None else stores
    return [apply_event(event, stores, cfg) for event in events]


def ids(outcomes: list[Outcome]) -> list[str]:
    return [s.session_id for o in outcomes for s in o.sessions]


def test_duplicate_event_changes_nothing() -> None:
    stores = Stores()
    run([turn("e1", 0), turn("e2", 10)], stores=stores)
    before = dict(stores.conversations)
    outcome = apply_event(turn("e1", 30), stores, CFG)
    assert outcome.duplicate
    assert outcome.sessions == ()
    assert stores.conversations == before


def test_redelivered_old_event_never_opens_a_new_segment() -> None:
    outcomes = run([turn("e1", 0), turn("e2", 1, ends=True), turn("e1", 0), turn("e2", 1)])
    assert [o.duplicate for o in outcomes] == [False, False, True, True]
    assert ids(outcomes) == ["app-1/c-1/0/usage/0"]


def test_duplicates_are_remembered_across_segments_within_retention() -> None:
    outcomes = run([turn("e1", 0), turn("e2", 100), turn("e1", 200)])
    assert [o.duplicate for o in outcomes] == [False, False, True]


def test_same_event_id_in_another_conversation_is_not_a_duplicate() -> None:
    outcomes = run([turn("e1", 0), turn("e1", 0, conv="c-2")])
    assert [o.duplicate for o in outcomes] == [False, False]


def test_state_and_ids_expire_after_retention() -> None:
    cfg = MeterConfig(state_retention_ms=60 * MINUTE_MS)
    outcomes = run([turn("e1", 0), turn("e1", 61)], cfg)
    assert not outcomes[1].duplicate
    assert ids(outcomes) == ["app-1/c-1/0/usage/0", "app-1/c-1/0/usage/0"]
    assert {s.opened_at_ms for o in outcomes for s in o.sessions} == {at(0), at(61)}


def test_sweep_closes_idle_conversations_once_and_evicts_after_grace() -> None:
    cfg = MeterConfig(state_retention_ms=60 * MINUTE_MS, eviction_grace_ms=10 * MINUTE_MS)
    stores = Stores()
    run([turn("e1", 0), turn("e2", 5), alert("d1", 0)], cfg, stores)
    assert sweep(stores, at(20), cfg) == []  # 15 min idle exactly: still open
    closed = sweep(stores, at(20.001), cfg)
    assert [(s.cause, s.bot_ms) for s in closed] == [("idle", 5 * MINUTE_MS)]
    assert sweep(stores, at(30), cfg) == []  # closed once
    assert len(stores.conversations) == 1
    sweep(stores, at(75.001), cfg)
    assert (len(stores.conversations), len(stores.seen)) == (0, 0)
    assert len(stores.alerts) == 1  # alerts: 24 h horizon
    sweep(stores, T0 + cfg.alert_dedup_horizon_ms + cfg.eviction_grace_ms + 1, cfg)
    assert len(stores.alerts) == 0


def test_sweep_timing_does_not_change_sessions() -> None:
    events: list[Event] = [
        turn("e1", 0),
        turn("e2", 10),
        turn("e3", 40),
        turn("e2", 41),
        turn("e4", 45),
    ]
    plain = run(events)
    stores = Stores()
    swept: list[Outcome] = []
    for event in events:
        swept += run([event], stores=stores)
        sweep(stores, event.occurred_at_ms + 20 * MINUTE_MS, CFG)  # sweeps ahead of events
    assert ids(swept) == ids(plain)


def test_tally() -> None:
    tally = Tally()
    for outcome in run([turn("e1", 0), turn("e1", 0), alert("d1", 0), turn("e2", 20)]):
        tally.add(outcome)
    tally.add_invalid()
    assert (tally.events, tally.accepted, tally.duplicates, tally.invalid) == (5, 3, 1, 1)
    assert tally.sessions == {"usage": 2, "voice": 0, "alert": 1}
