"""The default week range of a report, shared by `gateway report scores` and the API."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from reports.weeks import default_range

BAMAKO = zoneinfo.ZoneInfo("Africa/Bamako")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
# Sunday 2025-03-09 20:00 UTC: still week 10 in Bamako, already week 11 in Tokyo.
SUNDAY_EVENING = dt.datetime(2025, 3, 9, 20, 0, tzinfo=dt.timezone.utc)


def test_no_week_given_is_the_current_week_where_the_gateway_runs():
    assert default_range(None, None, now=SUNDAY_EVENING, tz=BAMAKO) == ("2025-W10", "2025-W10")
    assert default_range(None, None, now=SUNDAY_EVENING, tz=TOKYO) == ("2025-W11", "2025-W11")


def test_one_end_given_fills_the_other():
    assert default_range("2025-W01", None, now=SUNDAY_EVENING, tz=BAMAKO) == \
        ("2025-W01", "2025-W10")
    assert default_range(None, "2025-W05", now=SUNDAY_EVENING, tz=BAMAKO) == \
        ("2025-W05", "2025-W05")
