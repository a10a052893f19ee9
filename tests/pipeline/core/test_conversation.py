"""Session rules for conversations: every example of SPEC sections 2-4 and the seed docs."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest

from pipeline.core.config import MINUTE_MS, MeterConfig, slice_index
from pipeline.core.conversation import ConversationEvent as Ev
from pipeline.core.conversation import ConversationState, ConversationStep, step_conversation
from tests.factories import T0, at, transfer, turn

CFG = MeterConfig()


def run(
    events: Iterable[Ev], cfg: MeterConfig = CFG, state: ConversationState | None = None
) -> tuple[ConversationState | None, list[ConversationStep]]:
    steps = []
    for event in events:
        step = step_conversation(state, event, cfg)
        state = step.state
        steps.append(step)
    return state, steps


def agent_turns(minutes: Iterable[float], channel: str = "web") -> list[Ev]:
    return [turn(f"a{m}", m, actor="agent", channel=channel) for m in minutes]


def ids(steps: list[ConversationStep], kind: str | None = None) -> list[str]:
    """Session ids without the segment's start (``@ms``), which one test checks on its own."""
    return [
        re.sub(r"@\d+", "", s.session_id)
        for step in steps
        for s in step.sessions
        if kind is None or s.kind == kind
    ]


def test_session_ids_carry_the_segments_start() -> None:
    _, steps = run([turn("e1", 0), turn("e2", 1, ends=True), turn("e3", 5)])
    assert [s.session_id for step in steps for s in step.sessions] == [
        f"app-1/c-1/0@{at(0)}/usage/0",
        f"app-1/c-1/1@{at(5)}/usage/0",
    ]


@pytest.mark.parametrize(
    ("elapsed", "index"),
    [
        (0, 0),
        (1, 0),
        (15 * MINUTE_MS, 0),
        (15 * MINUTE_MS + 1, 1),
        (30 * MINUTE_MS, 1),
        (30 * MINUTE_MS + 1, 2),
        (31 * MINUTE_MS, 2),
    ],
)
def test_slice_index(elapsed: int, index: int) -> None:
    assert slice_index(elapsed, 15 * MINUTE_MS) == index


def test_seed_31_minute_conversation_is_3_usage_sessions() -> None:
    _, steps = run(
        [turn("e1", 0), turn("e2", 10, actor="bot"), turn("e3", 14), turn("e4", 29), turn("e5", 31)]
    )
    assert ids(steps) == ["app-1/c-1/0/usage/0", "app-1/c-1/0/usage/1", "app-1/c-1/0/usage/2"]
    assert [len(step.sessions) for step in steps] == [1, 0, 0, 1, 1]
    assert steps[4].sessions[0].opened_at_ms == at(31)


def test_a_long_gap_opens_several_slices_at_one_event() -> None:
    _, steps = run([turn("e1", 0), turn("e2", 14)], MeterConfig(slice_ms=4 * MINUTE_MS))
    assert [s.slice for s in steps[1].sessions] == [1, 2, 3]
    assert {s.opened_at_ms for s in steps[1].sessions} == {at(14)}


def test_exactly_15_minutes_is_one_session_15m_1ms_is_two() -> None:
    _, exact = run([turn("e1", ms=T0), turn("e2", ms=T0 + 15 * MINUTE_MS)])
    assert len(ids(exact)) == 1
    _, over = run([turn("e1", ms=T0), turn("e2", ms=T0 + 15 * MINUTE_MS + 1)])
    assert len(ids(over)) == 2


def test_time_with_a_human_agent_is_excluded_from_usage() -> None:
    state, steps = run(
        [
            turn("e1", 0),
            transfer("e2", 5),
            turn("e3", 15, actor="agent"),
            turn("e3b", 30, actor="agent"),
            turn("e3c", 40, actor="agent"),
            transfer("e4", 50, direction="to_bot"),
            turn("e5", 60),
        ]
    )
    assert state is not None
    assert state.bot_ms == 15 * MINUTE_MS  # 0-5 and 50-60
    assert state.elapsed_ms == 60 * MINUTE_MS
    assert ids(steps, "usage") == ["app-1/c-1/0/usage/0"]


def test_voice_call_10_min_bot_then_30_min_agent() -> None:
    """SPEC: 1 usage session and 3 voice sessions."""
    _, steps = run(
        [
            turn("e1", 0, channel="voice"),
            transfer("e2", 10, channel="voice"),
            *agent_turns(range(20, 41, 10), channel="voice"),
        ]
    )
    assert ids(steps, "usage") == ["app-1/c-1/0/usage/0"]
    assert ids(steps, "voice") == [f"app-1/c-1/0/voice/{k}" for k in range(3)]


def test_voice_sessions_only_on_voice_channels_and_configurable() -> None:
    events = [turn("e1", 0, channel="phone"), turn("e2", 20, channel="phone")]
    assert ids(run(events)[1], "voice") == []
    cfg = MeterConfig(voice_channels=frozenset({"phone"}))
    assert len(ids(run(events, cfg)[1], "voice")) == 2


def test_channel_is_fixed_by_the_first_event() -> None:
    _, steps = run(
        [
            turn("e1", 0, channel="voice"),
            turn("e2", 10, channel="web"),
            turn("e3", 20, channel="web"),
        ]
    )
    assert ids(steps, "voice") == ["app-1/c-1/0/voice/0", "app-1/c-1/0/voice/1"]
    assert {s.channel for step in steps for s in step.sessions} == {"voice"}


