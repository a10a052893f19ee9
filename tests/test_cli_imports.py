"""``billing-meter --help`` imports no heavy module, and every lazy handler resolves."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from billing_meter.cli import build_parser

# Each costs from 30 ms (asyncio) to 0.3 s (pandas) of a command that does not use it.
HEAVY = (
    "chdb",
    "pyarrow",
    "pandas",
    "numpy",
    "clickhouse_connect",
    "sqlalchemy",
    "alembic",
    "aiokafka",
    "aiohttp",
    "prometheus_client",
    "fpdf",
    "asyncio",
    "urllib.request",
)

_PROBE = """
import sys
from billing_meter.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("heavy=" + ",".join(name for name in {heavy!r} if name in sys.modules))
"""


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["usage", "--help"], ["worker", "--help"], ["plans", "add", "--help"]],
)
def test_help_imports_no_heavy_module(argv: list[str]) -> None:
    probe = _PROBE.format(heavy=HEAVY)
    result = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True
    )
    imported = result.stdout.rsplit("heavy=", 1)[1].strip()
    assert "usage:" in result.stdout
    assert imported == "", f"--help imported {imported}"


def test_a_bad_argument_is_one_line_and_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "billing_meter.cli", "usage", "--by", "year"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("billing-meter: error: argument --by")


def _handlers(parser: argparse.ArgumentParser) -> list[str]:
    """The ``module:function`` of every billing command's lazy handler."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.extend(_handlers(sub))
    run = parser.get_default("run")
    inner = getattr(run, "__closure__", None) or ()
    found.extend(
        cell.cell_contents.__qualname__
        for cell in inner
        if ":" in getattr(cell.cell_contents, "__qualname__", "")
    )
    return found


def test_every_lazy_handler_names_a_function() -> None:
    refs = _handlers(build_parser())
    assert len(refs) >= 20  # plans, users, db, subscribe, funds, ledger, invoices, orders...
    for ref in refs:
        module_name, _, function = ref.partition(":")
        module = importlib.import_module(f"billing_meter.{module_name}")
        assert callable(getattr(module, function)), ref
