"""Run-chart statistics: medians, the Anhøj rules, phases, and p-chart limits. Pure: no I/O.

The rules are those qicharts2 applies (`runs.analysis` in anhoej/qicharts2,
R/helper.functions.R):

    runs             <- sign(y - cl); runs <- runs[runs != 0 & !is.na(runs)]
    n.useful         <- length(runs)
    longest.run      <- max(rle(runs)$lengths)
    longest.run.max  <- round(log2(n.useful)) + 3                  # Schilling 2012
    n.crossings      <- max(n.runs - 1, 0)
    n.crossings.min  <- qbinom(0.05, max(n.useful - 1, 0), 0.5)   # Chen 2010
    runs.signal      <- longest.run > longest.run.max || n.crossings < n.crossings.min

So: suppressed points (NA) and points on the centre line are dropped before runs are
counted, and a run or a crossing reaches over them. qicharts2 sets no minimum number of
points: with one useful point or more it reports the rules as they come out; with none (every
point suppressed or on the median) it reports NA for the four numbers and no signal, which
here is None and `signal=False`.

Phases follow DESIGN.md. A `split` cycle starts a phase with its own median. A `freeze`
cycle starts a phase whose centre is the median of the points before it (back to the last
split), extended forward, and the rules are applied to the points after it only. (qicharts2's
`freeze` argument also freezes the median but tests the baseline and the after points
together; a PDSA team asks whether the after period differs, so the after points are tested.)
The top-level figures of a chart describe its last phase: the one a team is testing now.
"""

from __future__ import annotations

import datetime
import functools
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from math import comb, sqrt

CROSSINGS_ALPHA = Fraction(1, 20)  # qbinom(0.05, …): the 5 % lower tail


class Baseline(StrEnum):
    """What a PDSA cycle does to the centre line at its start."""

    FREEZE = "freeze"
    SPLIT = "split"


