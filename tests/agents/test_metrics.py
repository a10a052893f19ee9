"""The metrics object, on a fresh registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from agents.metrics import BillingMetrics
from pipeline.core.counts import Counts
from pipeline.core.meter import Outcome
from schemas.billing_session import BillingSession
from schemas.dead_letter import DeadLetter
from schemas.fields import ValidationError


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_counts_outcomes_sessions_and_dead_letters() -> None:
    registry = CollectorRegistry()
    metrics = BillingMetrics.create(registry)
    counts = Counts()
    session = BillingSession("s", "voice", "a", "c", 0, 0, "voice", 1)
    counts.outcome("conversation-turns", Outcome(False, True, (session,)))
    counts.outcome("conversation-turns", Outcome(True, False))
    for code in ("bad_enum", "late"):
        counts.invalid(
            DeadLetter.from_error(
                ValidationError("actor", code, "no"),
                source="kafka",
                topic="agent-transfers",
                partition=0,
                offset=1,
                raw=b"x",
            )
        )
    assert value(registry, "billing_sessions_opened_total", kind="voice") is None
    metrics.record(counts)  # counted once the batch is committed
    metrics.flushed({"sessions": 3, "dead_letters": 0}, 0.2)
    metrics.sink_failed(ConnectionError("down"))
    assert (
        value(registry, "billing_events_total", topic="conversation-turns", outcome="accepted") == 1
    )
    assert (
        value(registry, "billing_events_total", topic="conversation-turns", outcome="duplicate")
        == 1
    )
    assert value(registry, "billing_events_total", topic="agent-transfers", outcome="invalid") == 1
    assert value(registry, "billing_events_total", topic="agent-transfers", outcome="late") == 1
    assert value(registry, "billing_events_out_of_order_total", topic="conversation-turns") == 1
    assert (
        value(registry, "billing_dead_letters_total", topic="agent-transfers", reason="bad_enum")
        == 1
    )
    assert value(registry, "billing_sessions_opened_total", kind="voice") == 1
    assert value(registry, "billing_sink_rows_total", table="sessions") == 3
    assert value(registry, "billing_sink_rows_total", table="dead_letters") is None
    assert value(registry, "billing_sink_errors_total", error="ConnectionError") == 1
    assert value(registry, "billing_sink_retries_total") == 1
    assert value(registry, "billing_sink_flush_seconds_count") == 1


def test_two_registries_do_not_collide() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    BillingMetrics.create(first).conversations_active.set(3)
    BillingMetrics.create(second)
    assert value(first, "billing_conversations_active") == 3
    assert value(second, "billing_conversations_active") == 0


def test_lag_drops_the_label_sets_of_partitions_no_longer_owned() -> None:
    registry = CollectorRegistry()
    metrics = BillingMetrics.create(registry)
    metrics.lag({("conversation-turns", 0): 5, ("conversation-turns", 1): 7})
    metrics.forget_partitions({1}, ("conversation-turns",))
    assert (
        value(registry, "billing_consumer_lag", topic="conversation-turns", partition="1") is None
    )
    metrics.lag({("alert-deliveries", 2): 0})
    assert (
        value(registry, "billing_consumer_lag", topic="conversation-turns", partition="0") is None
    )
    assert value(registry, "billing_consumer_lag", topic="alert-deliveries", partition="2") == 0
