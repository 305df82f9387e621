"""Who sees what: a team its own centre only (404 elsewhere), roles, and bad requests as 4xx."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.exceptions import Forbidden, NotFound

from gateway import pdsa
from gateway.db import session_scope
from gateway.services import Services
from gateway.statuses import UserRole
from gateway.web.dashboard.access import Viewer, center_for, login_required
from tests.dashboard.conftest import csrf_token, log_in

# Every dashboard route that names a centre; the pages engineer adds theirs here.
# {cycle} is a PDSA cycle of that centre (cycle_ids).
CENTER_ROUTES = ["/dashboard/centers/{code}", "/dashboard/centers/{code}/pdsa",
                 "/dashboard/centers/{code}/pdsa/new", "/dashboard/centers/{code}/pdsa/{cycle}",
                 "/dashboard/centers/{code}/pdsa/{cycle}/edit",
                 "/dashboard/centers/{code}/pdsa/{cycle}/close",
                 "/dashboard/centers/{code}/comments", "/dashboard/centers/{code}/print",
                 "/dashboard/centers/{code}/export.csv",
                 "/dashboard/centers/{code}?dimension=respect&chart=p&interval=month"]


@pytest.fixture
def cycle_ids(services: Services, accounts: None) -> dict[str, int]:
    """One PDSA cycle in each centre: {code: its id}; an unknown code gets 0."""
    with session_scope(services.sessionmaker) as db:
        ids = {code: pdsa.create_cycle(db, code, {"title": f"Cycle {code}",
                                                  "started_on": dt.date(2026, 10, 5)},
                                       by="cli:test", today=dt.date(2026, 10, 5)).id
               for code in ("BKS", "CS03")}
    return {"NOPE": 0, **ids}


@pytest.mark.parametrize("route", CENTER_ROUTES)
def test_a_team_member_sees_her_centre_and_gets_404_for_any_other(
        client: FlaskClient, route: str, cycle_ids: dict[str, int]) -> None:
    log_in(client, "kati")
    assert client.get(route.format(code="CS03", cycle=cycle_ids["CS03"])).status_code == 200
    other = client.get(route.format(code="BKS", cycle=cycle_ids["BKS"]))
    unknown = client.get(route.format(code="NOPE", cycle=0))
    assert other.status_code == unknown.status_code == 404
    assert other.get_data(as_text=True) == unknown.get_data(as_text=True)


@pytest.mark.parametrize("route", CENTER_ROUTES)
def test_a_coordinator_sees_every_centre(client: FlaskClient, route: str,
                                         cycle_ids: dict[str, int]) -> None:
    log_in(client, "coord")
    for code in ("BKS", "CS03"):
        assert client.get(route.format(code=code, cycle=cycle_ids[code])).status_code == 200
    assert client.get(route.format(code="NOPE", cycle=0)).status_code == 404


def test_the_overview_lists_only_the_centres_she_may_see(client: FlaskClient) -> None:
    log_in(client, "kati")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Centre de Kati" in page and "Banankabougou" not in page


def test_login_required_refuses_other_roles(app: Flask) -> None:
    view = login_required(UserRole.COORDINATOR)(lambda: "figures")
    team = Viewer(1, "kati", UserRole.TEAM, 2, "fr")
    with app.test_request_context("/dashboard/x"):
        g.viewer = team
        with pytest.raises(Forbidden):
            view()
        g.viewer = Viewer(3, "coord", UserRole.COORDINATOR, None, "fr")
        assert view() == "figures"
        g.viewer = None
        assert view().status_code == 302


def test_center_for_answers_404_for_another_centre(app: Flask) -> None:
    with app.test_request_context("/dashboard/x"):
        assert center_for(Viewer(1, "c", UserRole.COORDINATOR, None, "fr"), "BKS").code == "BKS"
        mine = center_for(Viewer(1, "c", UserRole.COORDINATOR, None, "fr"), "CS03")
        team = Viewer(2, "kati", UserRole.TEAM, mine.id, "fr")
        assert center_for(team, "CS03").id == mine.id
        for code in ("BKS", "XX", ""):
            with pytest.raises(NotFound):
                center_for(team, code)


@pytest.mark.parametrize("data", [
    {"username": "coord\x00", "password": "x" * 20},
    {"username": "x" * 5000, "password": "y"},
    {"username": "coord", "password": "p" * 5000},
    {"username": "", "password": ""},
    {"username": "ɲɛ ɔ", "password": "ç" * 12},
])
def test_odd_logins_are_answered_not_crashed(client: FlaskClient, data: dict) -> None:
    response = client.post("/dashboard/login", data={**data, "csrf_token": csrf_token(client)})
    assert response.status_code in (200, 400)
    assert 'name="password"' in response.get_data(as_text=True)


def test_malformed_requests_get_4xx(client: FlaskClient) -> None:
    token = csrf_token(client)
    assert client.post("/dashboard/login", data=b"\xff\xfe\x00",
                       content_type="application/x-www-form-urlencoded").status_code == 400
    assert client.post("/dashboard/login", data={"csrf_token": token, "username": "a" * 70_000,
                                                 "password": "x"}).status_code == 413
    assert client.get("/dashboard/login?next=%ff%00").status_code == 200
    client.set_cookie("kuma_session", "forged.value.sig", path="/dashboard")
    assert client.get("/dashboard/").status_code == 302
    assert client.put("/dashboard/login").status_code == 405
    assert client.get("/dashboard/centers/").status_code == 404
