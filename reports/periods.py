"""Reporting periods: ISO weeks ("YYYY-Www") and months ("YYYY-MM") in the gateway's time zone.

Pure date arithmetic, no database. A session belongs to the week and month of its start
as seen in `GATEWAY_TIMEZONE` (models.iso_week), so that an answer on Sunday at 23:30 in
Bamako counts in that Sunday's week and month, whatever UTC says.

Every parser raises ArgumentError (WeekError for weeks) with a message that names the
field it was given, so that the CLI and the API answer bad input with a clear 4xx.
"""

from __future__ import annotations

import datetime as dt
import re

from gateway.errors import ArgumentError, WeekError
from gateway.models import iso_week

WEEK, MONTH = "week", "month"
INTERVALS = (WEEK, MONTH)
# How many periods a run chart shows when no range is given: a year of weeks, two of months.
DEFAULT_COUNT = {WEEK: 52, MONTH: 24}
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


# ---------------------------------------------------------------- weeks


def parse_week(text: str, name: str = "week") -> tuple[int, int]:
    """Return (year, week) of an ISO week "YYYY-Www"; WeekError names `name` if it is not."""
    match = _WEEK.match(text.strip()) if isinstance(text, str) else None
    if match:
        year, week = int(match[1]), int(match[2])
        try:
            dt.date.fromisocalendar(year, week, 1)
            return year, week
        except ValueError:
            raise WeekError(f"{name}: {text!r} is not a week of {year:04d} "
                            f"({_weeks_text(year)})") from None
    raise WeekError(f"{name}: {text!r} is not an ISO week; expected YYYY-Www, e.g. 2025-W07")


def _weeks_text(year: int) -> str:
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return f"years run from {dt.MINYEAR:04d} to {dt.MAXYEAR}"
    return f"it has {dt.date(year, 12, 28).isocalendar()[1]} ISO weeks"


def monday_of(week: str) -> dt.date:
    """Return the Monday that starts an ISO week."""
    year, number = parse_week(week)
    return dt.date.fromisocalendar(year, number, 1)


def week_of(day: dt.date) -> str:
    """Return the ISO week ("YYYY-Www") of a date."""
    year, number, _ = day.isocalendar()
    return f"{year:04d}-W{number:02d}"


def current_week(now: dt.datetime, tz: dt.tzinfo) -> str:
    """Return the ISO week of the aware moment `now` as seen in time zone `tz`."""
    return iso_week(now, tz)


def previous_week(week: str) -> str:
    """Return the ISO week before `week`."""
    return week_of(monday_of(week) - dt.timedelta(days=7))


def next_week(week: str) -> str:
    """Return the ISO week after `week`."""
    return week_of(monday_of(week) + dt.timedelta(days=7))


def weeks_back(week: str, count: int) -> str:
    """Return the week `count` weeks before `week` (0: `week` itself)."""
    return week_of(monday_of(week) - dt.timedelta(days=7 * count))


def weeks_between(week_from: str, week_to: str) -> list[str]:
    """Return every ISO week from `week_from` to `week_to`, both included (empty if backwards)."""
    first, last = monday_of(week_from), monday_of(week_to)
    count = (last - first).days // 7 + 1
    return [week_of(first + dt.timedelta(days=7 * i)) for i in range(max(count, 0))]


def check_range(week_from: str, week_to: str, *, names: tuple[str, str] = ("from", "to")) -> None:
    """Raise WeekError, naming the parameter, if either week is malformed or from > to."""
    parse_week(week_from, names[0])
    parse_week(week_to, names[1])
    if monday_of(week_from) > monday_of(week_to):
        raise WeekError(f"{names[0]}: {week_from} is after {names[1]} {week_to}")


# ---------------------------------------------------------------- months


def parse_month(text: str, name: str = "month") -> tuple[int, int]:
    """Return (year, month) of "YYYY-MM"; ArgumentError names `name` if it is not one."""
    match = _MONTH.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ArgumentError(f"{name}: {text!r} is not a month; expected YYYY-MM, e.g. 2026-03")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ArgumentError(f"{name}: {text!r} is not a month (months run from 01 to 12)")
    if year < dt.MINYEAR:
        raise ArgumentError(f"{name}: {text!r} is not a month (years start at 0001)")
    return year, month


def first_day(month: str) -> dt.date:
    """Return the first day of a month "YYYY-MM"."""
    year, number = parse_month(month)
    return dt.date(year, number, 1)