@dataclass(frozen=True)
class Point:
    """One period of a series: its label, respondents, and value (None when suppressed)."""

    period: str
    respondents: int
    value: float | None

    @property
    def suppressed(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Cycle:
    """A PDSA cycle as the chart sees it: the index of its first point, its baseline, title."""

    start: int
    baseline: Baseline | None = None
    title: str = ""


@dataclass(frozen=True)
class Runs:
    """The Anhøj rules on one phase; the four numbers are None when no point is useful."""

    useful_points: int
    longest_run: int | None
    longest_run_max: int | None
    crossings: int | None
    crossings_min: int | None

    @property
    def long_run(self) -> bool:
        return self.longest_run is not None and self.longest_run > self.longest_run_max

    @property
    def few_crossings(self) -> bool:
        return self.crossings is not None and self.crossings < self.crossings_min

    @property
    def signal(self) -> bool:
        return self.long_run or self.few_crossings


@dataclass(frozen=True)
class Phase:
    """Points start..end-1 (end exclusive), their centre line and the rules on them.

    `frozen` means the centre is not the phase's own but a baseline's, extended forward.
    """

    start: int
    end: int
    centre: float | None
    frozen: bool
    runs: Runs


@dataclass(frozen=True)
class Limits:
    """A p-chart point's 3-sigma limits (0–100) and whether the point lies outside them."""

    low: float
    high: float
    outside: bool


@dataclass(frozen=True)
class RunChart:
    """A series analysed: its points, cycles and phases, the last phase on top.

    For a p-chart, `limits` holds one entry per point (None where suppressed) and the
    centre line is p̄ rather than the median.
    """

    points: tuple[Point, ...]
    cycles: tuple[Cycle, ...]
    phases: tuple[Phase, ...]
    limits: tuple[Limits | None, ...] | None = None

    @property
    def tested(self) -> Phase:
        """Return the phase the top-level figures describe: the last one."""
        return self.phases[-1]

    @property
    def median(self) -> float | None:
        return self.tested.centre

    @property
    def signal(self) -> bool:
        return self.tested.runs.signal

    @property
    def outside_points(self) -> int:
        """Return how many points of the tested phase lie outside their p-chart limits."""
        if self.limits is None:
            return 0
        phase = self.tested
        return sum(1 for lim in self.limits[phase.start:phase.end] if lim and lim.outside)

    def summary(self) -> dict[str, object]:
        """Return the top-level fields of DESIGN.md's run chart JSON, plus every phase."""
        runs = self.tested.runs
        return {"median": self.median, "useful_points": runs.useful_points,
                "longest_run": runs.longest_run, "longest_run_max": runs.longest_run_max,
                "crossings": runs.crossings, "crossings_min": runs.crossings_min,
                "signal": runs.signal, "phases": [_phase_json(self, p) for p in self.phases]}


def _phase_json(chart: RunChart, phase: Phase) -> dict[str, object]:
    runs = phase.runs
    return {"from": chart.points[phase.start].period, "to": chart.points[phase.end - 1].period,
            "median": phase.centre, "frozen": phase.frozen,
            "useful_points": runs.useful_points, "longest_run": runs.longest_run,
            "longest_run_max": runs.longest_run_max, "crossings": runs.crossings,
            "crossings_min": runs.crossings_min, "signal": runs.signal}


# -- the exact limits ---------------------------------------------------------------------

def binomial_quantile(p: Fraction, size: int, prob: Fraction = Fraction(1, 2)) -> int:
    """Return R's qbinom(p, size, prob): the least x with P(X <= x) >= p, computed exactly."""
    if size < 0:
        raise ValueError(f"size must be 0 or more, got {size}")
    if not 0 <= p <= 1 or not 0 <= prob <= 1:
        raise ValueError(f"p and prob must lie in [0, 1], got {p} and {prob}")
    p, prob = Fraction(p), Fraction(prob)
    cumulative = Fraction(0)
    for x in range(size + 1):
        cumulative += comb(size, x) * prob**x * (1 - prob) ** (size - x)
        if cumulative >= p:
            return x
    return size


@functools.cache
def crossings_min(useful: int) -> int:
    """Return the fewest crossings chance gives: qbinom(0.05, max(useful - 1, 0), 0.5)."""
    return binomial_quantile(CROSSINGS_ALPHA, max(useful - 1, 0))


def longest_run_max(useful: int) -> int:
    """Return the longest run chance gives: round(log2(useful)) + 3, in integers.

    R's round() goes half to even, but log2 of a whole number is never k + 0.5 (that
    would need useful² = 2^(2k+1)), so there is no tie to break: round(log2(n)) is the
    k nearest, found exactly as the k with n² compared to 2^(2k+1).
    """
    if useful < 1:
        raise ValueError(f"useful must be 1 or more, got {useful}")
    k = useful.bit_length() - 1  # floor(log2(useful))
    return k + (1 if useful * useful > 2 ** (2 * k + 1) else 0) + 3


# -- runs and crossings -------------------------------------------------------------------

def sides(values: Sequence[float | None], centre: float | None) -> list[int]:
    """Return +1/-1 for each value above/below centre, skipping None and values on it."""
    if centre is None:
        return []
    return [1 if v > centre else -1 for v in values if v is not None and v != centre]


def analyse(values: Sequence[float | None], centre: float | None) -> Runs:
    """Apply the Anhøj rules to values against centre, as qicharts2's runs.analysis does."""
    signs = sides(values, centre)
    if not signs:
        return Runs(0, None, None, None, None)
    lengths = _run_lengths(signs)
    useful = len(signs)
    return Runs(useful_points=useful, longest_run=max(lengths),
                longest_run_max=longest_run_max(useful),
                crossings=len(lengths) - 1, crossings_min=crossings_min(useful))


def _run_lengths(signs: Sequence[int]) -> list[int]:
    """Return the lengths of the runs of equal signs (R's rle(x)$lengths)."""
    lengths = [1]
    for before, after in zip(signs, signs[1:]):
        if after == before:
            lengths[-1] += 1
        else:
            lengths.append(1)
    return lengths


# -- phases -------------------------------------------------------------------------------

def median(values: Sequence[float | None]) -> float | None:
    """Return the median of the values not None (R's median), or None if there are none."""
    present = [v for v in values if v is not None]
    return float(statistics.median(present)) if present else None


def run_chart(points: Sequence[Point], cycles: Sequence[Cycle] = ()) -> RunChart:
    """Analyse a series against its median, in the phases its cycles make."""
    points, cycles = tuple(points), tuple(sorted(cycles, key=lambda c: c.start))
    phases = _phases(points, cycles, _median_of)
    return RunChart(points, cycles, phases)


def _median_of(points: Sequence[Point]) -> float | None:
    return median([p.value for p in points])


def _phases(points: tuple[Point, ...], cycles: tuple[Cycle, ...],
            centre_of: Callable[[Sequence[Point]], float | None]) -> tuple[Phase, ...]:
    """Cut points into phases at freeze/split cycles and analyse each against its centre."""
    if not points:
        raise ValueError("a run chart needs at least one point")
    values = [p.value for p in points]
    phases: list[Phase] = []
    base = 0  # where the current split began: a freeze's baseline reaches back to here
    starts = _breaks(cycles, len(points))
    for (start, baseline), end in zip(starts, [s for s, _ in starts[1:]] + [len(points)]):
        if baseline is Baseline.SPLIT:
            base = start
        frozen = centre_of(points[base:start]) if baseline is Baseline.FREEZE else None
        centre = frozen if frozen is not None else centre_of(points[start:end])
        phases.append(Phase(start, end, centre, frozen is not None,
                            analyse(values[start:end], centre)))
    return tuple(phases)


def _breaks(cycles: tuple[Cycle, ...], count: int) -> list[tuple[int, Baseline | None]]:
    """Return (start, baseline) of each phase; the first starts at 0 with no baseline.

    A cycle outside the points, or without a baseline, starts no phase. Two at the same
    point: the later-listed wins.
    """
    starts: dict[int, Baseline | None] = {0: None}
    for cycle in cycles:
        if cycle.baseline is not None and 0 < cycle.start < count:
            starts[cycle.start] = Baseline(cycle.baseline)
    return sorted(starts.items())


# -- p-chart ------------------------------------------------------------------------------

def p_bar(points: Sequence[Point]) -> float | None:
    """Return Σ top-box count / Σ n over the points not suppressed, as a percentage."""
    shown = [p for p in points if p.value is not None and p.respondents > 0]
    total = sum(p.respondents for p in shown)
    return sum(p.value * p.respondents for p in shown) / total if total else None


def p_limits(centre: float, n: int) -> tuple[float, float]:
    """Return p̄ ± 3·sqrt(p̄(1 − p̄)/n), as percentages clipped to [0, 100] (qic.p)."""
    p = min(max(centre / 100, 0.0), 1.0)  # a float sum may stray past 100 by 1e-14
    sigma = sqrt(p * (1 - p) / n)
    return max(0.0, (p - 3 * sigma) * 100), min(100.0, (p + 3 * sigma) * 100)


def p_chart(points: Sequence[Point], cycles: Sequence[Cycle] = ()) -> RunChart:
    """Analyse a top-box series (values 0–100, n = respondents) as a p-chart.

    Its centre line is p̄ per phase (a freeze keeps the baseline's), the limits vary with
    each point's n, and the Anhøj rules run against p̄, as qicharts2 does for chart = "p".
    """
    points, cycles = tuple(points), tuple(sorted(cycles, key=lambda c: c.start))
    phases = _phases(points, cycles, p_bar)
    limits: list[Limits | None] = [None] * len(points)
    for phase in phases:
        for i in range(phase.start, phase.end):
            point = points[i]
            if point.value is None or phase.centre is None or point.respondents <= 0:
                continue
            low, high = p_limits(phase.centre, point.respondents)
            limits[i] = Limits(low, high, not low <= point.value <= high)
    return RunChart(points, cycles, phases, tuple(limits))


# -- periods ------------------------------------------------------------------------------

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def period_bounds(period: str) -> tuple[datetime.date, datetime.date]:
    """Return the first and last day of "YYYY-Www" (ISO week) or "YYYY-MM"."""
    if match := _WEEK.match(period):
        monday = datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
        return monday, monday + datetime.timedelta(days=6)
    if match := _MONTH.match(period):
        first = datetime.date(int(match[1]), int(match[2]), 1)
        following = (first + datetime.timedelta(days=31)).replace(day=1)
        return first, following - datetime.timedelta(days=1)
    raise ValueError(f"not a period {period!r}: expected YYYY-Www or YYYY-MM")


def period_index(periods: Sequence[str], day: datetime.date) -> int:
    """Return the index of the period holding day: -1 before them, len(periods) after.

    Either way the cycle starts no phase and gets no marker: it is not on the chart.
    """
    if not periods or day < period_bounds(periods[0])[0]:
        return -1
    for index, period in enumerate(periods):
        if day <= period_bounds(period)[1]:
            return index
    return len(periods)

