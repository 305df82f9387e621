"""Run charts and p-charts as SVG text, with their data tables and signal sentences.

Rendered on the server, for pages that need no script and no CDN: the SVG scales with its
viewBox from a 360 px phone to a laptop, stays readable printed in black and white (a
signal is a dashed line, limits are dotted, points outside them are squares, not only
red), and every text in it is escaped. The statistics come from `reports.runchart`.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from babel import numbers
from babel.dates import format_date, format_interval

from gateway import i18n
from gateway.i18n import N_
from reports.runchart import RunChart, Runs, period_bounds

# Geometry in viewBox units. 480 wide: at 360 px the 12-unit font is 9 px.
WIDTH, HEIGHT = 480, 262
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 32, 48
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_X_LABELS = 5
TITLE_CHARS = 22  # a cycle's title on the chart; the whole of it is in its <title>
CHAR_W = 6.5  # a generous mean width of one character of 11-unit text
# Colours, each doubled by a dash or a shape so that print in grey says the same.
INK, LINE, SIGNAL, GRID, MUTED = "#222", "#1f4e79", "#c62828", "#ddd", "#777"
SIGNAL_DASH, LIMIT_DASH, CYCLE_DASH = "7 4", "2 3", "4 3"
FEW_POINTS = 10  # below this many useful points the rules seldom see a change

LONG_RUN = N_("Unusually long run: %(run)s points in a row on one side of the median, "
              "where chance rarely gives more than %(max)s.")
LONG_RUN_P = N_("Unusually long run: %(run)s points in a row on one side of the centre "
                "line, where chance rarely gives more than %(max)s.")
NO_SIGNAL = N_("No signal: the variation looks random.")
MEDIAN_LABEL = N_("Median %(value)s")
CENTRE_LABEL = N_("Centre line %(value)s")
SUPPRESSED = N_("Too few responses")
HEADERS = {"period": N_("Period"), "respondents": N_("Respondents"), "score": N_("Score"),
           "top_box": N_("Top box"), "median": N_("Median"), "centre": N_("Centre line"),
           "low": N_("Lower limit"), "high": N_("Upper limit"), "cycles": N_("PDSA cycles")}

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


# -- the reader's language ----------------------------------------------------------------

def _code(lang: str) -> str:
    """Return "en" for English, else the gateway language of lang (ValueError if none)."""
    if isinstance(lang, str) and lang.lower().split("-")[0].split("_")[0] == "en":
        return "en"
    return i18n.language(lang)


def _english(lang: str) -> bool:
    # Until locales/ has an en catalog, English is the msgids themselves.
    return _code(lang) == "en" and "en" not in i18n.LANGUAGES


def gettext(lang: str, msgid: str, **params: object) -> str:
    """Return msgid in lang (named as i18n's, so that pybabel extracts the calls)."""
    if _english(lang):
        return msgid % params if params else msgid
    return i18n.gettext(lang, msgid, **params)


def ngettext(lang: str, singular: str, plural: str, n: int, **params: object) -> str:
    """Return the form for n in lang, filled with params and count=n."""
    if _english(lang):
        return (singular if n == 1 else plural) % {"count": n, **params}
    return i18n.ngettext(lang, singular, plural, n, **params)


def number(value: float, lang: str, decimals: int = 1) -> str:
    """Return value written as lang writes numbers ("70,1" in French)."""
    if _english(lang):
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return numbers.format_decimal(i18n.round_half_up(value, decimals), format=pattern,
                                      locale="en")
    return i18n.format_number(value, lang, decimals)


def percent(value: float, lang: str, decimals: int = 0) -> str:
    """Return a 0–100 value as lang writes a percentage ("70 %" in French)."""
    if _english(lang):
        return number(value, lang, decimals) + "%"
    return i18n.format_percent(value, lang, decimals)


def _value(value: float, lang: str, is_percent: bool, decimals: int = 1) -> str:
    return percent(value, lang, decimals) if is_percent else number(value, lang, decimals)


def _bounds(period: str) -> tuple[datetime.date, datetime.date] | None:
    try:
        return period_bounds(period)
    except ValueError:
        return None


def period_label(period: str, lang: str, *, with_year: bool = False) -> str:
    """Return a period as an axis shows it: "5 oct." for a week, "oct." for a month."""
    if (bounds := _bounds(period)) is None:
        return period
    if _WEEK.match(period):
        pattern = "d MMM y" if with_year else "d MMM"
    else:
        pattern = "MMM y" if with_year else "MMM"
    return format_date(bounds[0], pattern, locale=_code(lang))


def period_name(period: str, lang: str) -> str:
    """Return a period in words, for tables: "semaine 41 (5–11 oct.)", "octobre 2026"."""
    if (bounds := _bounds(period)) is None:
        return period
    if week := _WEEK.match(period):
        dates = format_interval(*bounds, "MMMd", locale=_code(lang))
        return gettext(lang, i18n.WEEK_MSGID, number=int(week[2]), dates=dates)
    return format_date(bounds[0], "LLLL y", locale=_code(lang))


# -- sentences and table ------------------------------------------------------------------

def explain(chart: RunChart, lang: str) -> list[str]:
    """Return plain sentences saying what the tested phase shows: signals, or none."""
    runs, is_p = chart.tested.runs, chart.limits is not None
    sentences = _rule_sentences(runs, lang, is_p)
    if outside := chart.outside_points:
        sentences.append(ngettext(
            lang, "%(count)s point outside the limits: further from the centre line than "
            "chance would put it.", "%(count)s points outside the limits: further from the "
            "centre line than chance would put them.", outside))
    if sentences:
        return sentences
    if runs.useful_points < FEW_POINTS:
        return [ngettext(lang, "Too early to judge: %(count)s point off the centre line, 10 or "
                         "more are needed.", "Too early to judge: %(count)s points off the "
                         "centre line, 10 or more are needed.", runs.useful_points)]
    return [gettext(lang, NO_SIGNAL)]


def _rule_sentences(runs: Runs, lang: str, is_p: bool) -> list[str]:
    sentences = []
    if runs.long_run:
        sentences.append(gettext(lang, LONG_RUN_P if is_p else LONG_RUN,
                                 run=runs.longest_run, max=runs.longest_run_max))
    if runs.few_crossings and is_p:
        sentences.append(ngettext(
            lang, "Too few crossings: the line crosses the centre line %(count)s time, where "
            "chance rarely gives fewer than %(min)s.", "Too few crossings: the line crosses "
            "the centre line %(count)s times, where chance rarely gives fewer than %(min)s.",
            runs.crossings, min=runs.crossings_min))
    elif runs.few_crossings:
        sentences.append(ngettext(
            lang, "Too few crossings: the line crosses the median %(count)s time, where "
            "chance rarely gives fewer than %(min)s.", "Too few crossings: the line crosses "
            "the median %(count)s times, where chance rarely gives fewer than %(min)s.",
            runs.crossings, min=runs.crossings_min))
    return sentences


@dataclass(frozen=True)
class Table:
    """The values beside a chart, as plain text (the template escapes): headers and rows."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def table(chart: RunChart, lang: str) -> Table:
    """Return the chart's data table: period, respondents, value, centre, limits, cycles."""
    is_p = chart.limits is not None
    keys = ["period", "respondents", "top_box" if is_p else "score",
            "centre" if is_p else "median"] + (["low", "high"] if is_p else []) + ["cycles"]
    centres = _centre_by_point(chart)
    titles = _cycle_titles(chart)
    rows = []
    for i, point in enumerate(chart.points):
        value = (gettext(lang, SUPPRESSED) if point.value is None
                 else _value(point.value, lang, is_p))
        row = [period_name(point.period, lang), number(point.respondents, lang, 0), value,
               "" if centres[i] is None else _value(centres[i], lang, is_p)]
        if is_p:
            limits = chart.limits[i]
            row += ["", ""] if limits is None else [_value(limits.low, lang, True),
                                                    _value(limits.high, lang, True)]
        rows.append(tuple(row + ["; ".join(titles.get(i, []))]))
    return Table(tuple(gettext(lang, HEADERS[k]) for k in keys), tuple(rows))


def _centre_by_point(chart: RunChart) -> list[float | None]:
    centres: list[float | None] = [None] * len(chart.points)
    for phase in chart.phases:
        centres[phase.start:phase.end] = [phase.centre] * (phase.end - phase.start)
    return centres


def _cycle_titles(chart: RunChart) -> dict[int, list[str]]:
    titles: dict[int, list[str]] = {}
    for cycle in chart.cycles:
        if 0 <= cycle.start < len(chart.points):
            titles.setdefault(cycle.start, []).append(cycle.title)
    return titles


# -- the SVG ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Scale:
    """Maps point indices and values (0–100) to viewBox coordinates."""

    count: int
    low: float
    high: float

    @property
    def slot(self) -> float:
        return PLOT_W / self.count

    def x(self, index: float) -> float:
        return LEFT + (index + 0.5) * self.slot

    def edge(self, index: int) -> float:
        """Return the left edge of a point's slot: where a cycle starting there is drawn."""
        return LEFT + index * self.slot

    def y(self, value: float) -> float:
        return TOP + PLOT_H * (self.high - value) / (self.high - self.low)


def svg(chart: RunChart, lang: str, *, title: str, chart_id: str = "chart") -> str:
    """Return the chart as a standalone SVG string, titled, described, in lang.

    `chart_id` keeps the ids of several charts on one page apart. A p-chart (one with
    limits) reads its values and axis as percentages.
    """
    is_p = chart.limits is not None
    ticks = _ticks(_extent(chart))
    scale = _Scale(len(chart.points), ticks[0], ticks[-1])
    ident = escape(re.sub(r"[^A-Za-z0-9_-]", "-", chart_id))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'class="run-chart" font-family="sans-serif" font-size="12" fill="{INK}">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(" ".join(explain(chart, lang)))}</desc>',
        _y_axis(ticks, scale, lang, is_p),
        _x_axis(chart, scale, lang),
        _limits(chart, scale),
        _centres(chart, scale, lang, is_p),
        _cycles(chart, scale),
        _data(chart, scale),
        "</svg>",
    ]
    return "\n".join(part for part in parts if part)


