"""The usage report (SPEC section 6): request validation, range resolution, output formats.

Shared by the CLI and the worker's HTTP API, so both accept and refuse the same
things with the same messages.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import orjson

from pipeline.core.config import HOUR_MS

BYS = ("hour", "day", "week", "month")
RANGES = {"24h": 24 * HOUR_MS, "7d": 7 * 24 * HOUR_MS, "30d": 30 * 24 * HOUR_MS}
MAX_PERIODS = 2_000  # a request may span at most this many periods of its granularity
_DAY_MS = 24 * HOUR_MS
_EARLIEST_MS, _LATEST_MS = 0, 32_503_680_000_000  # 1970-01-01 .. 3000-01-01 UTC
_APPROX_MS = {"hour": HOUR_MS, "day": _DAY_MS, "week": 7 * _DAY_MS, "month": 28 * _DAY_MS}
KEYS = (
    "period",
    "app_id",
    "billing_sessions",
    "usage_sessions",
    "alert_sessions",
    "voice_sessions",
    "agents",
)


class ReportError(ValueError):
    """A bad report request; the message is one line for the user (or a 400)."""


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """A resolved request: ``[start_ms, end_ms)`` at granularity ``by``, in zone ``tz``.

    ``tz`` None means UTC, with hours written ``...Z``; a zone (even ``UTC``) writes
    hours in local time with their offset (SPEC section 6).
    """

    by: str
    start_ms: int
    end_ms: int
    app_id: str | None = None
    all_apps: bool = False
    tz: str | None = None

    @property
    def zone(self) -> tzinfo:
        """The zone periods are computed in."""
        return UTC if self.tz is None else ZoneInfo(self.tz)


def zone_of(tz: str | None) -> tzinfo:
    """``tz`` as a zone (UTC for None); raises :class:`ReportError` for an unknown name."""
    if tz is None:
        return UTC
    refusal = ReportError(f"tz: {tz[:64]!r} is not an IANA time zone (e.g. Asia/Kolkata)")
    if tz != "UTC" and tz not in _zone_names():  # not posix/..., right/... or file paths
        raise refusal
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise refusal from None


_BEYOND_MICROSECONDS = re.compile(r"[.,][0-9]{7,}")

#: Names the zone database ships that are not zones of a place: the server's own setting
#: (``localtime``) and tzdata's placeholder (``Factory``).
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_PLACES


def parse_time(text: str, name: str, zone: tzinfo = UTC) -> int:
    """ISO date (``2026-11-26``) or datetime (in ``zone`` unless it has one) to epoch ms."""
    if _BEYOND_MICROSECONDS.search(text):  # Python would drop the digits silently
        raise ReportError(f"{name}: {text[:40]!r} has more than 6 fractional digits")
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), zone)
        else:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
            moment = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
        ms = int(moment.timestamp() * 1000)
    except (ValueError, OverflowError):
        raise ReportError(f"{name}: {text[:40]!r} is not an ISO date or datetime") from None
    if moment.microsecond % 1000:  # finer than a millisecond, which ms would drop
        raise ReportError(f"{name}: {text[:40]!r} is finer than a millisecond")
    if not _EARLIEST_MS <= ms < _LATEST_MS:
        raise ReportError(f"{name}: {text[:40]!r} is outside 1970-2999")
    return ms


def resolve(
    *,
    now_ms: int,
    by: str | None = None,
    range_: str | None = None,
    start: str | None = None,
    end: str | None = None,
    app_id: str | None = None,
    all_apps: bool = False,
    tz: str | None = None,
) -> ReportRequest:
    """Validate the request and resolve its range. Raises :class:`ReportError`."""
    zone = zone_of(tz)
    if by is not None and by not in BYS:
        raise ReportError(f"by: {by!r} is not one of {', '.join(BYS)}")
    if app_id is not None and all_apps:
        raise ReportError("app and all-apps exclude each other")
    if app_id == "":
        raise ReportError("app: must not be empty")
    if range_ is not None and (start is not None or end is not None):
        raise ReportError("give either a range or from/to, not both")
    if start is None and end is not None:
        raise ReportError("to needs from")
    if start is not None:
        start_ms = parse_time(start, "from", zone)
        end_ms = parse_time(end, "to", zone) if end is not None else _ceil(now_ms, "hour", zone)
        by = by or "day"
    else:
        range_ = range_ or "7d"
        if range_ not in RANGES:
            raise ReportError(f"range: {range_!r} is not one of {', '.join(RANGES)}")
        unit = "hour" if range_ == "24h" else "day"
        end_ms = _ceil(now_ms + 1, unit, zone)
        start_ms = end_ms - RANGES[range_] if unit == "hour" else _days_before(end_ms, range_, zone)
        by = by or unit
    return _checked(ReportRequest(by, start_ms, end_ms, app_id, all_apps, tz))


def _days_before(end_ms: int, range_: str, zone: tzinfo) -> int:
    """The local midnight ``range_`` days before ``end_ms`` (days may be 23 or 25 h long)."""
    local = datetime.fromtimestamp(end_ms / 1000, zone).date()
    days = RANGES[range_] // _DAY_MS
    return _at_midnight(local - timedelta(days=days), zone)


def _at_midnight(day: date, zone: tzinfo) -> int:
    return int(datetime.combine(day, datetime.min.time(), zone).timestamp() * 1000)


QUERY_PARAMETERS = ("by", "from", "to", "range", "app", "all_apps", "tz")


def from_query(query: Mapping[str, str], now_ms: int | None = None) -> ReportRequest:
    """Resolve the HTTP API's query parameters (same rules and messages as the CLI)."""
    unknown = sorted(set(query) - set(QUERY_PARAMETERS))
    if unknown:
        raise ReportError(f"unknown parameter: {', '.join(unknown)}")
    all_apps = query.get("all_apps", "")
    if all_apps not in {"", "0", "1", "true", "false"}:
        raise ReportError("all_apps: use 1 or 0")
    return resolve(
        now_ms=int(time.time() * 1000) if now_ms is None else now_ms,
        by=query.get("by") or None,
        range_=query.get("range") or None,
        start=query.get("from") or None,
        end=query.get("to") or None,
        app_id=query.get("app"),
        all_apps=all_apps in {"1", "true"},
        tz=query.get("tz") or None,
    )


