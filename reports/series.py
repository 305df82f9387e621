"""The data behind run charts: one centre's points per week or month, and the overview.

SQL aggregation returning plain values (no Flask, no charts). The figures are those of
reports.scores (each mother counts once, the same suppression rule); a period is an ISO
week ("YYYY-Www") or a month ("YYYY-MM") in the gateway's time zone, of the session's start.

- `center_series`: one point per period from `start` to `end`, empty periods included as
  suppressed points with 0 respondents, so that a chart shows a gap rather than a line.
- `overview`: every centre (or those asked) in one grouped query: a period's respondents
  and overall figures, and the period before's, for the dashboard's first page.

Weeks are read from the answers' `week` column through the (center_id, week) index; months
also bound the weeks they overlap, so that the same index serves them, and bucket sessions
by the UTC instants where each local month begins.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.engine.definition import AREAS
from gateway.errors import ArgumentError, NotFoundError
from gateway.models import Answer, Center, SurveySession
from reports import periods
from reports.periods import MONTH, WEEK
from reports.scores import OVERALL, by_level, check_channel, figures, scored_answers


@dataclasses.dataclass(frozen=True)
class Point:
    """One period of a run chart; figures None when suppressed, percentages 0–100.

    `top_box_hits` is the sum of the mothers' top-box shares, the numerator of a p-chart:
    `top_box == 100 * top_box_hits / respondents`.
    """

    period: str
    respondents: int
    mean: float | None
    top_box: float | None
    top_box_hits: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool


@dataclasses.dataclass(frozen=True)
class CenterOverview:
    """One centre's line of the overview: a period's overall figures and the one before's."""

    center: str
    name: str
    period: str
    respondents: int
    mean: float | None
    top_box: float | None
    ci_low: float | None  # the top-box proportion's 95% Wilson interval, as in the scores
    ci_high: float | None
    suppressed: bool
    previous_period: str
    previous_respondents: int
    previous_mean: float | None  # None when that period is suppressed

    @property
    def change(self) -> float | None:
        """Return the overall mean's change from the period before, if both are shown."""
        if self.mean is None or self.previous_mean is None:
            return None
        return self.mean - self.previous_mean


def level_of(db: so.Session, dimension: str, name: str = "dimension") -> str:
    """Return the level of `dimension` (overall, an area, a dimension some answer scores)."""
    if dimension == OVERALL:
        return "overall"
    if dimension in AREAS:
        return "area"
    scored = isinstance(dimension, str) and db.scalar(
        sa.select(Answer.id).where(Answer.dimension == dimension).limit(1)) is not None
    if not scored:
        raise ArgumentError(f"{name}: {dimension!r} is not overall, a QI area "
                            f"({', '.join(AREAS)}) or a dimension that any answer scores")
    return "dimension"


def center_series(db: so.Session, center_code: str, *, dimension: str = OVERALL,
                  interval: str = WEEK, start: str, end: str, min_respondents: int,
                  tz: dt.tzinfo, channel: str | None = None) -> list[Point]:
    """Return one point per period from `start` to `end` (both included) for one centre.

    `dimension` is a dimension id, an area id or `overall`; `channel` keeps only the
    sessions taken on it. Raises ArgumentError naming the field for bad input and
    NotFoundError for an unknown centre.
    """
    start, end = periods.check_period_range(start, end, periods.check_interval(interval))
    check_channel(channel)
    center_id = db.scalar(sa.select(Center.id).where(Center.code == center_code))
    if center_id is None:
        raise NotFoundError(f"no centre with code {center_code!r}")
    found = _points(db, [Answer.center_id == center_id], dimension, interval, start, end, tz,
                    channel).get(center_id, {})
    return [_point(period, found.get(period), min_respondents)
            for period in periods.periods_between(start, end, interval)]


def centers_series(db: so.Session, centers: list[str] | None = None, *,
                   dimension: str = OVERALL, interval: str = WEEK, start: str, end: str,
                   min_respondents: int, tz: dt.tzinfo,
                   channel: str | None = None) -> dict[str, list[Point]]:
    """Return the points of every centre (or those coded in `centers`) in one grouped query.

    For the overview's signal badges: {centre code: points as center_series gives them}.
    """
    start, end = periods.check_period_range(start, end, periods.check_interval(interval))
    check_channel(channel)
    query = sa.select(Center.id, Center.code).order_by(Center.code)
    conditions = []
    if centers is not None:
        query = query.where(Center.code.in_(list(centers)))
        conditions.append(Answer.center_id.in_(query.with_only_columns(Center.id)))
    codes = {row.id: row.code for row in db.execute(query)}
    found = _points(db, conditions, dimension, interval, start, end, tz, channel)
    span = periods.periods_between(start, end, interval)
    return {code: [_point(period, found.get(center_id, {}).get(period), min_respondents)
                   for period in span] for center_id, code in codes.items()}


