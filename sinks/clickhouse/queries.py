"""Report SQL, built by pure functions (tested as strings). Values go in as bound parameters.

Periods are computed in the requested IANA zone from quarter-hours (sessions) and from
quarter-hour masks per UTC day (agents), so hours, days, weeks and months of any zone
are exact: every real offset is a multiple of 15 minutes.
"""

from __future__ import annotations

import functools
import re
from zoneinfo import available_timezones

from sinks.clickhouse.ddl import check_identifier

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


def check_zone(tz: str) -> str:
    """Return ``tz`` if it is an IANA zone name (safe to quote in SQL), else ``ValueError``."""
    if _ZONE.fullmatch(tz) is None or (tz != "UTC" and tz not in _zones()):
        raise ValueError(f"{tz!r} is not an IANA time zone (e.g. UTC, Asia/Kolkata)")
    return tz


def period_of(by: str, column: str, tz: str) -> str:
    """SQL for the start (an instant, ``DateTime``) of the zone's period holding ``column``."""
    return _PERIODS[by].format(x=column, tz=check_zone(tz))


def sessions_query(db: str, *, by: str, tz: str, app_filter: bool, sum_apps: bool) -> str:
    """Per period (and app): sessions by kind. Parameters ``start``, ``end`` and ``app``."""
    db = check_identifier(db)
    app_col = "'*'" if sum_apps else "app_id"
    where = "quarter >= {start:DateTime('UTC')} AND quarter < {end:DateTime('UTC')}"
    if app_filter:
        where += " AND app_id IN {apps:Array(String)}"
    # reading in key order (app, quarter) and aggregating as it goes took 80 instead of
    # 100-106 ms for every app, a year by month (1e7 sessions, median of 7, three runs)
    return (
        f"SELECT {period_of(by, 'quarter', tz)} AS p, {app_col} AS a, "
        "sum(usage), sum(voice), sum(alert) "
        f"FROM {db}.session_counts FINAL WHERE {where} GROUP BY p, a "
        "SETTINGS optimize_aggregation_in_order = 1"
    )


def agents_query(db: str, *, by: str, tz: str, app_filter: bool, sum_apps: bool) -> str:
    """Per period (and app): distinct agents, from the quarter-hour masks of each UTC day.

    For days, weeks and months a UTC day meets at most two of the zone's periods: the
    mask splits at the quarter-hour where the second begins (bit ``k``). Hours expand
    the mask's bits (hourly ranges are short: at most 2,000 periods).
    """
    db = check_identifier(db)
    app_col = "'*'" if sum_apps else "app_id"
    where = (
        "day >= toDate({start:DateTime('UTC')} - 86400) AND day <= toDate({end:DateTime('UTC')})"
    )
    if app_filter:
        where += " AND app_id IN {apps:Array(String)}"
    # each day's mask cut to the requested range [start, end): bits [lo, hi)
    bit = "greatest(0, least(96, intDiv(toInt64({x}) - toInt64(d0), 900)))"
    lo, hi = bit.format(x="{start:DateTime('UTC')}"), bit.format(x="{end:DateTime('UTC')}")
    days = (
        f"SELECT app_id, agent_id, d0, bitAnd(mm, bitShiftLeft(toUInt128(1), {hi}) - "
        f"bitShiftLeft(toUInt128(1), {lo})) AS m FROM (SELECT app_id, agent_id, "
        "toDateTime(day, 'UTC') AS d0, groupBitOr(mask) AS mm "
        f"FROM {db}.agent_days WHERE {where} GROUP BY app_id, agent_id, day)"
    )
    if by == "hour":
        split = (
            f"SELECT app_id, agent_id, {period_of('hour', 'd0 + q * 900', tz)} AS p "
            f"FROM ({days}) ARRAY JOIN "
            "arrayFilter(i -> bitAnd(m, bitShiftLeft(toUInt128(1), i)) != 0, range(96)) AS q"
        )
    else:
        first, last = period_of(by, "d0", tz), period_of(by, "d0 + 86399", tz)
        split = (
            f"SELECT app_id, agent_id, part.1 AS p FROM (SELECT app_id, agent_id, m, "
            f"{first} AS pa, {last} AS pb, "
            "if(pa = pb, 96, intDiv(toUInt32(pb) - toUInt32(d0), 900)) AS k "
            f"FROM ({days})) ARRAY JOIN [(pa, bitAnd(m, bitShiftLeft(toUInt128(1), k) - 1)), "
            "(pb, bitShiftRight(m, k))] AS part WHERE part.2 != 0"
        )
    return f"SELECT p, {app_col} AS a, uniqExact(agent_id) FROM ({split}) GROUP BY p, a"


def apps_query(db: str) -> str:
    """Every app id with any activity, sorted."""
    db = check_identifier(db)
    return (
        f"SELECT app_id FROM (SELECT DISTINCT app_id FROM {db}.session_counts UNION DISTINCT "
        f"SELECT DISTINCT app_id FROM {db}.agent_days) ORDER BY app_id"
    )