def iso_ms(ms: int) -> str:
    """Epoch ms to ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _checked(request: ReportRequest) -> ReportRequest:
    if request.end_ms <= request.start_ms:
        raise ReportError("to must be after from")
    zone = request.zone
    if any(_floor(ms, "hour", zone) != ms for ms in (request.start_ms, request.end_ms)):
        raise ReportError("from and to must be whole hours (the report's finest resolution)")
    periods = (request.end_ms - request.start_ms) // _APPROX_MS[request.by]
    if periods > MAX_PERIODS:
        raise ReportError(
            f"the range spans about {periods} {request.by}s; at most {MAX_PERIODS}"
            " periods per request: choose a coarser granularity"
        )
    return request


def _floor(ms: int, by: str, zone: tzinfo = UTC) -> int:
    """Start of the zone's period holding ``ms`` (every real offset is whole quarters)."""
    moment = datetime.fromtimestamp(ms / 1000, zone)
    if by == "hour":
        return ms - (moment.minute * 60_000 + moment.second * 1000 + moment.microsecond // 1000)
    day = moment.date()
    if by == "week":
        day -= timedelta(days=day.weekday())
    elif by == "month":
        day = day.replace(day=1)
    return _at_midnight(day, zone)


def _ceil(ms: int, by: str, zone: tzinfo = UTC) -> int:
    floor = _floor(ms, by, zone)
    if floor == ms:
        return floor
    step = {"hour": HOUR_MS, "day": 26 * HOUR_MS, "week": 7 * _DAY_MS + 2 * HOUR_MS}
    return _floor(floor + step.get(by, 32 * _DAY_MS), by, zone)


class UsageStore(Protocol):
    """What the report needs of a store (``sinks.clickhouse.store.ClickHouseStore``)."""

    def usage_rows(
        self,
        *,
        by: str,
        start_ms: int,
        end_ms: int,
        app_id: str | None,
        sum_apps: bool,
        tz: str = "UTC",
        apps: Sequence[str] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Rows (period start as a UTC instant, app, usage, voice, alert, agents), sorted."""
        ...


def fetch(
    store: UsageStore, request: ReportRequest, apps: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The SPEC section 6 objects for a resolved request (only ``apps``, when given)."""
    rows = store.usage_rows(
        by=request.by,
        start_ms=request.start_ms,
        end_ms=request.end_ms,
        app_id=request.app_id,
        sum_apps=request.all_apps,
        tz=request.tz or "UTC",
        apps=apps,
    )
    return to_report(rows, request.by, request.tz)


def format_period(moment: datetime, by: str, tz: str | None = None) -> str:
    """A period's start (an instant) as SPEC section 6 writes it.

    By hour: ``YYYY-MM-DDTHH:00:00Z`` without a zone, local time with its offset with one
    (``2026-11-26T05:00:00+05:30``); otherwise the zone's local date ``YYYY-MM-DD``.
    """
    instant = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    local = instant.astimezone(zone_of(tz))
    if by != "hour":
        return local.strftime("%Y-%m-%d")
    if tz is None:
        return local.strftime("%Y-%m-%dT%H:00:00Z")
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%dT%H:%M:00") + f"{offset[:3]}:{offset[3:]}"


def to_report(rows: list[tuple[Any, ...]], by: str, tz: str | None = None) -> list[dict[str, Any]]:
    """Store rows (period, app, usage, voice, alert, agents) to the SPEC section 6 objects."""
    return [
        {
            "period": format_period(period, by, tz),
            "app_id": app,
            "billing_sessions": usage + alert,
            "usage_sessions": usage,
            "alert_sessions": alert,
            "voice_sessions": voice,
            "agents": agents,
        }
        for period, app, usage, voice, alert, agents in rows
    ]


def render_json(report: list[dict[str, Any]]) -> str:
    """The machine-readable form: a JSON array."""
    return orjson.dumps(report).decode()


def render_csv(report: list[dict[str, Any]]) -> str:
    """CSV with a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=KEYS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(report)
    return out.getvalue()


def render_table(report: list[dict[str, Any]]) -> str:
    """An aligned table with a totals line (agents are not summable: the total is blank)."""
    headers = ("period", "app", "billing", "usage", "alert", "voice", "agents")
    body = [[str(row[key]) for key in KEYS] for row in report]
    totals = ["total", "", *(str(sum(row[k] for row in report)) for k in KEYS[2:6]), ""]
    lines = [list(headers), *body, totals]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]

    def fmt(line: list[str]) -> str:
        cells = [
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(lines[0]), rule, *map(fmt, body), rule, fmt(totals)])