def month_of(day: dt.date) -> str:
    """Return the month ("YYYY-MM") of a date."""
    return f"{day.year:04d}-{day.month:02d}"


def months_back(month: str, count: int) -> str:
    """Return the month `count` months before `month` (0: `month` itself)."""
    year, number = parse_month(month)
    index = year * 12 + number - 1 - count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(month_from: str, month_to: str) -> list[str]:
    """Return every month from `month_from` to `month_to`, both included (empty if backwards)."""
    (y1, m1), (y2, m2) = parse_month(month_from), parse_month(month_to)
    count = (y2 * 12 + m2) - (y1 * 12 + m1) + 1
    return [months_back(month_to, n) for n in reversed(range(max(count, 0)))]


# ---------------------------------------------------------------- either


def check_interval(interval: str, name: str = "interval") -> str:
    """Return `interval` if it is "week" or "month"; else ArgumentError naming `name`."""
    if interval not in INTERVALS:
        raise ArgumentError(f"{name}: {interval!r} is not an interval; expected week or month")
    return interval


def parse_period(text: str, interval: str, name: str = "period") -> str:
    """Return the period `text` ("YYYY-Www" or "YYYY-MM" as `interval` says) once checked."""
    if check_interval(interval) == WEEK:
        parse_week(text, name)
    else:
        parse_month(text, name)
    return text.strip()


def period_of(day: dt.date, interval: str) -> str:
    """Return the week or month of a date."""
    return week_of(day) if check_interval(interval) == WEEK else month_of(day)


def first_day_of(period: str, interval: str) -> dt.date:
    """Return the first day of a period (a Monday for a week)."""
    return monday_of(period) if check_interval(interval) == WEEK else first_day(period)


def periods_back(period: str, interval: str, count: int, name: str = "period") -> str:
    """Return the period `count` periods before `period` (negative: after)."""
    try:
        if check_interval(interval) == WEEK:
            return weeks_back(period, count)
        return months_back(period, count)
    except OverflowError:
        raise ArgumentError(f"{name}: {abs(count)} {interval}s "
                            f"{'before' if count > 0 else 'after'} {period} is out of the "
                            "calendar") from None


def periods_between(start: str, end: str, interval: str) -> list[str]:
    """Return every period from `start` to `end`, both included."""
    if check_interval(interval) == WEEK:
        return weeks_between(start, end)
    return months_between(start, end)


def check_period_range(start: str, end: str, interval: str, *,
                       names: tuple[str, str] = ("from", "to")) -> tuple[str, str]:
    """Return (start, end) once both parse as `interval` periods and start <= end."""
    start, end = parse_period(start, interval, names[0]), parse_period(end, interval, names[1])
    if first_day_of(start, interval) > first_day_of(end, interval):
        error = WeekError if interval == WEEK else ArgumentError
        raise error(f"{names[0]}: {start} is after {names[1]} {end}")
    return start, end


def local_bounds(start: str, end: str, interval: str,
                 tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """Return the aware moments (UTC) where `start` begins and where the period after `end` does."""
    after = periods_back(end, interval, -1)
    return _local_midnight(first_day_of(start, interval), tz), \
        _local_midnight(first_day_of(after, interval), tz)


def _local_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tz).astimezone(dt.timezone.utc)


def local_today(now: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """Return the date that the aware moment `now` is in time zone `tz`."""
    return now.astimezone(tz).date()


def default_range(interval: str, today: dt.date, *, count: int | None = None,
                  start: str | None = None, end: str | None = None,
                  names: tuple[str, str] = ("from", "to")) -> tuple[str, str]:
    """Return (start, end) as given, else `end` = today's period and `start` `count` back.

    The CLI and the API both take their defaults from here: `report scores` and the scores
    API with `count=1` (the current week alone), run charts with DEFAULT_COUNT periods.
    The current period is included, so its last point may still grow.
    """
    count = DEFAULT_COUNT[check_interval(interval)] if count is None else count
    end = parse_period(end, interval, names[1]) if end else period_of(today, interval)
    start = start or periods_back(end, interval, count - 1, names[0])
    return check_period_range(start, end, interval, names=names)


def last_complete(interval: str, today: dt.date) -> str:
    """Return the latest period that has ended by `today` (last week, or last month)."""
    return periods_back(period_of(today, interval), interval, 1)
