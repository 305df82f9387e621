"""Run-chart series and the overview, computed in SQL from sessions of known answers."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.errors import ArgumentError, NotFoundError, WeekError
from reports import periods
from reports.series import center_series, centers_series, overview
from reports.stats import wilson_interval
from tests.reports.dataset import Dataset

UTC = dt.timezone.utc
BAMAKO = zoneinfo.ZoneInfo("Africa/Bamako")
LAGOS = zoneinfo.ZoneInfo("Africa/Lagos")  # UTC+1 all year: local and UTC days differ
BEST, MID, WORST = (100.0, True), (50.0, False), (0.0, False)


def at(text: str, tz: dt.tzinfo = BAMAKO) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz)


@pytest.fixture
def data(db_session: so.Session) -> Dataset:
    return Dataset(db_session)


def weekly(db: so.Session, **options) -> list:
    options = {"interval": "week", "start": "2026-W10", "end": "2026-W13",
               "min_respondents": 3, "tz": BAMAKO, **options}
    return center_series(db, "CS01", **options)


def test_a_week_is_a_point_and_empty_or_small_weeks_are_suppressed(
        db_session: so.Session, data: Dataset) -> None:
    center = data.center("CS01")
    # W10: four mothers, one asked a prenatal question more; W11 none; W12 two (too few).
    data.session(center, "2026-W10", {"respect": BEST, "waiting": BEST, "anc_counselling": BEST})
    data.session(center, "2026-W10", {"respect": BEST, "waiting": WORST})
    data.session(center, "2026-W10", {"respect": WORST, "waiting": WORST})
    data.session(center, "2026-W10", {"respect": MID})
    data.session(center, "2026-W12", {"respect": BEST})
    data.session(center, "2026-W12", {"respect": BEST})
    data.session(center, "2026-W13", {"consent": (None, None)})  # no scored answer
    db_session.commit()

    points = weekly(db_session)

    assert [(p.period, p.respondents, p.suppressed) for p in points] == [
        ("2026-W10", 4, False), ("2026-W11", 0, True), ("2026-W12", 2, True),
        ("2026-W13", 0, True)]
    w10 = points[0]
    assert w10.mean == pytest.approx((100 + 50 + 0 + 50) / 4)
    assert w10.top_box_hits == pytest.approx(1 + 0.5 + 0 + 0)
    assert w10.top_box == pytest.approx(100 * w10.top_box_hits / w10.respondents)
    low, high = wilson_interval(1.5, 4)
    assert (w10.ci_low, w10.ci_high) == (pytest.approx(100 * low), pytest.approx(100 * high))
    for gap in points[1:]:
        assert (gap.mean, gap.top_box, gap.top_box_hits, gap.ci_low) == (None,) * 4

    area = weekly(db_session, dimension="patient_experience")[0]
    assert (area.respondents, area.mean) == (4, pytest.approx((100 + 50 + 0 + 50) / 4))
    clinical = weekly(db_session, dimension="clinical_quality", min_respondents=1)
    assert [(p.respondents, p.mean) for p in clinical] == [
        (1, 100.0), (0, None), (0, None), (0, None)]
    respect = weekly(db_session, dimension="respect", min_respondents=1)
    assert [p.mean for p in respect] == [pytest.approx(62.5), None, 100.0, None]


def test_months_are_local_months_of_the_session_start(db_session: so.Session,
                                                      data: Dataset) -> None:
    center = data.center("CS01")
    for started in ("2026-03-02T09:00", "2026-03-31T23:30", "2026-05-01T00:10"):
        data.session(center, None, {"respect": BEST}, started=at(started), tz=BAMAKO)
    data.session(center, None, {"respect": WORST}, started=at("2026-02-28T23:59"), tz=BAMAKO)
    data.session(center, None, {"respect": WORST}, started=at("2026-06-01T00:00"), tz=BAMAKO)
    db_session.commit()

    points = center_series(db_session, "CS01", interval="month", start="2026-03",
                           end="2026-05", min_respondents=1, tz=BAMAKO)

    assert [(p.period, p.respondents, p.mean) for p in points] == [
        ("2026-03", 2, 100.0), ("2026-04", 0, None), ("2026-05", 1, 100.0)]
    assert points[1].suppressed


def test_sunday_night_counts_in_its_local_week_and_month(db_session: so.Session,
                                                         data: Dataset) -> None:
    """Sunday 31 May 2026, 23:30: W22 and May in Bamako (UTC) and in Lagos (UTC+1)."""
    for code, tz in (("BKO", BAMAKO), ("LOS", LAGOS)):
        center = data.center(code)
        data.session(center, None, {"respect": BEST}, started=at("2026-05-31T23:30", tz), tz=tz)
        data.session(center, None, {"respect": WORST}, started=at("2026-06-01T00:30", tz), tz=tz)
    db_session.commit()

    for code, tz in (("BKO", BAMAKO), ("LOS", LAGOS)):
        weeks = center_series(db_session, code, start="2026-W22", end="2026-W23",
                              min_respondents=1, tz=tz)
        assert [(p.period, p.mean) for p in weeks] == [("2026-W22", 100.0),
                                                        ("2026-W23", 0.0)], code
        months = center_series(db_session, code, interval="month", start="2026-05",
                               end="2026-06", min_respondents=1, tz=tz)
        assert [(p.period, p.mean) for p in months] == [("2026-05", 100.0),
                                                         ("2026-06", 0.0)], code


def test_a_channel_keeps_only_its_sessions(db_session: so.Session, data: Dataset) -> None:
    center = data.center("CS01")
    data.session(center, "2026-W10", {"respect": BEST}, channel="sms")
    data.session(center, "2026-W10", {"respect": WORST}, channel="ussd")
    db_session.commit()

    def means(channel: str | None, interval: str = "week") -> list:
        span = ("2026-W10", "2026-W10") if interval == "week" else ("2026-03", "2026-03")
        return [(p.respondents, p.mean) for p in center_series(
            db_session, "CS01", interval=interval, start=span[0], end=span[1],
            min_respondents=1, tz=BAMAKO, channel=channel)]

    assert means(None) == [(2, 50.0)]
    assert means("sms") == [(1, 100.0)] == means("sms", "month")
    assert means("ussd") == [(1, 0.0)]
    assert means("voice") == [(0, None)]
    with pytest.raises(ArgumentError, match="channel: 'fax' is not a channel"):
        means("fax")


@pytest.mark.parametrize("options, error, message", [
    ({"dimension": "respekt"}, ArgumentError,
     "dimension: 'respekt' is not overall, a QI area .* or a dimension that any answer scores"),
    ({"interval": "day"}, ArgumentError, "interval: 'day' is not an interval"),
    ({"start": "0000-W01"}, WeekError, r"from: '0000-W01' is not a week of 0000"),
    ({"end": "2026-W54"}, WeekError, r"to: '2026-W54' is not a week of 2026 \(it has 53"),
    ({"start": "2026-W13", "end": "2026-W10"}, ArgumentError, "from: 2026-W13 is after to"),
    ({"interval": "month", "start": "2026-01", "end": "2026-13"}, ArgumentError,
     r"to: '2026-13' is not a month \(months run from 01 to 12\)"),
    ({"interval": "month"}, ArgumentError, "from: '2026-W10' is not a month; expected YYYY-MM"),
])
def test_bad_arguments_are_refused_by_name(db_session: so.Session, data: Dataset,
                                           options: dict, error: type, message: str) -> None:
    data.session(data.center("CS01"), "2026-W10", {"respect": BEST})
    db_session.commit()
    with pytest.raises(error, match=message):
        weekly(db_session, **options)


def test_an_unknown_centre_is_not_found(db_session: so.Session) -> None:
    with pytest.raises(NotFoundError, match="no centre with code 'NOPE'"):
        center_series(db_session, "NOPE", start="2026-W10", end="2026-W10", min_respondents=1,
                      tz=BAMAKO)


def test_overview_lists_every_centre_in_one_query(db_session: so.Session,
                                                  data: Dataset) -> None:
    a, b, c = data.center("CS01"), data.center("CS02"), data.center("CS03")
    for score in (BEST, BEST, MID):
        data.session(a, "2026-W09", {"respect": score})
        data.session(a, "2026-W10", {"respect": BEST})
    for _ in range(3):
        data.session(b, "2026-W10", {"respect": WORST}, channel="sms")
    data.session(c, "2026-W09", {"respect": BEST})
    data.session(a, "2026-W11", {"respect": WORST})  # after the period: not read
    db_session.commit()
    statements: list[str] = []
    engine = db_session.get_bind()

    def record(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        lines = overview(db_session, interval="week", period="2026-W10", min_respondents=3,
                         tz=BAMAKO)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    assert len(statements) == 1
    assert [(x.center, x.respondents, x.mean, x.previous_respondents, x.previous_mean)
            for x in lines] == [("CS01", 3, 100.0, 3, pytest.approx(250 / 3)),
                                ("CS02", 3, 0.0, 0, None), ("CS03", 0, None, 1, None)]
    assert lines[0].change == pytest.approx(100 - 250 / 3)
    assert lines[1].change is None and lines[2].suppressed
    low, high = wilson_interval(3, 3)
    assert (lines[0].top_box, lines[0].ci_low, lines[0].ci_high) == (100.0, 100 * low, 100.0)
    assert lines[0].previous_period == "2026-W09"

    some = overview(db_session, ["CS02", "CS03"], interval="week", period="2026-W10",
                    min_respondents=1, tz=BAMAKO, channel="ussd")
    assert [(x.center, x.respondents, x.previous_respondents) for x in some] == [
        ("CS02", 0, 0), ("CS03", 0, 1)]


def test_every_centres_series_at_once_matches_each_one(db_session: so.Session,
                                                       data: Dataset) -> None:
    a, b = data.center("CS01"), data.center("CS02")
    data.center("CS03")
    for score in (BEST, MID, WORST):
        data.session(a, "2026-W10", {"respect": score, "hygiene": BEST})
        data.session(b, "2026-W12", {"respect": score})
    db_session.commit()
    options = {"dimension": "patient_experience", "start": "2026-W10", "end": "2026-W12",
               "min_respondents": 2, "tz": BAMAKO}

    every = centers_series(db_session, **options)

    assert list(every) == ["CS01", "CS02", "CS03"]
    for code, points in every.items():
        assert points == center_series(db_session, code, **options), code
    assert [p.mean for p in every["CS01"]] == [50.0, None, None]
    assert [p.respondents for p in every["CS03"]] == [0, 0, 0]
    assert list(centers_series(db_session, ["CS02"], **options)) == ["CS02"]


def test_overview_by_month(db_session: so.Session, data: Dataset) -> None:
    center = data.center("CS01")
    data.session(center, None, {"respect": BEST}, started=at("2026-02-10T10:00"), tz=BAMAKO)
    data.session(center, None, {"respect": MID}, started=at("2026-03-01T00:00"), tz=BAMAKO)
    data.session(center, None, {"respect": WORST}, started=at("2026-03-31T23:59"), tz=BAMAKO)
    db_session.commit()
    [line] = overview(db_session, interval="month", period="2026-03", min_respondents=1,
                      tz=BAMAKO)
    assert (line.period, line.respondents, line.mean) == ("2026-03", 2, 25.0)
    assert (line.previous_period, line.previous_mean, line.change) == ("2026-02", 100.0, -75.0)


def test_default_ranges_and_the_last_complete_period() -> None:
    tuesday = dt.date(2026, 12, 1)
    assert periods.default_range("week", tuesday, count=1) == ("2026-W49", "2026-W49")
    assert periods.default_range("week", tuesday) == ("2025-W50", "2026-W49")
    assert periods.default_range("month", tuesday) == ("2025-01", "2026-12")
    assert periods.default_range("week", tuesday, count=1, end="2026-W40") == (
        "2026-W40", "2026-W40")
    with pytest.raises(WeekError, match="--to: '2026-W60'"):
        periods.default_range("week", tuesday, end="2026-W60", names=("--from", "--to"))
    with pytest.raises(ArgumentError, match="from: 51 weeks before 0001-W01 is out of the"):
        periods.default_range("week", tuesday, end="0001-W01")
    assert periods.last_complete("week", tuesday) == "2026-W48"
    assert periods.last_complete("month", dt.date(2026, 1, 5)) == "2025-12"
    assert periods.months_between("2025-11", "2026-02") == [
        "2025-11", "2025-12", "2026-01", "2026-02"]