def _extent(chart: RunChart) -> tuple[float, float]:
    """Return the lowest and highest value the chart must show."""
    values = [p.value for p in chart.points if p.value is not None]
    values += [phase.centre for phase in chart.phases if phase.centre is not None]
    for limits in chart.limits or ():
        if limits:
            values += [limits.low, limits.high]
    return (min(values), max(values)) if values else (0.0, 100.0)


def _ticks(extent: tuple[float, float]) -> list[float]:
    """Return at most six round values from below the lowest to above the highest, in 0–100."""
    low, high = extent
    if high - low < 2:
        low, high = low - 1, high + 1
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50) if (high - low) / s <= 5)
    first = max(0.0, math.floor(low / step) * step)
    last = min(100.0, math.ceil(high / step) * step)
    if last <= first:
        last = first + step
    return [first + k * step for k in range(round((last - first) / step) + 1)]


def _f(value: float) -> str:
    """Return a coordinate with one decimal at most: the SVG stays small."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _y_axis(ticks: Sequence[float], scale: _Scale, lang: str, is_p: bool) -> str:
    lines, labels = [], []
    for tick in ticks:
        y = _f(scale.y(tick))
        lines.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>')
        text = percent(tick, lang) if is_p else number(tick, lang, 0)
        labels.append(f'<text x="{LEFT - 4}" y="{y}" dy="4">{escape(text)}</text>')
    return (f'<g class="grid" stroke="{GRID}">{"".join(lines)}</g>'
            f'<g class="y-labels" text-anchor="end">{"".join(labels)}</g>')


def _x_axis(chart: RunChart, scale: _Scale, lang: str) -> str:
    count = len(chart.points)
    every = max(1, math.ceil(count / MAX_X_LABELS))
    labels, year = [], None
    for i in range(0, count, every):
        period = chart.points[i].period
        shown_year = _year(period)
        text = period_label(period, lang, with_year=shown_year != year)
        year = shown_year
        labels.append(f'<text x="{_f(scale.x(i))}" y="{HEIGHT - BOTTOM + 15}">'
                      f'{escape(text)}</text>')
    axis = (f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" '
            f'y2="{HEIGHT - BOTTOM}" stroke="{MUTED}"/>')
    return f'{axis}<g class="x-labels" text-anchor="middle">{"".join(labels)}</g>'


def _year(period: str) -> int | None:
    """Return the calendar year a period begins in (2026-W01 begins in 2025)."""
    bounds = _bounds(period)
    return bounds[0].year if bounds else None


def _centres(chart: RunChart, scale: _Scale, lang: str, is_p: bool) -> str:
    """Draw each phase's centre line: a signal red and dashed, a frozen one carried on."""
    lines = []
    for phase in chart.phases:
        if phase.centre is None:
            continue
        signal = phase.runs.signal
        classes = " ".join(["median"] + ["frozen"] * phase.frozen + ["signal"] * signal)
        y = _f(scale.y(phase.centre))
        lines.append(f'<line class="{classes}" x1="{_f(scale.edge(phase.start))}" '
                     f'x2="{_f(scale.edge(phase.end))}" y1="{y}" y2="{y}" {_stroke(signal)}/>')
    lines.append(_legend(chart, lang, is_p))
    return f'<g class="centre">{"".join(lines)}</g>'


