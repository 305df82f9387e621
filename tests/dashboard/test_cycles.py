"""The PDSA cycle pages: add, show, edit and close a cycle through its forms, safely."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from gateway import pdsa
from gateway.db import session_scope
from gateway.models import Center, PdsaCycle
from gateway.services import Services
from reports import periods
from tests.dashboard.conftest import csrf_token, log_in
from tests.reports.dataset import Dataset

NEW = "/dashboard/centers/CS03/pdsa/new"
FIELDS = {"title": "Accueil à l'entrée", "change": "Une ASACO accueille chaque mère",
          "area": "", "dimension": "waiting", "prediction": "L'attente paraîtra plus courte",
          "started_on": "2026-10-05", "ended_on": "", "plan": "Former deux membres",
          "do": "", "study": "", "act": "", "notes": "", "baseline": "freeze"}


def switch(client: FlaskClient, username: str) -> None:
    """Log out whoever is logged in, and log in as `username`."""
    client.delete_cookie("kuma_session", path="/dashboard")
    log_in(client, username)


def post(client: FlaskClient, path: str, data: dict, token: bool = True):
    form = {**data, "csrf_token": csrf_token(client, path)} if token else data
    return client.post(path, data=form)


def add(client: FlaskClient, **fields) -> str:
    """Add a cycle to CS03 through the form; return its page's path."""
    response = post(client, NEW, {**FIELDS, **fields})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def stored(services: Services) -> list[dict]:
    with session_scope(services.sessionmaker) as db:
        return [pdsa.cycle_dict(c) for c in pdsa.list_cycles(db)]


def errors(page: str) -> dict[str, str]:
    """Return {field id: the error shown beside it}."""
    return dict(re.findall(r'<p class="field-error" id="(\w+)-error">([^<]*)</p>', page))


def test_a_team_adds_a_cycle_and_sees_it_listed_and_shown(client: FlaskClient,
                                                          services: Services) -> None:
    log_in(client, "kati")
    form = client.get(NEW).get_data(as_text=True)
    assert 'name="csrf_token"' in form and '<option value="waiting">' in form
    assert "Gestion et gouvernance · " in form  # her language: the choices are labelled in French
    path = add(client)
    [cycle] = stored(services)
    assert path == f"/dashboard/centers/CS03/pdsa/{cycle['id']}"
    assert (cycle["title"], cycle["area"], cycle["dimension"], cycle["baseline"],
            cycle["status"], cycle["created_by"]) == (
        "Accueil à l'entrée", "management_governance", "waiting", "freeze", "running", "kati")
    listed = client.get("/dashboard/centers/CS03/pdsa").get_data(as_text=True)
    assert f'href="{path}">Accueil à l&#39;entrée</a>' in listed and "En cours" in listed
    page = client.get(path).get_data(as_text=True)
    assert "Former deux membres" in page and "Créé par kati le" in page
    assert "Avant et après" in page