def test_out_of_order_event_is_clamped_and_flagged() -> None:
    state, steps = run([turn("e1", 0), turn("e2", 10), turn("e3", 5)])
    assert [step.out_of_order for step in steps] == [False, False, True]
    assert state is not None
    assert state.last_ms == at(10)
    assert state.bot_ms == 10 * MINUTE_MS


def test_out_of_order_session_opened_at_the_clamped_time() -> None:
    _, steps = run(
        [turn("e1", 0), transfer("e2", 20, direction="to_bot"), turn("e3", 16)],
        MeterConfig(slice_ms=10 * MINUTE_MS),
    )
    assert [s.opened_at_ms for s in steps[1].sessions] == [at(20)]
    assert steps[2].sessions == ()


def test_ends_conversation_starts_a_new_segment() -> None:
    state, steps = run([turn("e1", 0), turn("e2", 1, ends=True), turn("e3", 2)])
    assert ids(steps) == ["app-1/c-1/0/usage/0", "app-1/c-1/1/usage/0"]
    assert [s.cause for s in steps[1].summaries] == ["ended"]
    assert state is not None
    assert state.segment == 1


def test_idle_gap_longer_than_timeout_starts_a_new_segment() -> None:
    _, steps = run([turn("e1", 0), turn("e2", 15), turn("e3", 30.001)])
    assert ids(steps) == ["app-1/c-1/0/usage/0", "app-1/c-1/1/usage/0"]
    summary = steps[2].summaries[0]
    assert (summary.cause, summary.segment, summary.bot_ms) == ("idle", 0, 15 * MINUTE_MS)


def test_gap_of_exactly_the_timeout_continues() -> None:
    _, steps = run([turn("e1", 0), turn("e2", 15)])
    assert ids(steps) == ["app-1/c-1/0/usage/0"]


def test_new_segment_has_fresh_clocks_and_handler() -> None:
    state, steps = run(
        [
            turn("e1", 0),
            transfer("e2", 1),
            turn("e3", 2, ends=True),
            turn("e4", 3),
            turn("e5", 10),
            turn("e6", 20),
        ]
    )
    assert state is not None
    assert (state.segment, state.bot_ms, state.on_agent) == (1, 17 * MINUTE_MS, False)
    assert ids(steps)[-1] == "app-1/c-1/1/usage/1"


def test_repeated_transfers_in_one_direction_change_only_the_agent() -> None:
    state, steps = run(
        [
            turn("e1", 0),
            transfer("e2", 1, agent="a-1"),
            transfer("e3", 2, agent="a-2"),
            turn("e4", 10, actor="agent", agent="a-2"),
        ]
    )
    assert state is not None
    assert state.bot_ms == MINUTE_MS
    assert [a.agent_id for step in steps for a in step.agents] == ["a-1", "a-2"]


def test_to_bot_while_on_bot_changes_nothing() -> None:
    state, _ = run([turn("e1", 0), transfer("e2", 5, direction="to_bot"), turn("e3", 10)])
    assert state is not None
    assert state.bot_ms == 10 * MINUTE_MS


def test_agents_reported_once_per_conversation_and_quarter_hour() -> None:
    _, steps = run(
        [
            turn("e1", 0),
            transfer("e2", 1, agent="a-1"),
            turn("e3", 2, actor="agent", agent="a-1"),
            turn("e4", 3, actor="agent", agent="a-9"),
            turn("e5", 14, actor="agent", agent="a-1"),
            turn("e6", 16, actor="agent", agent="a-1"),
        ]
    )
    agents = [(a.agent_id, a.quarter_ms) for step in steps for a in step.agents]
    assert agents == [("a-1", T0), ("a-9", T0), ("a-1", T0 + 15 * MINUTE_MS)]


def test_first_event_may_be_a_transfer() -> None:
    state, steps = run([transfer("e1", 0), *agent_turns(range(10, 31, 10))])
    assert ids(steps, "usage") == ["app-1/c-1/0/usage/0"]
    assert state is not None
    assert state.bot_ms == 0


def test_summary_of_an_ended_conversation() -> None:
    _, steps = run(
        [
            turn("e1", 0, channel="voice"),
            transfer("e2", 10, channel="voice"),
            *agent_turns(range(20, 40, 10), channel="voice"),
            turn("e3", 40, actor="agent", channel="voice", ends=True),
        ]
    )
    summary = steps[-1].summaries[0]
    assert (summary.bot_ms, summary.agent_ms, summary.interaction_ms) == (
        10 * MINUTE_MS,
        30 * MINUTE_MS,
        40 * MINUTE_MS,
    )
    assert (summary.usage_sessions, summary.voice_sessions, summary.cause) == (1, 3, "ended")


def test_configurable_slice_and_idle_timeout() -> None:
    cfg = MeterConfig(slice_ms=5 * MINUTE_MS, idle_timeout_ms=30 * MINUTE_MS)
    _, steps = run([turn("e1", 0), turn("e2", 25), turn("e3", 50)], cfg)
    assert len(ids(steps)) == 10  # one segment of 50 minutes in 5-minute slices


def test_other_apps_and_conversations_are_separate_keys() -> None:
    # the core is per key; the dispatcher keys by (app_id, conversation_id)
    _, steps = run([turn("e1", 0, app="app-2", conv="c-9")])
    assert ids(steps) == ["app-2/c-9/0/usage/0"]
