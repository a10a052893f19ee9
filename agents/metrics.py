"""Prometheus metrics of a worker, defined once (names and labels are a contract).

Created with a registry (tests pass a fresh ``CollectorRegistry``), as Faust's
``FaustMetrics`` is. No label is per conversation or per app (cardinality):
labels are topics, outcomes, reason codes, kinds, tables and partitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pipeline.core.meter import Outcome
from schemas.conversation_summary import ConversationSummary
from schemas.dead_letter import DeadLetter

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


@dataclass(frozen=True, slots=True)
class BillingMetrics:
    """Every metric a worker exports."""

    events: Counter
    out_of_order: Counter
    dead_letters: Counter
    sessions_opened: Counter
    conversations_active: Gauge
    conversations_closed: Counter
    sink_rows: Counter
    sink_flush_seconds: Histogram
    sink_errors: Counter
    sink_retries: Counter
    consumer_lag: Gauge
    event_to_sink_seconds: Histogram
    consumer_rewinds: Counter
    consumer_wakes: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> BillingMetrics:
        """Register every metric in ``registry``."""
        return cls(
            events=Counter(
                "billing_events_total",
                "Input events by outcome",
                ["topic", "outcome"],
                registry=registry,
            ),
            out_of_order=Counter(
                "billing_events_out_of_order_total",
                "Events applied at the conversation's latest time",
                ["topic"],
                registry=registry,
            ),
            dead_letters=Counter(
                "billing_dead_letters_total",
                "Invalid events sent to the dead-letter topic",
                ["topic", "reason"],
                registry=registry,
            ),
            sessions_opened=Counter(
                "billing_sessions_opened_total", "Sessions opened", ["kind"], registry=registry
            ),
            conversations_active=Gauge(
                "billing_conversations_active",
                "Conversation states held by this worker",
                registry=registry,
            ),
            conversations_closed=Counter(
                "billing_conversations_closed_total",
                "Conversation segments closed",
                ["cause"],
                registry=registry,
            ),
            sink_rows=Counter(
                "billing_sink_rows_total",
                "Rows written to ClickHouse",
                ["table"],
                registry=registry,
            ),
            sink_flush_seconds=Histogram(
                "billing_sink_flush_seconds", "Duration of one ClickHouse flush", registry=registry
            ),
            sink_errors=Counter(
                "billing_sink_errors_total",
                "Failed ClickHouse flushes",
                ["error"],
                registry=registry,
            ),
            sink_retries=Counter(
                "billing_sink_retries_total", "ClickHouse flushes retried", registry=registry
            ),
            consumer_lag=Gauge(
                "billing_consumer_lag",
                "Messages behind the log end",
                ["topic", "partition"],
                registry=registry,
            ),
            event_to_sink_seconds=Histogram(
                "billing_event_to_sink_seconds",
                "From an event's CreateTime to its session rows committed in ClickHouse",
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            consumer_rewinds=Counter(
                "billing_consumer_rewinds_total",
                "Partitions sought back after the consumer skipped records (agents/guard.py)",
                ["topic"],
                registry=registry,
            ),
            consumer_wakes=Counter(
                "billing_consumer_wakes_total",
                "Stalled partitions woken: records waiting, none fetched (agents/watchdog.py)",
                ["topic"],
                registry=registry,
            ),
        )

    def outcome(self, topic: str, outcome: Outcome) -> None:
        """Count one valid event (the meter's hook)."""
        self.events.labels(topic, "duplicate" if outcome.duplicate else "accepted").inc()
        if outcome.out_of_order:
            self.out_of_order.labels(topic).inc()
        for session in outcome.sessions:
            self.sessions_opened.labels(session.kind).inc()
        self.summaries(outcome.summaries)

    def summaries(
        self, summaries: tuple[ConversationSummary, ...] | list[ConversationSummary]
    ) -> None:
        """Count closed segments."""
        for summary in summaries:
            self.conversations_closed.labels(summary.cause).inc()

    def swept(self, summaries: list[ConversationSummary], active: int) -> None:
        """A sweep's idle reports and the conversations still active (the meter's hook)."""
        self.summaries(summaries)
        self.conversations_active.set(active)

    def latencies(self, seconds: list[float]) -> None:
        """Event-to-ClickHouse latencies of the sessions just committed (the sink's hook)."""
        for value in seconds:
            self.event_to_sink_seconds.observe(value)

    def invalid(self, letter: DeadLetter) -> None:
        """Count one invalid event (the meter's hook)."""
        self.events.labels(letter.source_topic, "invalid").inc()
        self.dead_letters.labels(letter.source_topic, letter.reason_code).inc()

    def flushed(self, rows: dict[str, int], seconds: float) -> None:
        """Count one successful flush (the sink's hook)."""
        self.sink_flush_seconds.observe(seconds)
        for table, count in rows.items():
            if count:
                self.sink_rows.labels(table).inc(count)

    def rewound(self, topic: str) -> None:
        """Count one skip the offset guard caught (its hook)."""
        self.consumer_rewinds.labels(topic).inc()

    def woken(self, topic: str) -> None:
        """Count one stalled partition the watchdog woke (its hook)."""
        self.consumer_wakes.labels(topic).inc()

    def sink_failed(self, error: Exception) -> None:
        """Count one failed flush; it is retried (the sink's hook)."""
        self.sink_errors.labels(type(error).__name__).inc()
        self.sink_retries.inc()
