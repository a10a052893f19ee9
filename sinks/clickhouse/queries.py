"""Report SQL, built by pure functions (tested as strings). Values go in as bound parameters.

Periods are computed in the requested IANA zone from quarter-hours (sessions) and from
quarter-hour masks per UTC day (agents), so hours, days, weeks and months of any zone
are exact: every real offset is a multiple of 15 minutes.
"""

from __future__ import annotations

import functools
import re
from datetime import date, timedelta
from zoneinfo import available_timezones

from sinks.clickhouse.ddl import DAY_MS, QUARTER_MS, check_identifier

WHOLE_DAY = (1 << 96) - 1  # every quarter-hour of a UTC day
_EPOCH = date(1970, 1, 1)
_ZONE = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")
_PERIODS = {
    "hour": "toStartOfHour({x}, '{tz}')",
    "day": "toStartOfDay({x}, '{tz}')",
    "week": "toDateTime(toMonday({x}, '{tz}'), '{tz}')",
    "month": "toDateTime(toStartOfMonth({x}, '{tz}'), '{tz}')",
}


@functools.cache
def _zones() -> frozenset[str]:
    """The IANA zone names (read from the tz database once: reports call this per query)."""
    return frozenset(available_timezones())


def _date(day: int) -> date:
    return _EPOCH + timedelta(days=day)


def check_zone(tz: str) -> str:
    """Return ``tz`` if it is an IANA zone name (safe to quote in SQL), else ``ValueError``."""
    if _ZONE.fullmatch(tz) is None or (tz != "UTC" and tz not in _zones()):
        raise ValueError(f"{tz!r} is not an IANA time zone (e.g. UTC, Asia/Kolkata)")
    return tz


def period_of(by: str, column: str, tz: str) -> str:
    """SQL for the start (an instant, ``DateTime``) of the zone's period holding ``column``."""
    return _PERIODS[by].format(x=column, tz=check_zone(tz))


def sessions_query(db: str, *, by: str, tz: str, app_filter: bool, sum_apps: bool) -> str:
    """Per period (and app): sessions by kind. Parameters ``start``, ``end`` and ``apps``."""
    db = check_identifier(db)
    app_col = "'*'" if sum_apps else "app_id"
    where = "quarter >= {start:DateTime('UTC')} AND quarter < {end:DateTime('UTC')}"
    if app_filter:
        where += " AND app_id IN {apps:Array(String)}"
    # reading every app in key order (app, quarter), aggregating as it goes, took 80
    # instead of 100-106 ms for a year by month (1e7 sessions, median of 7, three runs);
    # for a few apps it only costs planning (6.8 against 5.1 ms for one app, 30 days)
    in_order = "" if app_filter else " SETTINGS optimize_aggregation_in_order = 1"
    return (
        f"SELECT {period_of(by, 'quarter', tz)} AS p, {app_col} AS a, "
        "sum(usage), sum(voice), sum(alert) "
        f"FROM {db}.session_counts FINAL WHERE {where} GROUP BY p, a{in_order}"
    )


def agent_cut(start_ms: int, end_ms: int) -> dict[str, object]:
    """Parameters of ``agents_query`` for ``[start_ms, end_ms)``: its first and last UTC
    days, and the masks of their quarter-hours in range. A quarter-hour is in range when
    it starts in it, as in ``sessions_query``; the days between are whole."""
    first, last = start_ms // DAY_MS, (end_ms - 1) // DAY_MS
    lo = -(-(start_ms - first * DAY_MS) // QUARTER_MS)  # the first quarter starting >= start
    hi = -(-(end_ms - last * DAY_MS) // QUARTER_MS)
    head, tail = WHOLE_DAY & ~((1 << lo) - 1), (1 << hi) - 1
    if first == last:
        head = tail = head & tail
    return {"first_day": _date(first), "head": head, "last_day": _date(last), "tail": tail}


def agents_query(db: str, *, by: str, tz: str, app_filter: bool, sum_apps: bool) -> str:
    """Per period (and app): distinct agents, from the quarter-hour masks of each UTC day.

    Parameters: ``agent_cut``'s and ``apps``. For days, weeks and months a UTC day meets
    at most two of the zone's periods: its mask splits at the quarter-hour where the
    second begins (bit ``k``). Hours expand the mask's bits (hourly ranges are short).
    A row of an unmerged part counts like its merged row: an agent is in a period when
    any of its rows has a bit there. One flat SELECT: the query's cost is its planning
    (a nested form of the same took 13-18 instead of 10-15 ms for one app, 30 days).
    """
    db = check_identifier(db)
    app_col = "'*'" if sum_apps else "app_id"
    where = "day >= {first_day:Date} AND day <= {last_day:Date}"
    if app_filter:
        where += " AND app_id IN {apps:Array(String)}"
    cut = (
        "multiIf(day = {first_day:Date}, {head:UInt128}, day = {last_day:Date}, "
        f"{{tail:UInt128}}, toUInt128('{WHOLE_DAY}'))"
    )
    common = f"toDateTime(day, 'UTC') AS d0, bitAnd(mask, {cut}) AS m"
    if by == "hour":
        return (
            f"WITH {common} SELECT {period_of('hour', 'd0 + q * 900', tz)} AS p, {app_col} AS a, "
            f"uniqExact(agent_id) FROM {db}.agent_days ARRAY JOIN "
            "arrayFilter(i -> bitAnd(m, bitShiftLeft(toUInt128(1), i)) != 0, range(96)) AS q "
            f"WHERE {where} GROUP BY p, a"
        )
    first, last = period_of(by, "d0", tz), period_of(by, "d0 + 86399", tz)
    return (
        f"WITH {common}, {first} AS pa, {last} AS pb, "
        "if(pa = pb, 96, intDiv(toUInt32(pb) - toUInt32(d0), 900)) AS k "
        f"SELECT part.1 AS p, {app_col} AS a, uniqExact(agent_id) FROM {db}.agent_days "
        "ARRAY JOIN [(pa, bitAnd(m, bitShiftLeft(toUInt128(1), k) - 1)), "
        "(pb, bitShiftRight(m, k))] AS part "
        f"WHERE {where} AND part.2 != 0 GROUP BY p, a"
    )


def apps_query(db: str) -> str:
    """Every app id with any activity, sorted."""
    db = check_identifier(db)
    return (
        f"SELECT app_id FROM (SELECT DISTINCT app_id FROM {db}.session_counts UNION DISTINCT "
        f"SELECT DISTINCT app_id FROM {db}.agent_days) ORDER BY app_id"
    )
