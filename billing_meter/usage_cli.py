"""``billing-meter usage``: the report of SPEC section 6, from the store or a running worker."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from billing_meter.cli_args import UserError, store_option
from pipeline import report


def add_usage_command(commands: Any) -> None:
    """Register ``usage`` on the CLI's subparsers."""
    usage = commands.add_parser("usage", help="the usage report (SPEC section 6)")
    store_option(usage)
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
    from sinks.clickhouse.store import open_store  # noqa: PLC0415 - --help must not pay for it
    from sinks.clickhouse.urls import default_url  # noqa: PLC0415

    store = open_store(args.clickhouse or default_url())
    try:
        return report.fetch(store, request)
    finally:
        store.close()


def _usage_from_api(args: argparse.Namespace, query: dict[str, str]) -> list[dict[str, object]]:
    """The same report from a running worker (``GET /api/usage``)."""
    import urllib.error  # noqa: PLC0415 - --help must not pay for it
    import urllib.parse  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    import orjson  # noqa: PLC0415

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
