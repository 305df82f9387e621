"""GET /api/v1/centers/<code>/series: DESIGN.md's run chart JSON, against a known shift."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient

from gateway import pdsa
from gateway.db import session_scope
from gateway.services import Services
from tests.reports.dataset import Dataset
from tests.web.run_chart_data import build_shift, shift_start
from tests.web.test_api import bearer, client, token  # noqa: F401

LAST = "2025-W20"
RANGE = "from=2025-W01&to=2025-W20"


@pytest.fixture
def weeks(services: Services) -> list[str]:
    with session_scope(services.sessionmaker) as db:
        center = Dataset(db).center("BKS", "Banankabougou")
        Dataset(db).center("CS03", "Centre de Kati")
        return build_shift(db, center, LAST)


def add_cycle(services: Services, weeks: list[str], **fields) -> None:
    with session_scope(services.sessionmaker) as db:
        pdsa.create_cycle(db, "BKS", {"title": "Accueil par une matrone",
                                      "started_on": shift_start(weeks), **fields},
                          by="cli:test", today=dt.date(2025, 6, 1))


def series(client: FlaskClient, token: str, query: str = RANGE, code: str = "BKS"):
    response = client.get(f"/api/v1/centers/{code}/series?{query}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.get_json()


def test_one_phase_shows_the_shift_as_a_long_run(client: FlaskClient, token: str,
                                                 weeks: list[str]) -> None:
    body = series(client, token)
    assert {k: body[k] for k in ("center", "dimension", "measure", "interval")} == {
        "center": "BKS", "dimension": "overall", "measure": "mean", "interval": "week"}
    assert [p["period"] for p in body["points"]] == weeks
    assert body["points"][0] == {"period": "2025-W01", "respondents": 10, "value": 40.0,
                                 "suppressed": False}
    assert body["points"][15] == {"period": "2025-W16", "respondents": 3, "value": None,
                                  "suppressed": True}
    assert {k: body[k] for k in ("median", "useful_points", "longest_run", "longest_run_max",
                                 "crossings", "crossings_min", "signal")} == {
        "median": 60.0, "useful_points": 14, "longest_run": 9, "longest_run_max": 7,
        "crossings": 1, "crossings_min": 4, "signal": True}
    assert body["cycles"] == []


def test_a_freeze_cycle_tests_the_after_points_against_the_baseline(
        client: FlaskClient, services: Services, token: str, weeks: list[str]) -> None:
    add_cycle(services, weeks, baseline="freeze", dimension="respect")
    body = series(client, token, RANGE + "&dimension=respect")
    assert {k: body[k] for k in ("median", "useful_points", "longest_run", "longest_run_max",
                                 "crossings", "crossings_min", "signal")} == {
        "median": 50.0, "useful_points": 9, "longest_run": 9, "longest_run_max": 6,
        "crossings": 0, "crossings_min": 2, "signal": True}
    assert [(p["from"], p["to"], p["median"], p["frozen"]) for p in body["phases"]] == [
        ("2025-W01", "2025-W10", 50.0, False), ("2025-W11", "2025-W20", 50.0, True)]
    [cycle] = body["cycles"]
    assert cycle == {"id": cycle["id"], "title": "Accueil par une matrone",
                     "started_on": "2025-03-10", "ended_on": None, "dimension": "respect",
                     "baseline": "freeze"}


def test_a_split_cycle_gives_each_phase_its_median(client: FlaskClient, services: Services,
                                                   token: str, weeks: list[str]) -> None:
    add_cycle(services, weeks, baseline="split")
    body = series(client, token)
    assert [p["median"] for p in body["phases"]] == [50.0, 90.0]
    assert body["median"] == 90.0 and body["useful_points"] == 0 and not body["signal"]


def test_a_cycle_aimed_elsewhere_is_not_on_this_chart(client: FlaskClient, services: Services,
                                                      token: str, weeks: list[str]) -> None:
    add_cycle(services, weeks, baseline="freeze", dimension="fees")
    assert series(client, token, RANGE + "&dimension=patient_experience")["cycles"] == []
    assert len(series(client, token)["cycles"]) == 1  # overall shows every cycle


def test_top_box_months_and_an_area(client: FlaskClient, token: str, weeks: list[str]) -> None:
    body = series(client, token, "measure=top_box&dimension=patient_experience")
    assert body["measure"] == "top_box" and body["dimension"] == "patient_experience"
    monthly = series(client, token, "interval=month&from=2025-01&to=2025-05")
    assert [p["period"] for p in monthly["points"]] == [
        "2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
    assert monthly["points"][0]["respondents"] == 40  # the four Tuesdays of January 2025
    top = series(client, token, RANGE + "&measure=top_box")
    assert [p["value"] for p in top["points"][9:12]] == [0.0, 100.0, 100.0]


def test_an_unknown_centre_is_404(client: FlaskClient, token: str, weeks: list[str]) -> None:
    response = client.get(f"/api/v1/centers/NOPE/series?{RANGE}", headers=bearer(token))
    assert response.status_code == 404 and "NOPE" in response.get_json()["error"]


def test_no_token_is_401(client: FlaskClient, weeks: list[str]) -> None:
    assert client.get("/api/v1/centers/BKS/series").status_code == 401
