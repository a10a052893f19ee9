"""``billing-meter``: metering (replay, usage, generate, worker, produce) and billing.

Every user error ends in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import orjson

from agents.kafka.admin import KafkaUnavailableError
from billing.db import StoreError as MoneyStoreError
from billing_meter import billing_cli
from billing_meter.settings import SettingsError, worker_settings
from pipeline import report
from pipeline.eventfile import EventFileError, open_event_file, read_messages
from pipeline.replay import replay, summary_line
from pipeline.settings import add_rule_options, config_from
from pipeline.tracegen import TraceSpec, generate
from sinks.base import BatchingSink
from sinks.clickhouse.store import StoreError, open_store
from sinks.clickhouse.urls import default_url


class UserError(Exception):
    """Reported as ``billing-meter: error: MESSAGE`` with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see {self.prog} --help)")


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--clickhouse",
        metavar="URL",
        default=None,
        help="chdb:///path or http://user:pass@host:8123/db "
        "(default: $CLICKHOUSE_URL or ./billing-data/chdb)",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _cmd_replay(args: argparse.Namespace) -> int:
    cfg = config_from(args)
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


def _report_query(args: argparse.Namespace) -> dict[str, str]:
    """The usage options as the HTTP API's query parameters (one set of rules for both)."""
    query = {
        "by": args.by,
        "range": args.range,
        "from": args.start,
        "to": args.end,
        "app": args.app,
        "all_apps": "1" if args.all_apps else None,
        "tz": args.tz,
    }
    return {name: value for name, value in query.items() if value is not None}


def _cmd_usage(args: argparse.Namespace) -> int:
    query = _report_query(args)
    request = report.from_query(query)  # validated here, whichever source answers
    data = _usage_from_api(args, query) if args.api else _usage_from_store(args, request)
    renderers = {"json": report.render_json, "csv": report.render_csv, "table": report.render_table}
    sys.stdout.write(renderers[args.format](data).rstrip("\n") + "\n")
    return 0


def _usage_from_store(
    args: argparse.Namespace, request: report.ReportRequest
) -> list[dict[str, object]]:
    store = open_store(args.clickhouse or default_url())
    try:
        return report.fetch(store, request)
    finally:
        store.close()


def _usage_from_api(args: argparse.Namespace, query: dict[str, str]) -> list[dict[str, object]]:
    """The same report from a running worker (``GET /api/usage``)."""
    url = f"{args.api.rstrip('/')}/api/usage?" + urllib.parse.urlencode(query)
    token = os.environ.get("BILLING_API_KEY") or os.environ.get("BILLING_API_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - user's URL
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            data: list[dict[str, object]] = orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = orjson.loads(exc.read() or b"{}").get("error", exc.reason)
        raise UserError(f"{url}: {exc.code} {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise UserError(f"cannot reach the worker at {args.api}: {exc}") from None
    return data


def _cmd_worker(args: argparse.Namespace) -> int:
    from billing_meter.worker import run_worker  # noqa: PLC0415 - only streaming needs Kafka

    return run_worker(worker_settings(args))


def _cmd_produce(args: argparse.Namespace) -> int:
    from agents.produce import from_thread, produce  # noqa: PLC0415 - see above

    settings = worker_settings(args)
    if args.path == "-":  # standard input: each line sent as it arrives (paced producers)
        lines = read_messages(sys.stdin.buffer, "stdin: ")
        count = asyncio.run(produce(from_thread(lines), settings))
    else:
        path = Path(args.path)
        with open_event_file(path) as stream:
            progress = _progress(path, stream.tell)
            count = asyncio.run(produce(read_messages(stream, f"{path}: "), settings, progress))
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
        default=6,
        help="partitions of topics it creates (default 6, $BILLING_PARTITIONS)",
    )
    parser.add_argument(
        "--topic-prefix",
        default=os.environ.get("BILLING_TOPIC_PREFIX", ""),
        help="prefix of every topic and consumer group (isolation)",
    )


def _cmd_generate(args: argparse.Namespace) -> int:
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
    _store_option(replay_cmd)
    add_rule_options(replay_cmd)
    replay_cmd.set_defaults(run=_cmd_replay)

    usage = commands.add_parser("usage", help="the usage report (SPEC section 6)")
    _store_option(usage)
    usage.add_argument("--by", choices=report.BYS)
    usage.add_argument("--range", choices=tuple(report.RANGES))
    usage.add_argument("--from", dest="start", metavar="T", help="inclusive, ISO date/datetime")
    usage.add_argument("--to", dest="end", metavar="T", help="exclusive, ISO date/datetime")
    apps = usage.add_mutually_exclusive_group()
    apps.add_argument("--app", metavar="ID")
    apps.add_argument("--all-apps", action="store_true", help="sum all apps (app_id '*')")
    usage.add_argument(
        "--tz", metavar="ZONE", help="IANA zone of the periods, e.g. Asia/Kolkata (default UTC)"
    )
    usage.add_argument("--format", choices=("table", "json", "csv"), default="table")
    usage.add_argument(
        "--api", metavar="URL", help="ask a running worker (http://HOST:PORT) instead of the store"
    )
    usage.set_defaults(run=_cmd_usage)

    worker = commands.add_parser("worker", help="run a streaming worker")
    worker.add_argument(
        "--roles", default="meter,sink,web,billing", help="meter,sink,web,billing (default all)"
    )
    worker.add_argument("--db", metavar="URL", help="money store (default $BILLING_DB_URL)")
    _kafka_options(worker)
    _store_option(worker)
    worker.add_argument("--web-port", type=int, default=6066)
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
    billing_cli.add_commands(commands, _billing)
    return parser


def _billing(handler: billing_cli.Handler) -> billing_cli.Handler:
    def run(args: argparse.Namespace) -> int:
        try:
            return billing_cli.run_billing(handler, args)
        except billing_cli.BillingCliError as exc:
            raise UserError(str(exc)) from None

    return run


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    try:
        args = build_parser().parse_args(argv)
        code: int = args.run(args)
    except (
        UserError,
        report.ReportError,
        EventFileError,
        StoreError,
        ValueError,
        KafkaUnavailableError,
        MoneyStoreError,
        SettingsError,
    ) as exc:
        print(f"billing-meter: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"billing-meter: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("billing-meter: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI prints one line, never a traceback
        print(f"billing-meter: error: {type(exc).__name__}: {str(exc)[:500]}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
