"""One centre's run chart, built once for the series API and the dashboard's pages.

A `ChartQuery` is what a request asks for (`dimension`, `measure`, `interval`, `from`,
`to`, and for pages `chart=run|p`), read from query values with each mistake an
ArgumentError naming its field. `build_chart` reads the points (reports.series), the
centre's PDSA cycles (gateway.pdsa) and analyses them (reports.runchart): SQL stays in
reports.series, statistics in reports.runchart, drawing in gateway.web.charts.

A cycle is drawn on, and its `baseline` shapes, the charts of what it aims at: its own
dimension, its area, and `overall`; a cycle aimed at nothing (or at `overall`) is on
every chart of its centre.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence

import sqlalchemy.orm as so

from gateway.errors import ArgumentError
from gateway.i18n import round_half_up
from gateway.models import PdsaCycle
from gateway.pdsa import list_cycles
from gateway.settings import Settings
from reports import periods, runchart, series
from reports.scores import OVERALL

MEASURES = ("mean", "top_box")
CHARTS = ("run", "p")
# A longer range is a typing mistake, and would make one request read years of answers.
MAX_POINTS = {periods.WEEK: 260, periods.MONTH: 120}
DECIMALS = 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclasses.dataclass(frozen=True)
class ChartQuery:
    """What a chart shows: which figure, per week or month, over which periods."""

    dimension: str = OVERALL
    measure: str = "mean"
    interval: str = periods.WEEK
    start: str = ""
    end: str = ""
    chart: str = "run"

    def but(self, **changes: str) -> ChartQuery:
        """Return the same query with some fields changed."""
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True)
class Chart:
    """A centre's series analysed: the query, its points, the cycles on it, the statistics."""

    center: str
    query: ChartQuery
    points: tuple[series.Point, ...]
    cycles: tuple[PdsaCycle, ...]
    analysis: runchart.RunChart

    @property
    def suppressed_share(self) -> float:
        """Return the share of periods too thin to show since the first shown (1.0: none).

        The periods before a centre's first figures are not counted: a centre that
        began twenty weeks ago has twenty weeks to show, not thirty-two gaps.
        """
        shown = [i for i, p in enumerate(self.points) if not p.suppressed]
        if not shown:
            return 1.0
        since = self.points[shown[0]:]
        return sum(p.suppressed for p in since) / len(since)


def read_query(args: Mapping[str, str], today: dt.date, *, interval: str | None = None,
               chart: bool = False) -> ChartQuery:
    """Return the query in `args`; raise ArgumentError naming the first bad field.

    `interval` is the default when `args` has none; `chart` lets `chart=p` through (pages).
    """
    measure = _choice(args, "measure", MEASURES, "mean")
    kind = _choice(args, "chart", CHARTS, "run") if chart else "run"
    wanted = periods.check_interval(_text(args, "interval") or interval or periods.WEEK)
    start, end = periods.default_range(wanted, today, start=_text(args, "from") or None,
                                       end=_text(args, "to") or None)
    if len(periods.periods_between(start, end, wanted)) > MAX_POINTS[wanted]:
        raise ArgumentError(f"from: {start} to {end} is more than {MAX_POINTS[wanted]} "
                            f"{wanted}s; ask for a shorter range")
    return ChartQuery(dimension=_text(args, "dimension") or OVERALL, measure=measure,
                      interval=wanted, start=start, end=end, chart=kind)


def _text(args: Mapping[str, str], name: str) -> str:
    value = args.get(name, "")
    if not isinstance(value, str) or len(value) > 100:
        raise ArgumentError(f"{name}: at most 100 characters")
    if _CONTROL.search(value):
        raise ArgumentError(f"{name}: control characters are not allowed")
    return value.strip()


def _choice(args: Mapping[str, str], name: str, allowed: Sequence[str], default: str) -> str:
    value = _text(args, name) or default
    if value not in allowed:
        raise ArgumentError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


def build_chart(db: so.Session, code: str, query: ChartQuery, settings: Settings, *,
                dimension_areas: Mapping[str, str]) -> Chart:
    """Read and analyse centre `code`'s chart (ArgumentError, NotFoundError as series raises).

    `dimension_areas` maps each dimension the flows score to its area (pdsa.Vocabulary).
    """
    try:
        points = series.center_series(db, code, dimension=query.dimension,
                                      interval=query.interval, start=query.start, end=query.end,
                                      min_respondents=settings.min_respondents, tz=settings.tz)
    except ArgumentError:
        if query.dimension not in dimension_areas:
            raise
        # A dimension of the flows that no answer scores yet: a chart of gaps, not an error.
        points = [series.Point(period, 0, None, None, None, None, None, True) for period
                  in periods.periods_between(query.start, query.end, query.interval)]
    cycles = tuple(c for c in list_cycles(db, [code])
                   if aims_at(c, query.dimension, dimension_areas))
    return Chart(code, query, tuple(points), cycles, analyse(points, cycles, query))


def aims_at(cycle: PdsaCycle, dimension: str, dimension_areas: Mapping[str, str]) -> bool:
    """Whether `cycle` belongs on the chart of `dimension` (see the module's docstring)."""
    target = cycle.dimension or cycle.area
    if target in (None, "", OVERALL) or dimension == OVERALL:
        return True
    area = cycle.area or dimension_areas.get(target, target)
    return dimension in (target, area) or dimension_areas.get(dimension) == target


def analyse(points: Sequence[series.Point], cycles: Sequence[PdsaCycle],
            query: ChartQuery) -> runchart.RunChart:
    """Return the run chart (or p-chart) of `points`, in the phases the cycles make."""
    periods_shown = [p.period for p in points]
    marks = [runchart.Cycle(runchart.period_index(periods_shown, c.started_on),
                            runchart.Baseline(c.baseline) if c.baseline else None, c.title)
             for c in cycles]
    if query.chart == "p":
        values = [runchart.Point(p.period, p.respondents, p.top_box) for p in points]
        return runchart.p_chart(values, marks)
    values = [runchart.Point(p.period, p.respondents, getattr(p, query.measure))
              for p in points]
    return runchart.run_chart(values, marks)


def rounded(value: float | None) -> float | None:
    """Return a figure rounded for JSON and pages (one decimal), None kept."""
    return None if value is None else float(round_half_up(value, DECIMALS))


def series_json(chart: Chart) -> dict:
    """Return DESIGN.md's run chart JSON for `chart` (plus each phase, as runchart gives it)."""
    summary = chart.analysis.summary()
    phases = [{**phase, "median": rounded(phase["median"])} for phase in summary["phases"]]
    query = chart.query
    return {
        "center": chart.center, "dimension": query.dimension, "measure": query.measure,
        "interval": query.interval,
        "points": [{"period": p.period, "respondents": p.respondents,
                    "value": rounded(v.value), "suppressed": p.suppressed}
                   for p, v in zip(chart.points, chart.analysis.points)],
        "median": rounded(summary["median"]),
        **{key: summary[key] for key in ("useful_points", "longest_run", "longest_run_max",
                                         "crossings", "crossings_min", "signal")},
        "phases": phases,
        "cycles": [{"id": c.id, "title": c.title, "started_on": c.started_on.isoformat(),
                    "ended_on": c.ended_on.isoformat() if c.ended_on else None,
                    "dimension": c.dimension, "baseline": str(c.baseline) if c.baseline
                    else None} for c in chart.cycles],
    }

