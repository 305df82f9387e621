"""A centre's charts as its pages show them: overall, each QI area, a dimension on demand.

Each `ChartView` holds what a template needs for one chart: its heading, the SVG
(gateway.web.charts, already escaped), the plain sentences saying whether it signals, the
table of its values, and the latest figure with its n. The centre page, the print page and
the CSV export all read their charts through `center_charts`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import sqlalchemy.orm as so
from flask import g
from markupsafe import Markup

from gateway import i18n
from gateway.i18n import N_
from gateway.pdsa import Vocabulary
from gateway.settings import Settings
from gateway.web import charting, charts
from gateway.web.charting import ChartQuery
from gateway.web.dashboard.labels import AREA_NAMES
from reports import periods
from reports.scores import OVERALL

# The four QI areas in the order a change team reads them (DESIGN.md).
OVERALL_NAME = N_("Overall")
MEASURE_NAMES = {"mean": N_("mean score, 0 to 100"), "top_box": N_("top box, % of mothers"),
                 "p": N_("top box, p-chart with 3-sigma limits")}
NOTHING_SHOWN = N_("Too few responses in every period of this chart.")
# Monthly points when more than this share of the weeks are too thin to show.
MOSTLY_SUPPRESSED = 0.5


def gettext(msgid: str) -> str:
    """Return msgid in the viewer's language (the dashboard's catalog)."""
    return i18n.dashboard_translations(g.get("language", i18n.DEFAULT_LANGUAGE)).gettext(msgid)


@dataclasses.dataclass(frozen=True)
class ChartView:
    """One chart ready for a template."""

    key: str
    name: str
    chart: charting.Chart
    svg: Markup
    sentences: list[str]
    table: charts.Table

    @property
    def signal(self) -> bool:
        return self.chart.analysis.signal

    @property
    def latest(self):
        """Return the last period with figures (a series.Point), or None."""
        shown = [p for p in self.chart.points if not p.suppressed]
        return shown[-1] if shown else None

    @property
    def is_percent(self) -> bool:
        """Whether the chart's values are a top-box share (a percentage) or a mean score."""
        return self.chart.query.chart == "p" or self.chart.query.measure == "top_box"

    @property
    def latest_value(self) -> float | None:
        latest = self.latest
        if latest is None:
            return None
        return latest.top_box if self.chart.query.chart == "p" else getattr(
            latest, self.chart.query.measure)


def dimension_name(key: str, labels: Mapping[str, Mapping[str, str]], lang: str) -> str:
    """Return the name of overall, an area or a dimension in `lang`."""
    if key == OVERALL:
        return gettext(OVERALL_NAME)
    if key in AREA_NAMES:
        return gettext(AREA_NAMES[key])
    label = labels.get(key, {})
    return label.get(lang) or label.get("fr") or key


def dimension_labels(flows) -> dict[str, Mapping[str, str]]:
    """Return each dimension the flows score with its label per language."""
    return {d.id: d.label for flow in flows for d in flow.dimensions.values()}


def keys_for(query: ChartQuery) -> list[str]:
    """Return the charts a centre page shows: a dimension asked for, overall, each area."""
    keys = [OVERALL, *AREA_NAMES]
    return keys if query.dimension in keys else [query.dimension, *keys]


def default_interval(db: so.Session, code: str, args: Mapping[str, str], today,
                     settings: Settings, vocabulary: Vocabulary) -> str:
    """Return `week`, or `month` when most of the overall chart's weeks are suppressed.

    An interval asked for, or the one a `from`/`to` is written in, is kept.
    """
    if args.get("interval", "").strip():
        return args["interval"].strip()
    given = (args.get("from", "") or args.get("to", "")).strip()
    if given:  # a range says its interval: 2026-W40 or 2026-10
        return periods.WEEK if "W" in given.upper() else periods.MONTH
    weekly = charting.read_query({k: v for k, v in args.items() if k not in ("from", "to")},
                                 today, interval=periods.WEEK, chart=True)
    chart = charting.build_chart(db, code, weekly.but(dimension=OVERALL), settings,
                                 dimension_areas=vocabulary.dimensions)
    return periods.MONTH if chart.suppressed_share > MOSTLY_SUPPRESSED else periods.WEEK


def center_charts(db: so.Session, code: str, query: ChartQuery, settings: Settings, *,
                  vocabulary: Vocabulary, labels: Mapping[str, Mapping[str, str]],
                  lang: str, keys: list[str] | None = None) -> list[ChartView]:
    """Build and draw each chart of the centre for `query` (keys: keys_for(query))."""
    views = []
    for key in keys or keys_for(query):
        chart = charting.build_chart(db, code, query.but(dimension=key), settings,
                                     dimension_areas=vocabulary.dimensions)
        name = dimension_name(key, labels, lang)
        title = f"{name} ({gettext(MEASURE_NAMES[_measure(query)])})"
        svg = charts.svg(chart.analysis, lang, title=title, chart_id=f"chart-{key}")
        sentences = (charts.explain(chart.analysis, lang) if chart.suppressed_share < 1
                     else [gettext(NOTHING_SHOWN)])
        views.append(ChartView(key, name, chart, Markup(svg), sentences,
                               charts.table(chart.analysis, lang)))
    return views


def _measure(query: ChartQuery) -> str:
    return "p" if query.chart == "p" else query.measure
