"""The default week range of a report, shared by `gateway report scores` and the API."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from reports.periods import default_range, local_today

BAMAKO = zoneinfo.ZoneInfo("Africa/Bamako")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
# Sunday 2025-03-09 20:00 UTC: still week 10 in Bamako, already week 11 in Tokyo.
SUNDAY_EVENING = dt.datetime(2025, 3, 9, 20, 0, tzinfo=dt.timezone.utc)


def weeks(start, end, tz=BAMAKO):
    return default_range("week", local_today(SUNDAY_EVENING, tz), count=1, start=start, end=end)


def test_no_week_given_is_the_current_week_where_the_gateway_runs():
    assert weeks(None, None) == ("2025-W10", "2025-W10")
    assert weeks(None, None, tz=TOKYO) == ("2025-W11", "2025-W11")


def test_one_end_given_fills_the_other():
    assert weeks("2025-W01", None) == ("2025-W01", "2025-W10")
    assert weeks(None, "2025-W05") == ("2025-W05", "2025-W05")
