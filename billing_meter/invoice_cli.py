"""``billing-meter invoices`` and ``orders`` (BILLING-SPEC §6)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from billing import documents
from billing.access import OPERATOR
from billing.finalize import finalize_due
from billing.invoice_settings import SELLER_MISSING
from billing_meter.cli_args import UserError
from billing_meter.cli_support import now_ms, open_sessions, print_data
from billing_meter.settings import invoice_settings


def _list(args: argparse.Namespace) -> int:
    rows = documents.list_invoices(open_sessions(args), OPERATOR, args.app)
    if args.format == "json":
        print_data(rows)
        return 0
    cols = ("number", "app_id", "status", "period_start", "period_end", "currency", "total")
    print_data(rows, "table", cols)
    return 0


def _write(data: bytes, output: str | None) -> None:
    if output:
        Path(output).write_bytes(data)
        print(f"wrote {len(data):,} bytes to {output}")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def _show(args: argparse.Namespace) -> int:
    sessions = open_sessions(args)
    if args.format == "pdf":
        _write(documents.invoice_pdf(sessions, OPERATOR, args.number), args.output)
        return 0
    invoice = documents.get_invoice(sessions, OPERATOR, args.number)
    if args.output:
        import orjson  # noqa: PLC0415 - only this branch writes JSON to a file

        _write(orjson.dumps(invoice, option=orjson.OPT_INDENT_2) + b"\n", args.output)
    else:
        print_data(invoice)
    return 0


def _finalize(args: argparse.Namespace) -> int:
    from billing.posting import ReportUsage  # noqa: PLC0415 - only this reads ClickHouse
    from sinks.clickhouse.store import open_store  # noqa: PLC0415
    from sinks.clickhouse.urls import default_url  # noqa: PLC0415

    settings = invoice_settings()
    if not settings.can_finalize:
        raise UserError(SELLER_MISSING)
    sessions = open_sessions(args)
    store = open_store(args.clickhouse or default_url())
    try:
        numbers = finalize_due(sessions, now_ms(), settings, ReportUsage(store))
    finally:
        store.close()
    print(f"finalized {len(numbers)} invoices" + (f": {', '.join(numbers)}" if numbers else ""))
    return 0


def _orders(args: argparse.Namespace) -> int:
    rows = documents.list_orders(open_sessions(args), OPERATOR, args.app)
    cols = ("id", "app_id", "kind", "status", "amount", "currency", "requested_by", "created_at")
    print_data(rows, args.format, cols)
    return 0


def _receipt(args: argparse.Namespace) -> int:
    body = documents.receipt_pdf(open_sessions(args), OPERATOR, args.id, invoice_settings())
    _write(body, args.output)
    return 0
