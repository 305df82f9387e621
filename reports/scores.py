"""Scores per centre, ISO week and dimension, aggregated in SQL.

Each row covers one centre and week at one of three levels: a flow `dimension` (e.g.
`respect`), one of the four QI `area`s (e.g. `patient_experience`), or `overall`.

How the figures are defined (the same at every level):

- Only scored answers count (`score` not null). Sessions that were abandoned, expired or
  opted out count for the questions they did answer.
- `respondents`: distinct sessions (mothers) with at least one scored answer in the row.
- `mean`: the mean score (0–100) of the row's answers, **per answer**. For a dimension
  asked once per survey that is also the mean per mother; an area or `overall` pools
  every answer of its dimensions, so a mother who answered more questions weighs more.
- `top_box`: the percentage of the row's answers that were top box, also per answer.
- `ci_low`, `ci_high`: the 95% Wilson interval of the top-box proportion. Answers of one
  mother are correlated, so the interval takes `respondents`, not the number of answers,
  as its sample size: exact for a dimension asked once per survey, conservative (wider)
  when a row pools several answers per mother.
- `suppressed`: fewer than `min_respondents` respondents; the figures are then None but
  the row is listed, so that readers see that answers came in.

Figures are exact here; round them only to show them (reports.exports).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway import i18n
from gateway.engine.definition import AREAS
from gateway.errors import WeekError
from gateway.models import Answer, Center, iso_week
from reports.stats import wilson_interval

OVERALL = "overall"
LEVELS = ("dimension", "area", "overall")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclasses.dataclass(frozen=True)
class ScoreRow:
    """One centre's figures for one week and one dimension, area or `overall`."""

    center: str
    week: str
    dimension: str
    level: str  # "dimension", "area" or "overall"
    respondents: int
    answers: int
    mean: float | None
    top_box: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool

    def as_dict(self, decimals: int | None = None) -> dict:
        """Return the row as the JSON object of the contract, figures rounded if asked."""
        row = dataclasses.asdict(self)
        if decimals is not None:
            for name in ("mean", "top_box", "ci_low", "ci_high"):
                if row[name] is not None:
                    row[name] = round_half_up(row[name], decimals)
        return row


def round_half_up(value: float, decimals: int) -> float:
    """Round as people do (62.25 -> 62.3), not to even as round() does (62.25 -> 62.2)."""
    return float(i18n.round_half_up(value, decimals))


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
            raise WeekError(f"{name}: {text!r} is not a week of {year} "
                            f"(it has {_weeks_in(year)} ISO weeks)") from None
    raise WeekError(f"{name}: {text!r} is not an ISO week; expected YYYY-Www, e.g. 2025-W07")


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


def _weeks_in(year: int) -> int:
    return dt.date(year, 12, 28).isocalendar()[1]


# ---------------------------------------------------------------- queries


def _aggregate(level: str, conditions: list[sa.ColumnElement[bool]]) -> sa.Select:
    """One GROUP BY over answers for a level: (center_id, week, key, n, answers, sums)."""
    key = {"dimension": Answer.dimension, "area": Answer.area,
           "overall": sa.literal(OVERALL, sa.String)}[level]
    rated = sa.case((Answer.top_box.is_not(None), 1), else_=0)
    hits = sa.case((Answer.top_box.is_(True), 1), else_=0)
    where = [Answer.score.is_not(None), Answer.center_id.is_not(None), *conditions]
    if level != "overall":
        where.append(key.is_not(None))
    group = [Answer.center_id, Answer.week] + ([key] if level != "overall" else [])
    return (sa.select(Answer.center_id.label("center_id"), Answer.week.label("week"),
                      key.label("dimension"), sa.literal(level, sa.String).label("level"),
                      sa.func.count(sa.distinct(Answer.session_id)).label("respondents"),
                      sa.func.count().label("answers"),
                      sa.func.avg(Answer.score).label("mean"),
                      sa.func.sum(rated).label("rated"), sa.func.sum(hits).label("hits"))
            .where(*where).group_by(*group))


def _center_filter(codes: Iterable[str] | None) -> list[sa.ColumnElement[bool]]:
    if codes is None:
        return []
    return [Answer.center_id.in_(sa.select(Center.id).where(Center.code.in_(list(codes))))]


def _run(db: so.Session, selects: list[sa.Select], min_respondents: int) -> list[ScoreRow]:
    union = (selects[0] if len(selects) == 1 else sa.union_all(*selects)).subquery("scores")
    level_order = sa.case({level: i for i, level in enumerate(LEVELS)}, value=union.c.level)
    query = (sa.select(Center.code, union).join(Center, Center.id == union.c.center_id)
             .order_by(Center.code, union.c.week, level_order, union.c.dimension))
    return [_row(found, min_respondents) for found in db.execute(query)]


def _row(found: sa.Row, min_respondents: int) -> ScoreRow:
    respondents = int(found.respondents)
    suppressed = respondents < min_respondents
    mean = top_box = ci_low = ci_high = None
    rated = int(found.rated or 0)
    if not suppressed:
        mean = float(found.mean)
        if rated:
            proportion = int(found.hits) / rated
            top_box = 100 * proportion
            low, high = wilson_interval(proportion * respondents, respondents)
            ci_low, ci_high = 100 * low, 100 * high
    return ScoreRow(center=found.code, week=found.week, dimension=found.dimension,
                    level=found.level, respondents=respondents, answers=int(found.answers),
                    mean=mean, top_box=top_box, ci_low=ci_low, ci_high=ci_high,
                    suppressed=suppressed)


def compute_scores(db: so.Session, *, centers: list[str] | None = None, week_from: str,
                   week_to: str, min_respondents: int) -> list[ScoreRow]:
    """Return the rows of every centre (or those coded in `centers`) for weeks from..to.

    Rows come ordered by centre, week, then dimensions, areas and `overall`. Only
    (centre, week, dimension) triples with answers are listed.
    """
    check_range(week_from, week_to)
    conditions = [Answer.week.between(week_from, week_to), *_center_filter(centers)]
    return _run(db, [_aggregate(level, conditions) for level in LEVELS], min_respondents)


def series(db: so.Session, center: str, week_from: str, week_to: str, *, min_respondents: int,
           dimension: str = OVERALL) -> list[ScoreRow]:
    """Return one row per week from..to for one centre and one dimension, area or `overall`.

    Weeks without answers get a row with 0 respondents (suppressed), so that a run chart
    shows the gap instead of joining its neighbours.
    """
    check_range(week_from, week_to)
    conditions = [Answer.week.between(week_from, week_to), *_center_filter([center])]
    if dimension == OVERALL:
        level = "overall"
    elif dimension in AREAS:
        level = "area"
        conditions.append(Answer.area == dimension)
    else:
        level = "dimension"
        conditions.append(Answer.dimension == dimension)
    found = {row.week: row for row in _run(db, [_aggregate(level, conditions)], min_respondents)}
    empty = dict(respondents=0, answers=0, mean=None, top_box=None, ci_low=None, ci_high=None,
                 suppressed=True)
    return [found.get(week) or ScoreRow(center=center, week=week, dimension=dimension,
                                        level=level, **empty)
            for week in weeks_between(week_from, week_to)]
