"""Conversation state and the step function for turns and transfers (SPEC sections 2-4)."""

from __future__ import annotations

from typing import NamedTuple

import msgspec
from msgspec.structs import replace

from pipeline.core.config import MeterConfig, quarter_start
from schemas.agent_activity import AgentActivity
from schemas.agent_transfer import AgentTransfer
from schemas.billing_session import BillingSession, conversation_session_id
from schemas.conversation_summary import ConversationSummary
from schemas.conversation_turn import ConversationTurn

ConversationEvent = ConversationTurn | AgentTransfer


class ConversationState(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """What the meter remembers of one (app_id, conversation_id); immutable.

    A msgspec struct: built in C (the hot path builds one per event) and encoded as a
    compact array for the changelog.

    ``bot_ms`` is the bot clock b, ``elapsed_ms`` the interaction clock e of the
    current segment. ``usage_slices``/``voice_slices`` count the slices opened.
    ``ended`` means a turn with ``ends_conversation`` closed the segment.
    ``reported`` means the summary of the segment as it stands was emitted
    (at its end, or by a sweep that found it idle). ``agent_quarter_ms`` and
    ``agents_in_quarter`` remember which agents were already reported this quarter-hour.
    The event ids it saw live beside it in :class:`pipeline.core.state.PartitionState`.
    """

    app_id: str
    conversation_id: str
    channel: str
    segment: int
    started_ms: int
    last_ms: int
    bot_ms: int
    elapsed_ms: int
    on_agent: bool
    usage_slices: int
    voice_slices: int
    ended: bool
    reported: bool
    agent_quarter_ms: int
    agents_in_quarter: frozenset[str]


class ConversationStep(NamedTuple):
    """The result of applying one event: the new state and everything it produced."""

    state: ConversationState
    out_of_order: bool
    sessions: tuple[BillingSession, ...] = ()
    agents: tuple[AgentActivity, ...] = ()
    summaries: tuple[ConversationSummary, ...] = ()


def summarize(state: ConversationState, cause: str) -> ConversationSummary:
    """The analysts' summary of the state's current segment."""
    return ConversationSummary(
        app_id=state.app_id,
        conversation_id=state.conversation_id,
        segment=state.segment,
        channel=state.channel,
        started_at_ms=state.started_ms,
        ended_at_ms=state.last_ms,
        bot_ms=state.bot_ms,
        agent_ms=state.elapsed_ms - state.bot_ms,
        interaction_ms=state.elapsed_ms,
        usage_sessions=state.usage_slices,
        voice_sessions=state.voice_slices,
        cause=cause,
    )


def close_if_idle(
    state: ConversationState, now_ms: int, cfg: MeterConfig
) -> tuple[ConversationState, ConversationSummary | None]:
    """Report an open segment with no event for more than ``IDLE_TIMEOUT`` before ``now_ms``.

    Only the summary is emitted: whether the next event continues the segment is
    decided by the event-time rule in :func:`step_conversation`, so sweeps (whose
    timing differs between the workers and a replay) never change sessions. If a
    late event does continue the segment, its later summary supersedes this one.
    """
    if state.ended or state.reported or now_ms - state.last_ms <= cfg.idle_timeout_ms:
        return state, None
    return replace(state, reported=True), summarize(state, "idle")


def step_conversation(
    state: ConversationState | None, event: ConversationEvent, cfg: MeterConfig
) -> ConversationStep:
    """Apply one turn or transfer to a remembered state (or None: a fresh conversation).

    Duplicates, lateness and forgetting are decided before, by ``meter.apply_event``.
    """
    out_of_order = state is not None and event.occurred_at_ms < state.last_ms
    at_ms = state.last_ms if state is not None and out_of_order else event.occurred_at_ms
    summaries: tuple[ConversationSummary, ...] = ()
    if state is not None and not state.ended and at_ms - state.last_ms > cfg.idle_timeout_ms:
        summaries = () if state.reported else (summarize(state, "idle"),)
        state = replace(state, ended=True)
    if state is None or state.ended:
        state = _open_segment(state, event, at_ms)
    return _advance(state, event, at_ms, cfg, out_of_order=out_of_order, summaries=summaries)


def _open_segment(
    previous: ConversationState | None, event: ConversationEvent, at_ms: int
) -> ConversationState:
    return ConversationState(
        app_id=event.app_id,
        conversation_id=event.conversation_id,
        channel=event.channel,
        segment=0 if previous is None else previous.segment + 1,
        started_ms=at_ms,
        last_ms=at_ms,
        bot_ms=0,
        elapsed_ms=0,
        on_agent=False,
        usage_slices=0,
        voice_slices=0,
        ended=False,
        reported=False,
        agent_quarter_ms=-1,
        agents_in_quarter=frozenset(),
    )


def _advance(
    state: ConversationState,
    event: ConversationEvent,
    at_ms: int,
    cfg: MeterConfig,
    *,
    out_of_order: bool,
    summaries: tuple[ConversationSummary, ...],
) -> ConversationStep:
    delta = at_ms - state.last_ms
    bot_ms = state.bot_ms if state.on_agent else state.bot_ms + delta
    elapsed_ms = state.elapsed_ms + delta
    slice_ms = cfg.slice_ms
    # slice_index(t) + 1 = max(1, ceil(t / SLICE)), inlined: this runs for every event
    usage_to = -(-bot_ms // slice_ms) or 1
    voice_to = (-(-elapsed_ms // slice_ms) or 1) if state.channel in cfg.voice_channels else 0
    sessions = (
        _open_slices(state, "usage", state.usage_slices, usage_to, at_ms)
        if usage_to > state.usage_slices
        else ()
    )
    if voice_to > state.voice_slices:
        sessions += _open_slices(state, "voice", state.voice_slices, voice_to, at_ms)
    if isinstance(event, ConversationTurn):  # most events: one type check, not three
        on_agent, ends = state.on_agent, event.ends_conversation
        agent_id = event.agent_id if event.actor == "agent" else None
    else:
        on_agent, agent_id = _handler_after(event)
        ends = False
    agents: tuple[AgentActivity, ...] = ()
    if agent_id is None:  # most events: no agent to report
        agent_hour, agents_in_quarter = state.agent_quarter_ms, state.agents_in_quarter
    else:
        agent_hour, agents_in_quarter, agents = _report_agent(state, agent_id, at_ms)
    new_state = ConversationState(  # positional: this is the hot path
        state.app_id,
        state.conversation_id,
        state.channel,
        state.segment,
        state.started_ms,
        at_ms,
        bot_ms,
        elapsed_ms,
        on_agent,
        usage_to if usage_to > state.usage_slices else state.usage_slices,
        voice_to if voice_to > state.voice_slices else state.voice_slices,
        ends,
        ends,
        agent_hour,
        agents_in_quarter,
    )
    if ends:
        summaries = (*summaries, summarize(new_state, "ended"))
    return ConversationStep(new_state, out_of_order, sessions, agents, summaries)


def _open_slices(
    state: ConversationState, kind: str, opened: int, reached: int, at_ms: int
) -> tuple[BillingSession, ...]:
    return tuple(
        BillingSession(
            session_id=conversation_session_id(
                state.app_id, state.conversation_id, state.segment, state.started_ms, kind, index
            ),
            kind=kind,
            app_id=state.app_id,
            conversation_id=state.conversation_id,
            segment=state.segment,
            slice=index,
            channel=state.channel,
            opened_at_ms=at_ms,
        )
        for index in range(opened, reached)
    )


def _handler_after(transfer: AgentTransfer) -> tuple[bool, str | None]:
    """Whether an agent handles the conversation after a transfer, and which agent."""
    to_agent = transfer.direction == "to_agent"
    return to_agent, transfer.agent_id if to_agent else None


def _report_agent(
    state: ConversationState, agent_id: str, at_ms: int
) -> tuple[int, frozenset[str], tuple[AgentActivity, ...]]:
    quarter = quarter_start(at_ms)
    known = state.agents_in_quarter if quarter == state.agent_quarter_ms else frozenset()
    if agent_id in known:
        return quarter, known, ()
    return quarter, known | {agent_id}, (AgentActivity(state.app_id, agent_id, quarter),)
