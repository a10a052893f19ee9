"""Report request resolution and rendering."""

from __future__ import annotations

from datetime import datetime

import orjson
import pytest

from pipeline import report
from pipeline.report import ReportError, parse_time, resolve, zone_of

NOW = 1_764_160_245_000  # 2025-11-26T12:30:45Z (a Wednesday)
H = 3_600_000


def ms(text: str) -> int:
    return report.parse_time(text, "t")


def test_last_24_hours_is_24_hourly_periods_including_the_current_hour() -> None:
    request = resolve(now_ms=NOW, range_="24h")
    assert (request.by, request.end_ms, request.start_ms) == (
        "hour",
        ms("2025-11-26T13:00:00Z"),
        ms("2025-11-25T13:00:00Z"),
    )


def test_7_and_30_days_end_tomorrow_by_day() -> None:
    seven = resolve(now_ms=NOW, range_="7d")
    assert (seven.by, seven.start_ms, seven.end_ms) == ("day", ms("2025-11-20"), ms("2025-11-27"))
    thirty = resolve(now_ms=NOW, range_="30d", by="week")
    assert thirty.start_ms == ms("2025-10-28")


def test_ranges_in_a_zone_are_its_hours_and_days() -> None:
    """Asia/Kolkata is +05:30: its hours start at :30 UTC, its days at 18:30 UTC."""
    hours = resolve(now_ms=NOW, range_="24h", tz="Asia/Kolkata")  # 18:00:45 IST
    assert (hours.start_ms, hours.end_ms) == (
        ms("2025-11-25T13:30:00Z"),
        ms("2025-11-26T13:30:00Z"),
    )
    days = resolve(now_ms=NOW, range_="7d", tz="Asia/Kathmandu")  # +05:45
    assert (days.start_ms, days.end_ms) == (
        ms("2025-11-19T18:15:00Z"),
        ms("2025-11-26T18:15:00Z"),
    )
    custom = resolve(now_ms=NOW, start="2025-11-01", end="2025-12-01", tz="Asia/Kolkata")
    assert custom.start_ms == ms("2025-10-31T18:30:00Z")
    with pytest.raises(ReportError, match="whole hours"):  # a UTC whole hour is not one in IST
        resolve(now_ms=NOW, start="2025-11-01T10:00:00Z", end="2025-11-02", tz="Asia/Kolkata")
    with pytest.raises(ReportError, match="IANA"):
        resolve(now_ms=NOW, range_="7d", tz="Mars/Base")


def test_days_across_a_daylight_saving_change_stay_whole_local_days() -> None:
    """Europe/Berlin's 2025-10-26 has 25 hours: 7 days back is still a local midnight."""
    now = ms("2025-10-28T09:00:00Z")
    days = resolve(now_ms=now, range_="7d", tz="Europe/Berlin")
    assert (days.start_ms, days.end_ms) == (
        ms("2025-10-21T22:00:00Z"),  # 00:00 CEST
        ms("2025-10-28T23:00:00Z"),  # 00:00 CET
    )


def test_zone_hours_are_written_in_local_time_with_their_offset() -> None:
    moment = datetime(2025, 11, 25, 23, 30)  # a UTC instant
    assert report.format_period(moment, "hour", "Asia/Kolkata") == "2025-11-26T05:00:00+05:30"
    assert report.format_period(moment, "hour") == "2025-11-25T23:00:00Z"
    assert report.format_period(datetime(2025, 11, 26, 18, 15), "day", "Asia/Kathmandu") == (
        "2025-11-27"
    )


