"""A PDSA cycle's before and after: the same number of weeks each side of its start.

The after side runs from the week of the cycle's start to the week of its end (or, while it
runs, to the last complete week), at most MAX_WEEKS; the before side is as many weeks just
before the start. Each side gives the median of its weekly scores, the top-box share of its
respondents (p̄, as a p-chart's centre line) and its respondents; the after weeks are tested
against the before weeks' median, frozen (`reports.runchart.run_chart` with a freeze cycle).

SQL through `reports.series`, then pure arithmetic: no Flask, no charts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy.orm as so

from gateway.errors import ArgumentError
from reports import periods, runchart, series
from reports.periods import WEEK
from reports.scores import OVERALL

MAX_WEEKS = 26  # half a year each side: beyond it a "before" says little about the change


@dataclasses.dataclass(frozen=True)
class Side:
    """The weeks of one side and its figures; a figure is None when every week is suppressed.

    `weeks_shown` is the n of the median (weeks with a figure), `top_box_respondents` the n
    of the top-box share (the respondents of those weeks), `respondents` everyone's.
    """

    first: str
    last: str
    weeks: int
    weeks_shown: int
    respondents: int
    top_box_respondents: int
    median: float | None
    top_box: float | None

    @property
    def suppressed(self) -> bool:
        """Whether too few responses leave this side without figures."""
        return self.median is None


@dataclasses.dataclass(frozen=True)
class BeforeAfter:
    """A cycle's two sides, and the run chart of their weeks with the before median frozen.

    `before`, `after` and `chart` are None when the cycle has no complete week yet.
    """

    dimension: str
    before: Side | None
    after: Side | None
    chart: runchart.RunChart | None

    @property
    def tested(self) -> bool:
        """Whether the after weeks were tested against a frozen before median."""
        return self.chart is not None and self.chart.tested.frozen

    @property
    def signal(self) -> bool:
        """Whether the after weeks signal against the frozen baseline (False if untested)."""
        return self.tested and self.chart.signal

    @property
    def change(self) -> float | None:
        """Return the after median minus the before median, when both are shown."""
        if self.before is None or self.after is None or None in (self.before.median,
                                                                 self.after.median):
            return None
        return self.after.median - self.before.median


def compare(db: so.Session, center_code: str, *, started_on: dt.date,
            ended_on: dt.date | None, dimension: str = OVERALL, today: dt.date,
            min_respondents: int, tz: dt.tzinfo, title: str = "") -> BeforeAfter:
    """Return the before and after figures of a cycle of centre `center_code`.

    `dimension` is what the cycle aims at (a dimension, an area or overall); one that no
    answer scores yet gives two suppressed sides. `title` marks the cycle on the chart.
    Raises NotFoundError for an unknown centre.
    """
    after = after_weeks(started_on, ended_on, today)
    if not after:
        return BeforeAfter(dimension, None, None, None)
    before = periods.weeks_between(periods.weeks_back(after[0], len(after)),
                                   periods.previous_week(after[0]))
    points = _points(db, center_code, dimension, before[0], after[-1], min_respondents, tz)
    chart = runchart.run_chart(
        [runchart.Point(p.period, p.respondents, p.mean) for p in points],
        [runchart.Cycle(len(before), runchart.Baseline.FREEZE, title)])
    return BeforeAfter(dimension, _side(points[:len(before)]), _side(points[len(before):]),
                       chart)


def after_weeks(started_on: dt.date, ended_on: dt.date | None, today: dt.date) -> list[str]:
    """Return the complete weeks from the cycle's start to its end, at most MAX_WEEKS."""
    first = periods.week_of(started_on)
    last = periods.last_complete(WEEK, today)
    if ended_on is not None:
        last = min(last, periods.week_of(ended_on))
    if last < first:
        return []
    return periods.weeks_between(first, last)[:MAX_WEEKS]


def _points(db: so.Session, center_code: str, dimension: str, start: str, end: str,
            min_respondents: int, tz: dt.tzinfo) -> list[series.Point]:
    try:
        series.level_of(db, dimension)
    except ArgumentError:  # a dimension no answer scores yet: every week is empty
        return [series.Point(week, 0, None, None, None, None, None, True)
                for week in periods.weeks_between(start, end)]
    return series.center_series(db, center_code, dimension=dimension, interval=WEEK,
                                start=start, end=end, min_respondents=min_respondents, tz=tz)


def _side(points: list[series.Point]) -> Side:
    shown = [p for p in points if not p.suppressed]
    top_box = runchart.p_bar([runchart.Point(p.period, p.respondents, p.top_box)
                              for p in shown])
    return Side(first=points[0].period, last=points[-1].period, weeks=len(points),
                weeks_shown=len(shown), respondents=sum(p.respondents for p in points),
                top_box_respondents=sum(p.respondents for p in shown),
                median=runchart.median([p.mean for p in shown]), top_box=top_box)