def _stroke(signal: bool) -> str:
    """Return a centre line's stroke: red and dashed for a signal (as qicharts2 draws it)."""
    if signal:
        return f'stroke="{SIGNAL}" stroke-width="2" stroke-dasharray="{SIGNAL_DASH}"'
    return f'stroke="{INK}" stroke-width="1.5"'


def _legend(chart: RunChart, lang: str, is_p: bool) -> str:
    """Name the tested phase's centre line under the axis, with a sample of its stroke."""
    last = chart.tested
    if last.centre is None:
        return ""
    label = gettext(lang, CENTRE_LABEL if is_p else MEDIAN_LABEL,
                    value=_value(last.centre, lang, is_p))
    y = HEIGHT - 8
    return (f'<line class="legend" x1="{LEFT}" x2="{LEFT + 26}" y1="{y - 4}" y2="{y - 4}" '
            f'{_stroke(last.runs.signal)}/><text class="centre-label" x="{LEFT + 32}" '
            f'y="{y}">{escape(label)}</text>')


def _limits(chart: RunChart, scale: _Scale) -> str:
    """Draw a p-chart's limits as steps, one level per point, broken where suppressed."""
    if chart.limits is None:
        return ""
    paths = []
    for side in ("high", "low"):
        d, joined = [], False
        for i, limits in enumerate(chart.limits):
            if limits is None:
                joined = False
                continue
            y = _f(scale.y(getattr(limits, side)))
            left, right = _f(scale.edge(i)), _f(scale.edge(i + 1))
            d.append(f"V{y}H{right}" if joined else f"M{left} {y}H{right}")
            joined = True
        paths.append(f'<path class="limit {side}" d="{"".join(d)}" fill="none" '
                     f'stroke="{MUTED}" stroke-dasharray="{LIMIT_DASH}"/>')
    return f'<g class="limits">{"".join(paths)}</g>'


