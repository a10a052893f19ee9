"""What a run processed: one counter type for the meter's metrics and replay's summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.core.meter import Outcome
from schemas.conversation_summary import ConversationSummary
from schemas.dead_letter import DeadLetter

SESSION_KINDS = ("usage", "voice", "alert")


@dataclass(slots=True)
class Counts:
    """Counts by topic and outcome; the meter adds a batch's to its metrics once the
    batch is committed, replay sums them into its :class:`Tally`."""

    events: Counter[tuple[str, str]] = field(default_factory=Counter)  # (topic, outcome)
    out_of_order: Counter[str] = field(default_factory=Counter)
    dead_letters: Counter[tuple[str, str]] = field(default_factory=Counter)  # (topic, reason)
    sessions: Counter[str] = field(default_factory=Counter)
    closed_by: Counter[str] = field(default_factory=Counter)
    miskeyed: Counter[str] = field(default_factory=Counter)

    def outcome(self, topic: str, outcome: Outcome) -> None:
        """Count one accepted or duplicate event and what it produced."""
        self.events[(topic, "duplicate" if outcome.duplicate else "accepted")] += 1
        if outcome.out_of_order:
            self.out_of_order[topic] += 1
        for session in outcome.sessions:
            self.sessions[session.kind] += 1
        for summary in outcome.summaries:  # inlined ``closed``: this runs for every event
            self.closed_by[summary.cause] += 1

    def invalid(self, letter: DeadLetter) -> None:
        """Count one dead letter: an invalid event, or a late one (SPEC 2a)."""
        outcome = "late" if letter.reason_code == "late" else "invalid"
        self.events[(letter.source_topic, outcome)] += 1
        self.dead_letters[(letter.source_topic, letter.reason_code)] += 1

    def closed(self, summaries: Iterable[ConversationSummary]) -> None:
        """Count closed segments."""
        for summary in summaries:
            self.closed_by[summary.cause] += 1

    def tally(self) -> Tally:
        """The totals over every topic (replay's summary line)."""
        by_outcome: Counter[str] = Counter()
        for (_topic, outcome), n in self.events.items():
            by_outcome[outcome] += n
        return Tally(
            events=by_outcome.total(),
            accepted=by_outcome["accepted"],
            duplicates=by_outcome["duplicate"],
            invalid=by_outcome["invalid"],
            late=by_outcome["late"],
            out_of_order=self.out_of_order.total(),
            sessions={kind: self.sessions[kind] for kind in SESSION_KINDS},
        )


@dataclass(frozen=True, slots=True)
class Tally:
    """Totals of a run (the replay summary line): a view of :class:`Counts`."""

    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    invalid: int = 0
    late: int = 0
    out_of_order: int = 0
    sessions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SESSION_KINDS, 0))
