"""The metrics object, on a fresh registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from agents.metrics import BillingMetrics
from pipeline.core.meter import Outcome
from schemas.billing_session import BillingSession
from schemas.dead_letter import DeadLetter
from schemas.fields import ValidationError


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_counts_outcomes_sessions_and_dead_letters() -> None:
    registry = CollectorRegistry()
    metrics = BillingMetrics.create(registry)
    session = BillingSession("s", "voice", "a", "c", 0, 0, "voice", 1)
    metrics.outcome("conversation-turns", Outcome(False, True, (session,)))
    metrics.outcome("conversation-turns", Outcome(True, False))
    error = ValidationError("actor", "bad_enum", "no")
    metrics.invalid(
        DeadLetter.from_error(
            error, source="kafka", topic="agent-transfers", partition=0, offset=1, raw=b"x"
        )
    )
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


def test_counts_rewinds_by_topic() -> None:
    registry = CollectorRegistry()
    metrics = BillingMetrics.create(registry)
    metrics.rewound("agent-transfers")
    metrics.rewound("agent-transfers")
    assert value(registry, "billing_consumer_rewinds_total", topic="agent-transfers") == 2