def _points(db: so.Session, conditions: list[sa.ColumnElement[bool]], dimension: str,
            interval: str, start: str, end: str, tz: dt.tzinfo,
            channel: str | None) -> dict[int, dict[str, sa.Row]]:
    """Read the grouped rows of a series: {center_id: {period: row}}."""
    level = level_of(db, dimension)
    if level != "overall":
        conditions = [*conditions,
                      (Answer.area if level == "area" else Answer.dimension) == dimension]
    scored = _in_periods(conditions, start, end, interval, tz, channel).subquery("scored")
    found: dict[int, dict[str, sa.Row]] = {}
    for row in db.execute(by_level(scored, level)):
        found.setdefault(row.center_id, {})[row.period] = row
    return found


def _point(period: str, found: sa.Row | None, min_respondents: int) -> Point:
    respondents = int(found.respondents) if found else 0
    shown = figures(respondents, found and found.mean, found and found.hits, min_respondents)
    hits = None if shown.suppressed else float(found.hits)
    return Point(period=period, respondents=respondents, mean=shown.mean,
                 top_box=shown.top_box, top_box_hits=hits, ci_low=shown.ci_low,
                 ci_high=shown.ci_high, suppressed=shown.suppressed)


def _in_periods(conditions: list[sa.ColumnElement[bool]], start: str, end: str, interval: str,
                tz: dt.tzinfo, channel: str | None) -> sa.Select:
    """Select the scored answers of sessions started in start..end, with their period."""
    if interval == WEEK:
        return scored_answers([*conditions, Answer.week.between(start, end)], channel=channel)
    begins, ends = periods.local_bounds(start, end, MONTH, tz)
    # The weeks that overlap the months let the (center_id, week) index narrow the scan.
    last_day = periods.first_day(periods.months_back(end, -1)) - dt.timedelta(days=1)
    weeks = Answer.week.between(periods.week_of(periods.first_day(start)),
                                periods.week_of(last_day))
    in_months = [SurveySession.started_at >= begins, SurveySession.started_at < ends]
    return scored_answers([*conditions, weeks, *in_months], channel=channel,
                          period=_month_bucket(start, end, tz), sessions=True)


def _month_bucket(start: str, end: str, tz: dt.tzinfo) -> sa.ColumnElement[str]:
    """Return a CASE naming the local month a session started in, by its UTC instant."""
    months = periods.months_between(start, end)
    cases = []
    for month in months[:-1]:
        _, after = periods.local_bounds(month, month, MONTH, tz)
        cases.append((SurveySession.started_at < after, sa.literal(month, sa.String)))
    return sa.case(*cases, else_=sa.literal(months[-1], sa.String)) if cases \
        else sa.literal(months[-1], sa.String)


def overview(db: so.Session, centers: list[str] | None = None, *, interval: str = WEEK,
             period: str, min_respondents: int, tz: dt.tzinfo,
             channel: str | None = None) -> list[CenterOverview]:
    """Return every centre's (or those coded in `centers`) overall figures for `period`.

    One grouped query for all centres; centres without answers are listed with 0
    respondents. `period` is usually periods.last_complete(interval, today).
    """
    period = periods.parse_period(period, periods.check_interval(interval), "period")
    check_channel(channel)
    before = periods.periods_back(period, interval, 1)
    conditions = [] if centers is None else [
        Answer.center_id.in_(sa.select(Center.id).where(Center.code.in_(list(centers))))]
    scored = _in_periods(conditions, before, period, interval, tz, channel).subquery("scored")
    rows = by_level(scored, "overall").subquery("rows")
    query = (sa.select(Center.code, Center.name, rows.c.period, rows.c.respondents,
                       rows.c.mean, rows.c.hits)
             .outerjoin(rows, rows.c.center_id == Center.id).order_by(Center.code))
    if centers is not None:
        query = query.where(Center.code.in_(list(centers)))
    found: dict[str, dict[str, sa.Row]] = {}
    names: dict[str, str] = {}
    for row in db.execute(query):
        names[row.code] = row.name
        found.setdefault(row.code, {})[row.period] = row
    return [_overview_line(code, names[code], found[code], period, before, min_respondents)
            for code in names]


def _overview_line(code: str, name: str, rows: dict[str | None, sa.Row], period: str,
                   before: str, min_respondents: int) -> CenterOverview:
    now, then = rows.get(period), rows.get(before)
    respondents = int(now.respondents) if now else 0
    shown = figures(respondents, now and now.mean, now and now.hits, min_respondents)
    previous_respondents = int(then.respondents) if then else 0
    previous = figures(previous_respondents, then and then.mean, then and then.hits,
                       min_respondents)
    return CenterOverview(center=code, name=name, period=period, respondents=respondents,
                          mean=shown.mean, top_box=shown.top_box, ci_low=shown.ci_low,
                          ci_high=shown.ci_high, suppressed=shown.suppressed,
                          previous_period=before, previous_respondents=previous_respondents,
                          previous_mean=previous.mean)
