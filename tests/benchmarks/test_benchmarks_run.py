"""The benchmark scripts stay runnable (they are not timed here: figures come from real runs)."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A benchmark script run from the checkout (its imports from the project's root)."""
    return subprocess.run(
        [sys.executable, f"benchmarks/{script}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_the_stream_benchmark_imports() -> None:
    module = importlib.import_module("benchmarks.bench_stream")
    assert callable(module.main)


def test_the_core_benchmark_prints_rates_and_ratios_on_a_small_trace() -> None:
    result = run("bench_core.py", "--events", "2000", "--repeats", "1")
    assert result.returncode == 0, result.stderr
    assert re.search(r"baseline .* events/s", result.stdout)
    assert len(re.findall(r"ratio \d+\.\d{3}", result.stdout)) == 3  # shapes, core, replay


@pytest.mark.kafka
def test_the_state_benchmark_prints_both_designs_on_a_small_state() -> None:
    """Small counts: the script runs and prints today's and the earlier figures (the
    README quotes a full ``make bench-state`` run)."""
    result = run("bench_state.py", "--live", "200", "--rss", "1000", "--restore", "1000")
    assert result.returncode == 0, result.stderr
    bytes_line = re.search(r"today\s+([\d.]+)\s+earlier\s+([\d.]+)", result.stdout)
    assert bytes_line is not None and float(bytes_line[1]) < float(bytes_line[2])
    assert re.search(r"1,000  today\s+\d+\s+earlier\s+\d+", result.stdout)
    assert "restore of one partition, 1,000 conversations of 10 events" in result.stdout


@pytest.mark.kafka
def test_the_worker_state_benchmark_measures_a_real_worker() -> None:
    """A real ``--roles meter`` worker, two small rounds: RSS growth and changelog bytes
    read back from its state topic (no baseline worktree here: ``make bench-state`` has it)."""
    args = ("--live", "100", "--turns", "10", "--phases", "2", "--baseline", "")
    result = run("bench_worker_state.py", *args)
    assert result.returncode == 0, result.stderr
    line = re.search(
        r"today: +RSS growth +(-?[\d.]+) KiB .* then (-?[\d.]+) KiB .* changelog +([\d.]+) B",
        result.stdout,
    )
    assert line is not None, result.stdout
    assert 0 < float(line[3]) < 1000  # every event checkpointed, a few dozen bytes each


def test_the_cli_benchmark_prints_medians_beside_its_baselines() -> None:
    result = run("bench_cli.py", "--runs", "1", "--events", "200")
    assert result.returncode == 0, result.stderr
    lines = re.findall(r"^(.+?)\s+median\s+\d+\s+min\s+\d+\s+max\s+\d+$", result.stdout, re.M)
    assert [line.split(":")[0] for line in lines] == [
        "baseline",
        "baseline",
        "billing-meter --help",
        "billing-meter usage --format json",
    ]