def test_datetime_with_zone_and_naive_is_utc() -> None:
    assert (
        ms("2025-11-26T14:00:00+02:00") == ms("2025-11-26T12:00:00Z") == ms("2025-11-26T12:00:00")
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"by": "year"}, "not one of"),
        ({"range_": "1y"}, "not one of"),
        ({"range_": "7d", "start": "2025-11-01"}, "either a range or from/to"),
        ({"end": "2025-11-01"}, "to needs from"),
        ({"start": "2025-11-02", "end": "2025-11-01"}, "after from"),
        ({"start": "2025-11-01T10:30:00Z", "end": "2025-11-02"}, "whole hours"),
        ({"start": "last week"}, "not an ISO date"),
        ({"start": "2020-01-01", "end": "2025-01-01", "by": "hour"}, "at most 2000"),
        ({"app_id": "a", "all_apps": True}, "exclude each other"),
    ],
)
def test_bad_requests(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        resolve(now_ms=NOW, **kwargs)  # type: ignore[arg-type]


def test_rows_become_spec_objects() -> None:
    rows = [(datetime(2025, 11, 26, 12), "app-1", 9, 4, 3, 2)]
    assert report.to_report(rows, "hour") == [
        {
            "period": "2025-11-26T12:00:00Z",
            "app_id": "app-1",
            "billing_sessions": 12,
            "usage_sessions": 9,
            "alert_sessions": 3,
            "voice_sessions": 4,
            "agents": 2,
        }
    ]
    assert report.to_report(rows, "day")[0]["period"] == "2025-11-26"
    assert list(orjson.loads(report.render_json(report.to_report(rows, "day")))[0]) == list(
        report.KEYS
    )


def test_table_and_csv() -> None:
    data = report.to_report(
        [(datetime(2025, 11, 24), "a", 1, 0, 2, 1), (datetime(2025, 11, 25), "b", 10, 5, 0, 3)],
        "day",
    )
    table = report.render_table(data).splitlines()
    assert table[0].split() == ["period", "app", "billing", "usage", "alert", "voice", "agents"]
    assert table[-1].split() == ["total", "13", "11", "2", "5"]
    assert report.render_csv(data).splitlines()[2] == "2025-11-25,b,10,10,0,5,3"


@pytest.mark.parametrize(
    ("query", "want"),
    [
        ({}, ("day", "2025-11-20T00:00:00Z", "2025-11-27T00:00:00Z", None, False)),
        ({"range": "24h"}, ("hour", "2025-11-25T13:00:00Z", "2025-11-26T13:00:00Z", None, False)),
        (
            {"range": "30d", "by": "week"},
            ("week", "2025-10-28T00:00:00Z", "2025-11-27T00:00:00Z", None, False),
        ),
        ({"app": "app-1"}, ("day", "2025-11-20T00:00:00Z", "2025-11-27T00:00:00Z", "app-1", False)),
        ({"all_apps": "1"}, ("day", "2025-11-20T00:00:00Z", "2025-11-27T00:00:00Z", None, True)),
        ({"all_apps": "0"}, ("day", "2025-11-20T00:00:00Z", "2025-11-27T00:00:00Z", None, False)),
        (
            {"from": "2025-11-01", "to": "2026-01-01", "by": "month"},
            ("month", "2025-11-01T00:00:00Z", "2026-01-01T00:00:00Z", None, False),
        ),
        (
            {"from": "2025-11-26T10:00:00Z", "by": "hour"},
            ("hour", "2025-11-26T10:00:00Z", "2025-11-26T13:00:00Z", None, False),
        ),
    ],
)
def test_every_api_filter_resolves(query: dict[str, str], want: tuple[object, ...]) -> None:
    request = report.from_query(query, now_ms=NOW)
    got = (
        request.by,
        report.iso_ms(request.start_ms),
        report.iso_ms(request.end_ms),
        request.app_id,
        request.all_apps,
    )
    assert got == want


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"bogus": "1"}, "unknown parameter: bogus"),
        ({"all_apps": "yes"}, "all_apps: use 1 or 0"),
        ({"app": ""}, "app: must not be empty"),
        ({"by": "year"}, "by: 'year' is not one of"),
        ({"range": "1y"}, "range: '1y' is not one of"),
        ({"from": "2000-01-01", "to": "2026-01-01", "by": "hour"}, "at most 2000 periods"),
        ({"from": "yesterday"}, "from: 'yesterday' is not an ISO date"),
        ({"to": "2025-11-01"}, "to needs from"),
    ],
)
def test_bad_api_queries_are_refused_with_a_message(query: dict[str, str], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        report.from_query(query, now_ms=NOW)


@pytest.mark.parametrize(
    "text",
    ["2026-12-01T00:00:00.000000001", "2026-12-01T00:00:00.000001", "2026-12-01T00:00:00,0000001"],
)
def test_a_time_finer_than_a_millisecond_is_refused_not_truncated(text: str) -> None:
    with pytest.raises(ReportError, match="from"):
        parse_time(text, "from")


@pytest.mark.parametrize("tz", ["localtime", "Factory", "posixrules", "posix/Asia/Kolkata"])
def test_only_zones_of_places_are_zones(tz: str) -> None:
    with pytest.raises(ReportError, match="not an IANA time zone"):
        zone_of(tz)
