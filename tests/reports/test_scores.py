"""Scores per centre, week and dimension, computed in SQL from a dataset of known answers."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.errors import ArgumentError, WeekError
from gateway.models import SessionStatus
from reports import scores
from reports.scores import compute_scores
from reports.stats import wilson_interval
from tests.reports import dataset
from tests.reports.dataset import Dataset

WEEK = "2025-W10"
TOP, MID, LOW = (100.0, True), (50.0, False), (0.0, False)


def build(db: so.Session) -> None:
    """CS01 in 2025-W10: ten mothers; CS02: three; CS01 also in W09 (out of range) and W11.

    respect: 8 top box (100) and 2 bottom (0) of 10 -> mean 80, top box 80%.
    waiting: 5 of the same mothers: 100 (top), 50, 50, 0, 0 -> mean 40, top box 20%.
    hygiene: 3 of the same mothers: 100, 100 (top), 75 -> mean 91.67, top box 66.7%.
    Mother 10 abandoned after respect; every mother also gave an unscored consent answer.
    """
    data = Dataset(db)
    cs01, cs02 = data.center("CS01"), data.center("CS02")
    waiting = [TOP, MID, MID, LOW, LOW]
    hygiene = [TOP, TOP, (75.0, False)]
    for i in range(10):
        answers = {"consent": (None, None), "respect": TOP if i < 8 else LOW}
        if i < 5:
            answers["waiting"] = waiting[i]
        if i < 3:
            answers["hygiene"] = hygiene[i]
        data.session(cs01, WEEK, answers,
                     status=SessionStatus.ABANDONED if i == 9 else SessionStatus.COMPLETED)
    data.session(cs01, WEEK, {"consent": (None, None)})  # declined: no scored answer
    data.session(None, WEEK, {"respect": LOW})  # centre never known: in no centre's figures
    for _ in range(3):
        data.session(cs02, WEEK, {"respect": MID})
    data.session(cs01, "2025-W09", {"respect": LOW})
    data.session(cs01, "2025-W11", {"respect": TOP, "fees": LOW})
    db.commit()


def by_key(rows: list[scores.ScoreRow]) -> dict[tuple[str, str, str], scores.ScoreRow]:
    return {(row.center, row.week, row.dimension): row for row in rows}


@pytest.fixture
def filled(db_session: so.Session) -> so.Session:
    build(db_session)
    return db_session


def test_wilson_interval_matches_published_values() -> None:
    low, high = wilson_interval(8, 10)
    assert (round(100 * low, 1), round(100 * high, 1)) == (49.0, 94.3)
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.27753, abs=1e-5))
    assert wilson_interval(10, 10) == (pytest.approx(0.72247, abs=1e-5), 1.0)
    assert wilson_interval(50, 100) == (pytest.approx(0.40383, abs=1e-5),
                                        pytest.approx(0.59617, abs=1e-5))


@pytest.mark.parametrize("successes, n", [(-1, 10), (11, 10), (0, 0)])
def test_wilson_interval_refuses_impossible_counts(successes: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson_interval(successes, n)


def test_dimension_area_and_overall_figures_are_exact(filled: so.Session) -> None:
    rows = compute_scores(filled, week_from=WEEK, week_to=WEEK, min_respondents=3)
    found = by_key(rows)

    respect = found["CS01", WEEK, "respect"]
    assert (respect.level, respect.respondents, respect.answers) == ("dimension", 10, 10)
    assert respect.mean == pytest.approx(80.0)
    assert respect.top_box == pytest.approx(80.0)
    assert (round(respect.ci_low, 1), round(respect.ci_high, 1)) == (49.0, 94.3)

    waiting = found["CS01", WEEK, "waiting"]
    assert (waiting.respondents, waiting.mean, waiting.top_box) == (5, pytest.approx(40.0),
                                                                  pytest.approx(20.0))
    hygiene = found["CS01", WEEK, "hygiene"]
    assert hygiene.mean == pytest.approx(275 / 3)
    assert hygiene.top_box == pytest.approx(200 / 3)

    # Areas and overall: each mother's own mean and top-box share, averaged over mothers.
    experience = found["CS01", WEEK, "patient_experience"]
    assert (experience.level, experience.respondents, experience.answers) == ("area", 10, 15)
    assert experience.mean == pytest.approx((100 + 75 + 75 + 50 + 50 + 3 * 100 + 0 + 0) / 10)
    assert experience.top_box == pytest.approx(60.0)
    low, high = wilson_interval(6, 10)
    assert (experience.ci_low, experience.ci_high) == (pytest.approx(100 * low),
                                                       pytest.approx(100 * high))
    overall = found["CS01", WEEK, "overall"]
    assert (overall.level, overall.respondents, overall.answers) == ("overall", 10, 18)
    assert overall.mean == pytest.approx((100 + 250 / 3 + 75 + 50 + 50 + 3 * 100) / 10)
    assert overall.top_box == pytest.approx(100 * (1 + 2 / 3 + 1 / 3 + 0.5 + 0.5 + 3) / 10)
    low, high = wilson_interval(6, 10)
    assert overall.ci_low == pytest.approx(100 * low)
    assert overall.ci_high == pytest.approx(100 * high)

    assert [(row.center, row.dimension) for row in rows] == [
        ("CS01", "hygiene"), ("CS01", "respect"), ("CS01", "waiting"),
        ("CS01", "clinical_quality"), ("CS01", "patient_experience"), ("CS01", "overall"),
        ("CS02", "respect"), ("CS02", "patient_experience"), ("CS02", "overall")]


def test_rows_under_the_threshold_are_listed_without_figures(filled: so.Session) -> None:
    found = by_key(compute_scores(filled, week_from=WEEK, week_to=WEEK, min_respondents=10))
    waiting = found["CS01", WEEK, "waiting"]
    assert waiting.suppressed and waiting.respondents == 5
    assert (waiting.mean, waiting.top_box, waiting.ci_low, waiting.ci_high) == (None,) * 4
    assert found["CS02", WEEK, "overall"].suppressed
    assert not found["CS01", WEEK, "respect"].suppressed  # exactly 10: shown
    assert found["CS01", WEEK, "respect"].as_dict(1) == {
        "center": "CS01", "week": WEEK, "dimension": "respect", "level": "dimension",
        "respondents": 10, "answers": 10, "mean": 80.0, "top_box": 80.0, "ci_low": 49.0,
        "ci_high": 94.3, "suppressed": False}


def test_week_range_and_centre_filter(filled: so.Session) -> None:
    rows = compute_scores(filled, centers=["CS01"], week_from="2025-W10", week_to="2025-W11",
                          min_respondents=1)
    assert {(row.center, row.week) for row in rows} == {("CS01", "2025-W10"),
                                                        ("CS01", "2025-W11")}
    w11 = by_key(rows)
    assert w11["CS01", "2025-W11", "overall"].mean == pytest.approx(50.0)
    assert w11["CS01", "2025-W11", "revenue_cost_recovery"].top_box == 0.0
    assert compute_scores(filled, centers=["NOPE"], week_from=WEEK, week_to=WEEK,
                          min_respondents=1) == []


def test_scores_do_not_load_answers_into_python(filled: so.Session) -> None:
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(statement)

    engine = filled.get_bind()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        compute_scores(filled, week_from=WEEK, week_to=WEEK, min_respondents=1)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 1
    # Mothers first (grouped by session), then the rows: two GROUP BYs per level.
    assert statements[0].count("GROUP BY") == 2 * len(scores.LEVELS)
    assert "answers.session_id" in statements[0]


def test_week_helpers() -> None:
    bamako = zoneinfo.ZoneInfo("Africa/Bamako")
    sunday_night = dt.datetime(2025, 1, 5, 23, 30, tzinfo=dt.timezone.utc)
    assert scores.current_week(sunday_night, bamako) == "2025-W01"
    assert scores.current_week(sunday_night, zoneinfo.ZoneInfo("Asia/Tokyo")) == "2025-W02"
    assert scores.previous_week("2025-W01") == "2024-W52"
    assert scores.previous_week("2021-W01") == "2020-W53"
    assert scores.next_week("2020-W53") == "2021-W01"
    assert scores.weeks_back("2025-W10", 51) == "2024-W11"
    assert scores.weeks_between("2020-W52", "2021-W02") == [
        "2020-W52", "2020-W53", "2021-W01", "2021-W02"]
    assert scores.weeks_between("2025-W03", "2025-W01") == []


@pytest.mark.parametrize("text, message", [
    ("2025-10", "from: '2025-10' is not an ISO week; expected YYYY-Www"),
    ("2025-W54", "from: '2025-W54' is not a week of 2025 (it has 52 ISO weeks)"),
    ("2025-W00", "from: '2025-W00' is not a week of 2025"),
])
def test_malformed_weeks_are_refused_by_name(filled: so.Session, text: str, message: str) -> None:
    with pytest.raises(WeekError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compute_scores(filled, week_from=text, week_to=WEEK, min_respondents=1)


def test_a_backwards_range_is_refused(filled: so.Session) -> None:
    with pytest.raises(WeekError, match="from: 2025-W11 is after to 2025-W10"):
        compute_scores(filled, week_from="2025-W11", week_to="2025-W10", min_respondents=1)


BEST, WORST = (100.0, True), (0.0, False)
FULL = ("respect", "waiting", "hygiene")


@pytest.mark.parametrize("best_asks, worst_asks", [
    pytest.param((*FULL, "anc_counselling"), FULL, id="best-half-had-prenatal-visits"),
    pytest.param(FULL, (*FULL, "anc_counselling"), id="worst-half-had-prenatal-visits"),
    pytest.param(FULL, ("respect",), id="worst-half-stopped-early"),
    pytest.param(("respect", "waiting"), (*FULL, "anc_counselling"), id="best-half-stopped-early"),
])
def test_each_mother_counts_once_whatever_she_was_asked(
        db_session: so.Session, best_asks: tuple[str, ...], worst_asks: tuple[str, ...]) -> None:
    data = Dataset(db_session)
    center = data.center("CS01")
    for _ in range(6):
        data.session(center, WEEK, {step: BEST for step in best_asks})
        data.session(center, WEEK, {step: WORST for step in worst_asks})
    db_session.commit()

    found = by_key(compute_scores(db_session, week_from=WEEK, week_to=WEEK, min_respondents=3))

    both = {dataset.AREA_OF[step] for step in best_asks} & {
        dataset.AREA_OF[step] for step in worst_asks}
    assert "patient_experience" in both
    for key in (*sorted(both), "overall"):
        row = found["CS01", WEEK, key]
        assert (row.respondents, row.mean, row.top_box) == (12, pytest.approx(50.0),
                                                            pytest.approx(50.0)), key
        low, high = wilson_interval(6, 12)
        assert (row.ci_low, row.ci_high) == (pytest.approx(100 * low), pytest.approx(100 * high))


def test_a_channel_keeps_only_its_sessions(db_session: so.Session) -> None:
    data = Dataset(db_session)
    center = data.center("CS01")
    for _ in range(3):
        data.session(center, WEEK, {"respect": BEST}, channel="sms")
        data.session(center, WEEK, {"respect": WORST, "waiting": WORST}, channel="ussd")
    db_session.commit()

    def overall(channel: str | None) -> tuple[int, float | None] | None:
        rows = by_key(compute_scores(db_session, week_from=WEEK, week_to=WEEK,
                                     min_respondents=1, channel=channel))
        row = rows.get(("CS01", WEEK, "overall"))
        return row and (row.respondents, row.mean)

    assert overall(None) == (6, pytest.approx(50.0))
    assert overall("sms") == (3, pytest.approx(100.0))
    assert overall("ussd") == (3, pytest.approx(0.0))
    assert overall("voice") is None  # no voice sessions: no rows
    with pytest.raises(ArgumentError, match="channel: 'fax' is not a channel; expected one of "
                                            "ussd, sms, voice, imported"):
        compute_scores(db_session, week_from=WEEK, week_to=WEEK, min_respondents=1,
                       channel="fax")
