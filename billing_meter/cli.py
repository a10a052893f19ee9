"""``billing-meter``: metering (replay, usage, generate, worker, produce, export) and billing.

Every user error ends in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from billing_meter import billing_cli, export_cli
from billing_meter.cli_args import UserError, store_option
from billing_meter.usage_cli import add_usage_command
from pipeline import report
from pipeline.core.partitioning import PARTITIONERS
from pipeline.settings import add_rule_options

# Only light modules above: every parser is built for --help. A command imports the store,
# the money store or the Kafka client in its handler (see tests/test_cli_imports.py).


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see {self.prog} --help)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _cmd_replay(args: argparse.Namespace) -> int:
    from pipeline.eventfile import open_event_file, read_messages  # noqa: PLC0415 - see the top
    from pipeline.replay import replay, summary_line  # noqa: PLC0415
    from pipeline.settings import config_from  # noqa: PLC0415
    from sinks.base import BatchingSink  # noqa: PLC0415
    from sinks.clickhouse.store import open_store  # noqa: PLC0415
    from sinks.clickhouse.urls import default_url  # noqa: PLC0415

    cfg = config_from(args, os.environ)
    path = Path(args.path)
    with open_event_file(path) as stream:
        store = open_store(args.clickhouse or default_url())
        try:
            progress = _progress(path, stream.tell)
            tally = replay(
                read_messages(stream, f"{path}: "),
                BatchingSink(store),
                cfg,
                source=f"file:{path.name}",
                partitions=args.partitions,
                partitioner=PARTITIONERS[args.partitioner],
                on_progress=progress,
            )
        finally:
            store.close()
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    print(summary_line(tally))
    return 0


def _progress(path: Path, tell: Callable[[], int]) -> Callable[[int], None] | None:
    if not sys.stderr.isatty():
        return None
    size = max(path.stat().st_size, 1)
    started = time.monotonic()

    def show(count: int) -> None:
        done = tell() / size
        rate = count / max(time.monotonic() - started, 1e-9)
        bar = "#" * int(done * 30)
        sys.stderr.write(f"\r[{bar:<30}] {done:6.1%} {count:>10,} events {rate:>9,.0f}/s")
        sys.stderr.flush()

    return show


def _cmd_worker(args: argparse.Namespace) -> int:
    from billing_meter.settings import worker_settings  # noqa: PLC0415 - see the top
    from billing_meter.worker import run_worker  # noqa: PLC0415

    return run_worker(worker_settings(args))


def _cmd_produce(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415 - see the top

    from agents.kafka.produce import from_thread, produce  # noqa: PLC0415
    from agents.kafka.records import Topics  # noqa: PLC0415
    from agents.topics import declare_topics  # noqa: PLC0415
    from billing_meter.settings import worker_settings  # noqa: PLC0415
    from pipeline.eventfile import open_event_file, read_messages  # noqa: PLC0415

    settings = worker_settings(args)
    asyncio.run(declare_topics(settings))
    target = (settings.bootstrap, Topics(settings.topic_prefix))
    if args.path == "-":  # standard input: each line sent as it arrives (paced producers)
        lines = read_messages(sys.stdin.buffer, "stdin: ")
        count = asyncio.run(produce(from_thread(lines), *target))
    else:
        path = Path(args.path)
        with open_event_file(path) as stream:
            progress = _progress(path, stream.tell)
            count = asyncio.run(produce(read_messages(stream, f"{path}: "), *target, progress))
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    print(f"produced {count} messages to {settings.bootstrap}")
    return 0


def _kafka_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bootstrap",
        metavar="HOST:PORT",
        help="Kafka (default: $KAFKA_BOOTSTRAP or 127.0.0.1:9092)",
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="partitions of topics it creates (default $BILLING_PARTITIONS, else 6)",
    )
    parser.add_argument(
        "--topic-prefix",
        default=os.environ.get("BILLING_TOPIC_PREFIX", ""),
        help="prefix of every topic and consumer group (isolation)",
    )


def _cmd_generate(args: argparse.Namespace) -> int:
    from pipeline.tracegen import TraceSpec, generate  # noqa: PLC0415 - see the top

    if args.events <= 0:
        raise UserError("--events must be positive")
    end_ms = report.parse_time(args.end, "end") if args.end else int(time.time() * 1000)
    spec = TraceSpec(events=args.events, seed=args.seed, end_ms=end_ms)
    lines = 0
    target = Path(args.path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        for line in generate(spec):
            out.write(line)
            lines += 1
    print(f"wrote {lines} messages to {args.path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = _Parser(prog="billing-meter", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    replay_cmd = commands.add_parser("replay", help="replay an event file into ClickHouse")
    replay_cmd.add_argument("path", help="event file (JSON Lines, SPEC section 7)")
    replay_cmd.add_argument(
        "--partitions",
        type=_positive_int,
        default=6,
        help="partitions of the input topics the keys hash to (SPEC 2a; default 6)",
    )
    replay_cmd.add_argument(
        "--partitioner",
        choices=tuple(PARTITIONERS),
        default="murmur2",
        help="how the producers chose partitions: murmur2 (Java client, aiokafka, produce; "
        "default) or crc32 (librdkafka's default: confluent-kafka, kcat, Go, .NET)",
    )
    store_option(replay_cmd)
    add_rule_options(replay_cmd)
    replay_cmd.set_defaults(run=_cmd_replay)
    add_usage_command(commands)

    worker = commands.add_parser("worker", help="run a streaming worker")
    worker.add_argument(
        "--roles", default="meter,sink,web,billing", help="meter,sink,web,billing (default all)"
    )
    worker.add_argument("--db", metavar="URL", help="money store (default $BILLING_DB_URL)")
    _kafka_options(worker)
    store_option(worker)
    worker.add_argument("--web-port", type=_port, default=6066)
    worker.add_argument("--web-host", default="127.0.0.1", help="bind address (default loopback)")
    add_rule_options(worker)
    worker.set_defaults(run=_cmd_worker)

    producer = commands.add_parser("produce", help="publish an event file to Kafka")
    producer.add_argument("path", help="event file (JSON Lines, SPEC section 7), - for stdin")
    _kafka_options(producer)
    producer.set_defaults(run=_cmd_produce)

    gen = commands.add_parser("generate", help="write a synthetic event file")
    gen.add_argument("path")
    gen.add_argument("--events", type=int, default=100_000)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--end", metavar="T", help="latest occurred_at (default: now)")
    gen.set_defaults(run=_cmd_generate)
    export_cli.add_command(commands)
    billing_cli.add_commands(commands, _billing)
    return parser


def _billing(handler: billing_cli.Handler) -> billing_cli.Handler:
    def run(args: argparse.Namespace) -> int:
        from billing_meter.cli_support import BillingCliError, run_billing  # noqa: PLC0415

        try:
            return run_billing(handler, args)
        except BillingCliError as exc:
            raise UserError(str(exc)) from None

    return run


# The errors that are the user's (one line, exit 2), by module: a module that was never
# imported raised none of them, so they are looked up only among the imported ones.
_USER_ERRORS = {
    "pipeline.report": ("ReportError",),
    "pipeline.eventfile": ("EventFileError",),
    "sinks.clickhouse.store": ("StoreError",),
    "agents.kafka.admin": ("KafkaUnavailableError",),
    "billing.db": ("StoreError",),
    "billing_meter.settings": ("SettingsError",),
}


def _user_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [UserError, ValueError]
    for module_name, names in _USER_ERRORS.items():
        module = sys.modules.get(module_name)
        found.extend(getattr(module, name) for name in names if module is not None)
    return tuple(found)


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text[:16]!r} is not a port (1-65535)")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    # a library's log lines (aiokafka's "Unable connect ...") never reach the terminal by
    # Python's last-resort handler: a command says what went wrong in its one line; the
    # worker installs its own JSON logging
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        args = build_parser().parse_args(argv)
        code: int = args.run(args)
    except KeyboardInterrupt:
        print("billing-meter: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        if isinstance(exc, _user_errors()):  # one line, whatever a driver's message holds
            line = next((part for part in str(exc).splitlines() if part.strip()), "")
            print(f"billing-meter: error: {line}", file=sys.stderr)
            return 2
        if isinstance(exc, OSError):
            print(f"billing-meter: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"billing-meter: error: {type(exc).__name__}: {str(exc)[:500]}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
