"""``billing-meter export PATH``: the input topics as a dump (SPEC section 7) for an audit.

``replay`` of the dump gives the report the stream computed for those records.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pipeline import report

if TYPE_CHECKING:  # asyncio and the Kafka client only when the command runs (--help is fast)
    from agents.kafka.export import ExportRange
    from agents.kafka.records import Record


def add_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``export`` subcommand."""
    export = commands.add_parser(
        "export", help="write the input topics as an event file (a dump replay merges)"
    )
    export.add_argument("path", help="the dump to write (JSON Lines), - for stdout")
    export.add_argument(
        "--from", dest="start", metavar="T", help="first record timestamp (ISO, UTC unless given)"
    )
    export.add_argument("--to", dest="end", metavar="T", help="exclusive, as --from")
    export.add_argument(
        "--bootstrap",
        metavar="HOST:PORT",
        help="Kafka (default: $KAFKA_BOOTSTRAP or 127.0.0.1:9092)",
    )
    export.add_argument(
        "--topic-prefix",
        default=os.environ.get("BILLING_TOPIC_PREFIX", ""),
        help="prefix of the input topics",
    )
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Write the dump; one line says how many records and where."""
    from agents.kafka.export import ExportRange  # noqa: PLC0415 - Kafka only here
    from pipeline.core.meter import INPUT_TOPICS  # noqa: PLC0415

    what = ExportRange(
        bootstrap=args.bootstrap or os.environ.get("KAFKA_BOOTSTRAP") or "127.0.0.1:9092",
        inputs=INPUT_TOPICS,
        topic_prefix=args.topic_prefix or "",
        from_ms=None if args.start is None else report.parse_time(args.start, "--from"),
        to_ms=None if args.end is None else report.parse_time(args.end, "--to"),
    )
    if what.from_ms is not None and what.to_ms is not None and what.to_ms <= what.from_ms:
        raise ValueError("--to must be after --from")
    to_stdout = args.path == "-"
    count = _export_to(what, None if to_stdout else Path(args.path))
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    # with the dump on stdout, the summary goes to stderr
    print(f"exported {count} records to {args.path}", file=sys.stderr if to_stdout else sys.stdout)
    return 0


def _export_to(what: ExportRange, target: Path | None) -> int:
    """Write the dump to ``target`` (None: stdout) through a partial file renamed once
    complete: a failed or stopped export (SIGTERM included) leaves neither behind."""
    import asyncio  # noqa: PLC0415 - see the imports

    signal.signal(signal.SIGTERM, _terminated)  # until the event loop takes the signal over
    if target is None:
        return _finished(asyncio.run(_export(what, sys.stdout.buffer)))
    partial = target.with_name(target.name + ".partial")
    try:
        with _open(partial) as out:
            count = _finished(asyncio.run(_export(what, out)))
            signal.signal(signal.SIGTERM, _terminated)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return count


def _finished(count: int | None) -> int:
    if count is None:  # stopped by SIGTERM
        raise SystemExit(128 + signal.SIGTERM)
    return count


async def _export(what: ExportRange, out: BinaryIO) -> int | None:
    """The export's count, or None when SIGTERM cancelled it (its clients closed)."""
    import asyncio  # noqa: PLC0415 - see the imports

    from agents.kafka.export import export_records  # noqa: PLC0415 - Kafka only here

    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await export_records(what, _writer(out), _progress())
    except asyncio.CancelledError:
        return None


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _writer(out: BinaryIO) -> Callable[[Record], object]:
    from pipeline.eventfile import dump_line  # noqa: PLC0415 - see the imports

    def write(r: Record) -> object:
        line = dump_line(
            r.topic,
            r.value,
            partition=r.partition,
            offset=r.offset,
            timestamp=r.ts_ms,
            seq=r.seq,
            key=r.key,
        )
        return out.write(line)

    return write


def _open(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


def _progress() -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        share = done / max(total, 1)
        rate = done / max(time.monotonic() - started, 1e-9)
        bar = "#" * int(share * 30)
        sys.stderr.write(f"\r[{bar:<30}] {share:6.1%} {done:>10,} records {rate:>9,.0f}/s")
        sys.stderr.flush()

    return show
