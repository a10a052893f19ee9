"""CLI start-up: ``billing-meter --help`` and ``usage --format json`` on a small embedded store.

Each command runs as a whole process (interpreter start, imports, work, exit), several
times, beside baselines measured in the same run: ``python -c pass`` (the interpreter
alone) and ``python -c 'import chdb'`` (the embedded engine's import, which any store
command pays). Prints median, min and max in milliseconds.

    .venv/bin/python benchmarks/bench_cli.py [--runs 15] [--events 2000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable
CLI = str(Path(PYTHON).with_name("billing-meter"))


def _time(command: list[str], runs: int, cwd: Path) -> list[float]:
    """Wall-clock milliseconds of ``runs`` runs of ``command`` (each must exit 0)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _small_store(folder: Path, events: int) -> str:
    """A store of a generated trace (``events`` events, replayed): the usage command's input."""
    url = f"chdb://{folder / 'store'}"
    trace = str(folder / "events.jsonl")
    subprocess.run([CLI, "generate", trace, "--events", str(events)], check=True, cwd=folder)
    subprocess.run([CLI, "replay", trace, "--clickhouse", url], check=True, cwd=folder)
    return url


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        folder = Path(tmp)
        url = _small_store(folder, args.events)
        cases = {
            "baseline: python -c pass": [PYTHON, "-c", "pass"],
            "baseline: python -c 'import chdb'": [PYTHON, "-c", "import chdb"],
            "billing-meter --help": [CLI, "--help"],
            "billing-meter usage --format json": [
                CLI,
                "usage",
                "--clickhouse",
                url,
                "--format",
                "json",
            ],
        }
        print(f"{args.runs} runs each, whole processes, milliseconds")
        for name, command in cases.items():
            times = _time(command, args.runs, folder)
            print(
                f"{name:<36} median {statistics.median(times):6.0f}"
                f"  min {min(times):6.0f}  max {max(times):6.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
