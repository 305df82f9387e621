"""A cycle's before and after, on sessions whose scores change at a known week."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.errors import NotFoundError
from gateway.models import Center
from reports import periods
from reports.before_after import MAX_WEEKS, after_weeks, compare
from tests.reports.dataset import Dataset

UTC = dt.timezone.utc
START = dt.date(2026, 10, 7)  # a Wednesday of 2026-W41
TODAY = dt.date(2026, 12, 2)  # 2026-W49: the last complete week is 2026-W48, the 8th after


def fill(data: Dataset, weeks: list[str], score: float, top: bool, mothers: int = 4) -> None:
    """Add `mothers` sessions of CS01 in each week, each with one answer of `score`."""
    center = data.db.scalar(sa.select(Center).where(Center.code == "CS01"))
    for week in weeks:
        for _ in range(mothers):
            data.session(center, week, {"waiting": (score, top)})


@pytest.fixture
def data(db_session: so.Session) -> Dataset:
    data = Dataset(db_session)
    data.center("CS01")
    data.center("CS02")
    return data


def figures(db: so.Session, **options):
    options = {"started_on": START, "ended_on": None, "dimension": "overall",
               "today": TODAY, "min_respondents": 3, "tz": UTC, **options}
    return compare(db, "CS01", **options)


def test_a_change_at_the_start_shows_in_the_figures_and_signals(data: Dataset) -> None:
    before = periods.weeks_between("2026-W33", "2026-W40")
    after = periods.weeks_between("2026-W41", "2026-W48")
    fill(data, before, 50.0, False)
    fill(data, after, 100.0, True)
    fill(data, ["2026-W49"], 0.0, False)  # the week still running is left out
    effect = figures(data.db)
    assert (effect.before.first, effect.before.last, effect.before.weeks) == (
        "2026-W33", "2026-W40", 8)
    assert (effect.after.first, effect.after.last, effect.after.weeks) == (
        "2026-W41", "2026-W48", 8)
    assert (effect.before.median, effect.after.median, effect.change) == (50.0, 100.0, 50.0)
    assert (effect.before.top_box, effect.after.top_box) == (0.0, 100.0)
    assert (effect.before.respondents, effect.after.respondents) == (32, 32)
    assert (effect.before.weeks_shown, effect.after.top_box_respondents) == (8, 32)
    assert effect.tested and effect.signal
    assert effect.chart.median == 50.0 and effect.chart.tested.runs.longest_run == 8


def test_no_change_gives_no_signal(data: Dataset) -> None:
    weeks = periods.weeks_between("2026-W33", "2026-W48")
    for index, week in enumerate(weeks):
        fill(data, [week], 40.0 if index % 2 else 60.0, index % 2 == 0)
    effect = figures(data.db)
    assert effect.tested and not effect.signal
    assert effect.before.median == effect.after.median == 50.0
    assert effect.before.top_box == effect.after.top_box == 50.0


def test_weeks_with_too_few_responses_are_suppressed_and_leave_the_baseline_untested(
        data: Dataset) -> None:
    fill(data, periods.weeks_between("2026-W33", "2026-W40"), 50.0, False, mothers=2)
    fill(data, periods.weeks_between("2026-W41", "2026-W48"), 90.0, True)
    effect = figures(data.db)
    assert effect.before.suppressed and effect.before.median is None
    assert effect.before.top_box is None and effect.before.weeks_shown == 0
    assert effect.before.respondents == 16  # counted, though too few each week to show
    assert effect.after.median == 90.0
    assert not effect.tested and not effect.signal and effect.change is None


def test_the_sides_follow_the_end_of_a_closed_cycle_and_the_dimension(data: Dataset) -> None:
    fill(data, periods.weeks_between("2026-W37", "2026-W40"), 50.0, False)
    fill(data, periods.weeks_between("2026-W41", "2026-W44"), 75.0, True)
    effect = figures(data.db, ended_on=dt.date(2026, 10, 30), dimension="waiting")
    assert (effect.before.first, effect.after.last) == ("2026-W37", "2026-W44")
    assert (effect.before.median, effect.after.median) == (50.0, 75.0)
    area = figures(data.db, ended_on=dt.date(2026, 10, 30), dimension="patient_experience")
    assert area.after.median == 75.0
    unscored = figures(data.db, dimension="hygiene")
    assert unscored.before.suppressed and unscored.after.suppressed and not unscored.tested


def test_a_cycle_without_a_complete_week_has_no_figures(data: Dataset) -> None:
    effect = figures(data.db, started_on=dt.date(2026, 11, 30))
    assert effect.before is effect.after is effect.chart is None
    assert not effect.tested and effect.change is None


def test_the_after_side_is_at_most_max_weeks_and_an_unknown_centre_is_not_found(
        data: Dataset) -> None:
    weeks = after_weeks(dt.date(2025, 1, 6), None, TODAY)
    assert len(weeks) == MAX_WEEKS and weeks[0] == "2025-W02"
    with pytest.raises(NotFoundError):
        compare(data.db, "NOPE", started_on=START, ended_on=None, today=TODAY,
                min_respondents=3, tz=UTC)
