"""The batching sink contract."""

from __future__ import annotations

import pytest

from schemas.agent_activity import AgentActivity
from schemas.billing_session import BillingSession
from sinks.base import BatchingSink
from tests.sinks.recorder import Recorder


def session(n: int) -> BillingSession:
    return BillingSession(f"s{n}", "usage", "a", "c", 0, n, "web", n)


def test_batches_per_table_and_size() -> None:
    backend = Recorder()
    sink = BatchingSink(backend, max_rows=2)
    for n in range(3):
        sink.add(session(n))
    sink.add(AgentActivity("a", "x", 0))
    assert [(b.table, len(b.records)) for b in backend.batches] == [("sessions", 2)]
    assert sink.pending() == 2
    sink.flush()
    assert [(b.table, len(b.records)) for b in backend.batches] == [
        ("sessions", 2),
        ("sessions", 1),
        ("agent_activity", 1),
    ]
    assert sink.rows_written["sessions"] == 3
    assert sink.pending() == 0


def test_failed_write_keeps_the_batch_for_a_retry() -> None:
    backend = Recorder(fail=1)
    sink = BatchingSink(backend)
    sink.add(session(1))
    with pytest.raises(ConnectionError):
        sink.flush()
    assert sink.pending() == 1
    sink.flush()
    assert backend.batches[0].records == (session(1),)


def test_max_rows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        BatchingSink(Recorder(), max_rows=0)
