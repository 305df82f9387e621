"""Scores per centre, ISO week and dimension, aggregated in SQL; each mother counts once.

Each row covers one centre and week at one of three levels: a flow `dimension` (e.g.
`respect`), one of the four QI `area`s (e.g. `patient_experience`), or `overall`.

How the figures are defined (the same at every level):

- Only scored answers count (`score` not null). Sessions that were abandoned, expired or
  opted out count for the questions they did answer.
- `respondents`: distinct sessions (mothers) with at least one scored answer in the row.
- `mean`: each mother's own mean score (0–100) over her scored answers in the row, then
  the mean of those over the row's mothers. A mother who was asked more questions (a
  prenatal visit adds one) or stopped early weighs as much as any other, so that the mix
  of visits or how far mothers got does not move an area or `overall` by itself.
- `top_box`: likewise, each mother's share of top-box answers in the row, averaged over
  the mothers, as a percentage. Its numerator, the sum of the shares, is `top_box / 100 *
  respondents` (a p-chart's count, reports.series).
- `ci_low`, `ci_high`: the 95% Wilson interval of the top-box proportion, with the
  mothers (`respondents`) as its sample size.
- `answers`: how many scored answers the row's mothers gave (for reading, not weighting).
- `suppressed`: fewer than `min_respondents` respondents; the figures are then None but
  the row is listed, so that readers see that answers came in.

`channel` (ussd, sms, voice, imported) keeps only the sessions taken on that channel.
Figures are exact here; round them only to show them (reports.exports).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway import i18n
from gateway.errors import ArgumentError
from gateway.models import Answer, Center, SurveySession
from reports.periods import (check_range, current_week, monday_of, next_week, parse_week,
                             previous_week, week_of, weeks_back, weeks_between)
from reports.stats import wilson_interval

__all__ = ["CHANNELS", "LEVELS", "OVERALL", "ScoreRow", "check_channel", "check_range",
           "compute_scores", "current_week", "monday_of", "next_week", "parse_week",
           "previous_week", "round_half_up", "week_of", "weeks_back", "weeks_between"]

OVERALL = "overall"
LEVELS = ("dimension", "area", "overall")
# Survey sessions' channels, the voice line's and imported paper surveys' included.
CHANNELS = ("ussd", "sms", "voice", "imported")


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


# ---------------------------------------------------------------- queries


def check_channel(channel: str | None, name: str = "channel") -> str | None:
    """Return `channel` if it is None or a sessions' channel; else ArgumentError naming `name`."""
    if channel is not None and channel not in CHANNELS:
        raise ArgumentError(f"{name}: {channel!r} is not a channel; expected one of "
                            f"{', '.join(CHANNELS)}")
    return channel


def scored_answers(conditions: list[sa.ColumnElement[bool]], *, channel: str | None = None,
                   period: sa.ColumnElement[str] | None = None,
                   sessions: bool = False) -> sa.Select:
    """Select the scored answers of known centres: centre, session, keys, score, hit, period.

    `period` defaults to the answer's ISO week; `sessions` joins the survey sessions for a
    period or condition that needs them (a channel filter joins them anyway).
    """
    hit = sa.case((Answer.top_box.is_(True), 1.0), else_=0.0)
    query = (sa.select(Answer.center_id, Answer.session_id, Answer.dimension, Answer.area,
                       Answer.score, hit.label("hit"),
                       (Answer.week if period is None else period).label("period"))
             .where(Answer.score.is_not(None), Answer.center_id.is_not(None), *conditions))
    if sessions or channel is not None:
        query = query.join(SurveySession, SurveySession.id == Answer.session_id)
    if check_channel(channel) is not None:
        # Compared as text: the enum type would refuse channels this version does not file.
        query = query.where(sa.type_coerce(SurveySession.channel, sa.String) == channel)
    return query