def test_errors_are_shown_beside_their_fields_in_her_language(client: FlaskClient,
                                                              services: Services) -> None:
    log_in(client, "bks")  # English
    response = post(client, "/dashboard/centers/BKS/pdsa/new",
                    {**FIELDS, "title": "", "started_on": "5/10/2026", "baseline": "melt"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert errors(page) == {"title": "Required.", "started_on": "Give a date as YYYY-MM-DD.",
                            "baseline": "Choose one of the options."}
    assert 'value="5/10/2026"' in page  # what she typed is kept
    switch(client, "kati")
    page = post(client, NEW, {**FIELDS, "started_on": "2026-10-05",
                              "ended_on": "2026-09-01"}).get_data(as_text=True)
    assert errors(page) == {"ended_on": "La date de fin précède la date de début."}
    assert stored(services) == []


@pytest.mark.parametrize("fields", [
    {"title": "\x00"}, {"title": "a\x00b"}, {"notes": "x\x07y"}, {"title": "t" * 201},
    {"change": "c" * 10_001}, {"started_on": "2026-02-30"}, {"started_on": "'; DROP TABLE x"},
    {"started_on": "9999999-01-01"}, {"ended_on": "2026-1-1"}, {"area": "nope"},
    {"dimension": "<script>"}, {"area": "clinical_quality", "dimension": "waiting"},
    {"baseline": "%00"}, {"title": "ɲɛ ɔ \U0001F600 é"}, {"dimension": "overall", "area": ""},
])
def test_hostile_values_get_the_form_with_errors_never_a_500(client: FlaskClient,
                                                             fields: dict) -> None:
    log_in(client, "kati")
    response = post(client, NEW, {**FIELDS, **fields})
    assert response.status_code in (303, 400)
    if response.status_code == 400:
        assert errors(response.get_data(as_text=True))


def test_odd_requests_get_4xx(client: FlaskClient) -> None:
    log_in(client, "kati")
    token = csrf_token(client, NEW)
    assert client.post(NEW, data={**FIELDS, "extra": "x", "title": ["a", "b"],
                                  "csrf_token": token}).status_code in (303, 400)
    assert client.post(NEW, data=b"\xff\xfe", content_type="application/x-www-form-urlencoded"
                       ).status_code == 400
    assert client.post(NEW, data={**FIELDS, "notes": "n" * 70_000,
                                  "csrf_token": token}).status_code == 413
    assert client.get("/dashboard/centers/CS03/pdsa/abc").status_code == 404
    assert client.get("/dashboard/centers/CS03/pdsa/99999999999999999999").status_code == 404
    assert client.delete("/dashboard/centers/CS03/pdsa/new").status_code == 405


def test_a_post_without_its_csrf_token_is_refused(client: FlaskClient,
                                                  services: Services) -> None:
    log_in(client, "kati")
    path = add(client)
    for target in (NEW, f"{path}/edit", f"{path}/close"):
        response = post(client, target, {**FIELDS, "decision": "adopt"}, token=False)
        assert response.status_code == 400
        assert "Ce formulaire a expiré" in response.get_data(as_text=True)
    [cycle] = stored(services)
    assert cycle["status"] == "running"


def test_a_script_in_a_title_is_shown_as_text(client: FlaskClient) -> None:
    log_in(client, "kati")
    path = add(client, title="<script>alert(1)</script>", plan="<b>x</b>")
    for page in (client.get(path), client.get("/dashboard/centers/CS03/pdsa"),
                 client.get(f"{path}/edit")):
        text = page.get_data(as_text=True)
        assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "<b>x</b>" not in text


def test_editing_keeps_who_changed_it_and_when(client: FlaskClient, services: Services) -> None:
    log_in(client, "kati")
    path = add(client)
    switch(client, "coord")
    edit = client.get(f"{path}/edit").get_data(as_text=True)
    assert 'value="Accueil à l&#39;entrée"' in edit and '<option value="freeze" selected>' in edit
    response = post(client, f"{path}/edit", {**FIELDS, "title": "Accueil revu",
                                             "status": "running", "decision": ""})
    assert response.status_code == 303
    [cycle] = stored(services)
    assert (cycle["title"], cycle["created_by"], cycle["updated_by"]) == (
        "Accueil revu", "kati", "coord")
    assert "Modifié par coord le" in client.get(path).get_data(as_text=True)
    bad = post(client, f"{path}/edit", {**FIELDS, "status": "running", "decision": "adopt"})
    assert bad.status_code == 400
    assert errors(bad.get_data(as_text=True)) == {
        "decision": "Seul un cycle clos a une décision."}
    assert stored(services)[0]["decision"] is None


def test_closing_a_cycle_records_the_decision_and_end(client: FlaskClient,
                                                     services: Services) -> None:
    log_in(client, "kati")
    path = add(client)
    page = client.get(f"{path}/close").get_data(as_text=True)
    assert '<option value="adapt">Adapter</option>' in page
    missing = post(client, f"{path}/close", {"decision": "", "ended_on": "2026-11-01"})
    assert missing.status_code == 400 and "decision" in errors(missing.get_data(as_text=True))
    early = post(client, f"{path}/close", {"decision": "adopt", "ended_on": "2026-01-01"})
    assert errors(early.get_data(as_text=True)) == {
        "ended_on": "La date de fin précède la date de début."}
    assert post(client, f"{path}/close", {"decision": "adopt",
                                          "ended_on": "2026-11-01"}).status_code == 303
    [cycle] = stored(services)
    assert (cycle["status"], cycle["decision"], cycle["ended_on"]) == (
        "closed", "adopt", "2026-11-01")
    shown = client.get(path).get_data(as_text=True)
    assert "Adopter" in shown and "Clos" in shown and f"{path}/close" not in shown


def test_a_team_cannot_reach_another_centres_cycle_through_her_own(
        client: FlaskClient, services: Services) -> None:
    with session_scope(services.sessionmaker) as db:
        other = pdsa.create_cycle(db, "BKS", {"title": "Autre", "started_on":
                                              dt.date(2026, 10, 5)},
                                  by="cli:t", today=dt.date(2026, 10, 5)).id
    log_in(client, "kati")
    for suffix in ("", "/edit", "/close"):
        assert client.get(f"/dashboard/centers/CS03/pdsa/{other}{suffix}").status_code == 404
    response = post(client, f"/dashboard/centers/CS03/pdsa/{other}/close",
                    {"decision": "abandon", "ended_on": "2026-11-01"})
    assert response.status_code == 404
    assert stored(services)[0]["status"] == "running"


def test_a_cycle_shows_its_before_and_after(client: FlaskClient, services: Services) -> None:
    this_week = periods.week_of(dt.datetime.now(services.settings.tz).date())
    start = periods.weeks_back(this_week, 8)
    with session_scope(services.sessionmaker) as db:
        data = Dataset(db)
        center = db.scalar(sa.select(Center).where(Center.code == "CS03"))
        for week in periods.weeks_between(periods.weeks_back(start, 8), this_week):
            for _ in range(10):
                score = (80.0, True) if week >= start else (40.0, False)
                data.session(center, week, {"waiting": score})
        cycle_id = pdsa.create_cycle(db, "CS03", {
            "title": "Accueil", "dimension": "waiting", "area": "management_governance",
            "started_on": periods.monday_of(start)}, by="kati", today=dt.date.today()).id
    log_in(client, "bks")  # wrong centre first: 404
    assert client.get(f"/dashboard/centers/CS03/pdsa/{cycle_id}").status_code == 404
    switch(client, "coord")
    page = client.get(f"/dashboard/centers/CS03/pdsa/{cycle_id}").get_data(as_text=True)
    table = re.sub(r"\s+", " ", page.split('class="before-after"')[1].split("</table>")[0])
    assert "<td>40,0 <span class=\"n\">(n = 8)</span></td>" in table
    assert "<td>80,0 <span class=\"n\">(n = 8)</span></td>" in table
    spaced = table.replace("\u202f", " ").replace("\xa0", " ")
    assert '<td>0 % <span class="n">(n = 80)</span></td>' in spaced
    assert "<td>80</td>" in table
    assert "les 8 semaines avant le début" in page
    assert "Signal :" in page.replace("\u202f", " ") and "<svg" in page
    with session_scope(services.sessionmaker) as db:
        assert db.get(PdsaCycle, cycle_id).status == "running"


def test_an_edit_cannot_empty_the_title_or_the_start(client: FlaskClient,
                                                   services: Services) -> None:
    log_in(client, "kati")
    path = add(client)
    response = post(client, f"{path}/edit", {**FIELDS, "title": " ", "started_on": "",
                                             "status": "running", "decision": ""})
    assert response.status_code == 400
    assert errors(response.get_data(as_text=True)) == {"title": "Obligatoire.",
                                                       "started_on": "Obligatoire."}
    assert stored(services)[0]["started_on"] == "2026-10-05"