def _cycles(chart: RunChart, scale: _Scale) -> str:
    """Draw each cycle on the chart as a vertical line at its start, with its title."""
    marks = []
    on_chart = [c for c in chart.cycles if 0 <= c.start < len(chart.points)]
    for row, cycle in enumerate(on_chart):
        edge = scale.edge(cycle.start)
        x = _f(edge)
        short = (cycle.title if len(cycle.title) <= TITLE_CHARS
                 else cycle.title[:TITLE_CHARS - 1].rstrip() + "…")
        # A title that would run off the right edge reads leftwards from its line instead.
        place = ('dx="-3" text-anchor="end"' if edge + 3 + CHAR_W * len(short) > WIDTH
                 else 'dx="3"')
        marks.append(
            f'<g class="cycle"><title>{escape(cycle.title)}</title>'
            f'<line x1="{x}" x2="{x}" y1="{TOP - 14 + 12 * (row % 2)}" y2="{HEIGHT - BOTTOM}" '
            f'stroke="{INK}" stroke-dasharray="{CYCLE_DASH}"/>'
            f'<text x="{x}" {place} y="{TOP - 16 + 12 * (row % 2)}" font-size="11">'
            f'{escape(short)}</text></g>')
    return f'<g class="cycles">{"".join(marks)}</g>' if marks else ""


def _data(chart: RunChart, scale: _Scale) -> str:
    """Draw the points joined by a line that breaks at every suppressed period."""
    d, dots, joined = [], [], False
    limits = chart.limits or [None] * len(chart.points)
    for i, point in enumerate(chart.points):
        x = _f(scale.x(i))
        if point.value is None:
            joined = False
            dots.append(f'<circle class="suppressed" cx="{x}" cy="{HEIGHT - BOTTOM}" r="2" '
                        f'fill="none" stroke="{MUTED}"/>')
            continue
        y = _f(scale.y(point.value))
        d.append(f"L{x} {y}" if joined else f"M{x} {y}")
        joined = True
        dots.append(_dot(x, y, bool(limits[i] and limits[i].outside)))
    return (f'<path class="data" d="{"".join(d)}" fill="none" stroke="{LINE}" '
            f'stroke-width="1.5"/><g class="points" fill="{LINE}">{"".join(dots)}</g>')


def _dot(x: str, y: str, outside: bool) -> str:
    if outside:  # a square as well as red, for print in grey
        return (f'<rect class="outside" x="{_f(float(x) - 4)}" y="{_f(float(y) - 4)}" '
                f'width="8" height="8" fill="{SIGNAL}" stroke="{INK}"/>')
    return f'<circle cx="{x}" cy="{y}" r="3"/>'