def by_level(scored: sa.Subquery | sa.CTE, level: str) -> sa.Select:
    """Group scored answers per centre, period and key of `level`, each mother counting once.

    Rows: center_id, period, dimension (the key), level, respondents, answers, mean (of the
    mothers' means) and hits (the sum of the mothers' top-box shares).
    """
    key = {"dimension": scored.c.dimension, "area": scored.c.area,
           "overall": sa.literal(OVERALL, sa.String)}[level]
    keyed = level != "overall"
    mothers = (sa.select(scored.c.center_id, scored.c.period, key.label("dimension"),
                         sa.func.count().label("answers"),
                         sa.func.avg(scored.c.score).label("mean"),
                         sa.func.avg(scored.c.hit).label("share"))
               .where(*([key.is_not(None)] if keyed else []))
               .group_by(scored.c.center_id, scored.c.period, *([key] if keyed else []),
                         scored.c.session_id)
               .subquery(f"mothers_{level}"))
    return (sa.select(mothers.c.center_id, mothers.c.period, mothers.c.dimension,
                      sa.literal(level, sa.String).label("level"),
                      sa.func.count().label("respondents"),
                      sa.func.sum(mothers.c.answers).label("answers"),
                      sa.func.avg(mothers.c.mean).label("mean"),
                      sa.func.sum(mothers.c.share).label("hits"))
            .group_by(mothers.c.center_id, mothers.c.period, mothers.c.dimension))


@dataclasses.dataclass(frozen=True)
class Figures:
    """A row's shown figures, None when suppressed; percentages 0–100."""

    mean: float | None
    top_box: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool


def figures(respondents: int, mean: float | None, hits: float | None,
            min_respondents: int) -> Figures:
    """Return the figures of a row of `respondents` mothers, suppressed below the threshold."""
    if respondents < min_respondents or respondents <= 0 or mean is None:
        return Figures(None, None, None, None, suppressed=True)
    hits = min(float(hits or 0), respondents)  # float sums may pass n by 1e-12
    low, high = wilson_interval(hits, respondents)
    return Figures(float(mean), 100 * hits / respondents, 100 * low, 100 * high,
                   suppressed=False)


def _center_filter(codes: Iterable[str] | None) -> list[sa.ColumnElement[bool]]:
    if codes is None:
        return []
    return [Answer.center_id.in_(sa.select(Center.id).where(Center.code.in_(list(codes))))]


def _run(db: so.Session, selects: list[sa.Select], min_respondents: int) -> list[ScoreRow]:
    union = (selects[0] if len(selects) == 1 else sa.union_all(*selects)).subquery("scores")
    level_order = sa.case({level: i for i, level in enumerate(LEVELS)}, value=union.c.level)
    query = (sa.select(Center.code, union).join(Center, Center.id == union.c.center_id)
             .order_by(Center.code, union.c.period, level_order, union.c.dimension))
    return [_row(found, min_respondents) for found in db.execute(query)]


def _row(found: sa.Row, min_respondents: int) -> ScoreRow:
    respondents = int(found.respondents)
    shown = figures(respondents, found.mean, found.hits, min_respondents)
    return ScoreRow(center=found.code, week=found.period, dimension=found.dimension,
                    level=found.level, respondents=respondents, answers=int(found.answers),
                    **dataclasses.asdict(shown))


def compute_scores(db: so.Session, *, centers: list[str] | None = None, week_from: str,
                   week_to: str, min_respondents: int,
                   channel: str | None = None) -> list[ScoreRow]:
    """Return the rows of every centre (or those coded in `centers`) for weeks from..to.

    Rows come ordered by centre, week, then dimensions, areas and `overall`. Only
    (centre, week, dimension) triples with answers are listed. `channel` keeps only the
    sessions taken on it.
    """
    check_range(week_from, week_to)
    conditions = [Answer.week.between(week_from, week_to), *_center_filter(centers)]
    scored = scored_answers(conditions, channel=channel).cte("scored")
    return _run(db, [by_level(scored, level) for level in LEVELS], min_respondents)
