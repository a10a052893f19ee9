"""The stream benchmark's Faust floor runs against the real broker (figures come from real runs)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from benchmarks.bench_stream import faust_floor, produce
from tests.integration.workers import write_trace

pytestmark = pytest.mark.integration


def test_faust_floor_iterates_every_input_record(tmp_path: Path) -> None:
    prefix = f"floor{uuid.uuid4().hex[:8]}."
    trace = tmp_path / "trace.jsonl"
    write_trace(trace, events=300, seed=9)
    count = produce(trace, prefix, tmp_path)
    assert count > 300  # the trace adds duplicates and garbage
    assert faust_floor(prefix, count, tmp_path) > 0  # it saw all ``count`` records, then exited
