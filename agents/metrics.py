"""Prometheus metrics of a worker, defined once (names and labels are a contract).

Created once per worker with a registry (tests pass a fresh ``CollectorRegistry``) and
passed to the roles at construction. No label is per conversation or per app (cardinality):
labels are topics, outcomes, reason codes, kinds, tables and partitions.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pipeline.core.counts import Counts

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
    checkpoints: Counter
    checkpoint_seconds: Histogram
    merge_held: Gauge
    miskeyed: Counter

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
                "From an event's CreateTime to its session rows committed in ClickHouse "
                "(one session in a hundred is timed)",
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            checkpoints=Counter(
                "billing_checkpoints_total",
                "Meter checkpoints (one Kafka transaction each) by result",
                ["result"],
                registry=registry,
            ),
            checkpoint_seconds=Histogram(
                "billing_checkpoint_seconds",
                "Duration of one meter checkpoint transaction",
                registry=registry,
            ),
            miskeyed=Counter(
                "billing_events_miskeyed_total",
                "Valid events whose Kafka key is not their conversation id (turns, transfers) "
                "or app id (alerts): a producer keying otherwise can split a conversation "
                "across partitions, and so bill it more than once",
                ["topic"],
                registry=registry,
            ),
            merge_held=Gauge(
                "billing_merge_held_records",
                "Records the meter holds for the cross-topic order (SPEC 2b), uncommitted",
                ["topic", "partition"],
                registry=registry,
            ),
        )

    def record(self, counts: Counts) -> None:
        """Add one committed batch's counts (counted only once it is committed)."""
        for (topic, outcome), n in counts.events.items():
            self.events.labels(topic, outcome).inc(n)
        for topic, n in counts.out_of_order.items():
            self.out_of_order.labels(topic).inc(n)
        for (topic, reason), n in counts.dead_letters.items():
            self.dead_letters.labels(topic, reason).inc(n)
        for kind, n in counts.sessions.items():
            self.sessions_opened.labels(kind).inc(n)
        for cause, n in counts.closed_by.items():
            self.conversations_closed.labels(cause).inc(n)
        for topic, n in counts.miskeyed.items():
            self.miskeyed.labels(topic).inc(n)

    def lag(self, lag: dict[tuple[str, int], int]) -> None:
        """Set the lag of every owned partition; drop the label sets of all others.

        Synchronous on the event loop, so a scrape never sees the gauge half rebuilt.
        """
        self.consumer_lag.clear()
        for (topic, partition), value in lag.items():
            self.consumer_lag.labels(topic, str(partition)).set(value)

    def forget_partitions(self, partitions: set[int], topics: tuple[str, ...]) -> None:
        """Revoked partitions: their lag is another worker's to report (at once)."""
        for topic in topics:
            for partition in partitions:
                with contextlib.suppress(KeyError):
                    self.consumer_lag.remove(topic, str(partition))
                with contextlib.suppress(KeyError):
                    self.merge_held.remove(topic, str(partition))

    def latencies(self, seconds: list[float]) -> None:
        """Event-to-ClickHouse latencies of the sessions just committed (the sink's hook)."""
        for value in seconds:
            self.event_to_sink_seconds.observe(value)

    def flushed(self, rows: dict[str, int], seconds: float) -> None:
        """Count one successful flush (the sink's hook)."""
        self.sink_flush_seconds.observe(seconds)
        for table, count in rows.items():
            if count:
                self.sink_rows.labels(table).inc(count)

    def sink_failed(self, error: Exception) -> None:
        """Count one failed flush; it is retried (the sink's hook)."""
        self.sink_errors.labels(type(error).__name__).inc()
        self.sink_retries.inc()
