"""The week range a report covers when its caller leaves one end out, for the CLI and the API."""

from __future__ import annotations

import datetime as dt

from reports.scores import current_week


def default_range(week_from: str | None, week_to: str | None, *, now: dt.datetime,
                  tz: dt.tzinfo) -> tuple[str, str]:
    """Return (from, to): `to` defaults to the current week in `tz`, `from` to `to`."""
    week_to = week_to or current_week(now, tz)
    return week_from or week_to, week_to
