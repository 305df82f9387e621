"""GET and POST /api/v1/centers/<code>/pdsa: bearer tokens, 201, fields named in 400s, 404s."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from gateway.api_tokens import create_token
from gateway.app import create_app
from gateway.db import session_scope
from gateway.services import Services
from tests.reports.dataset import Dataset

CYCLE = {"title": "Accueil à l'entrée", "started_on": "2026-10-05", "dimension": "waiting",
         "baseline": "freeze", "change": "Un agent accueille chaque mère",
         "prediction": "Moins d'attente ressentie"}


@pytest.fixture
def client(services: Services) -> FlaskClient:
    with session_scope(services.sessionmaker) as db:
        Dataset(db).center("BKS", "Banankabougou")
    return create_app(services.settings, services=services).test_client()


@pytest.fixture
def headers(services: Services) -> dict[str, str]:
    with session_scope(services.sessionmaker) as db:
        return {"Authorization": f"Bearer {create_token(db, 'qi-script')}"}


def test_post_a_cycle_then_list_it(client: FlaskClient, headers: dict) -> None:
    created = client.post("/api/v1/centers/BKS/pdsa", json=CYCLE, headers=headers)
    assert created.status_code == 201
    cycle = created.get_json()
    assert cycle == {**cycle, **CYCLE, "center": "BKS", "ended_on": None,
                     "area": "management_governance", "status": "running",
                     "created_by": "token:qi-script", "updated_by": "token:qi-script"}
    assert isinstance(cycle["id"], int)
    listed = client.get("/api/v1/centers/BKS/pdsa", headers=headers)
    assert listed.status_code == 200 and listed.get_json() == [cycle]


@pytest.mark.parametrize("body, field", [
    ({**CYCLE, "started_on": "5 oct"}, "started_on"),
    ({**CYCLE, "ended_on": "2026-10-01"}, "ended_on"),
    ({**CYCLE, "dimension": "speed"}, "dimension"),
    ({**CYCLE, "baseline": "reset"}, "baseline"),
    ({"started_on": "2026-10-05"}, "title"),
    (["not", "an", "object"], "body"),
])
def test_bad_fields_get_400_naming_the_field(client: FlaskClient, headers: dict, body: object,
                                             field: str) -> None:
    response = client.post("/api/v1/centers/BKS/pdsa", json=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(f"{field}:")
    assert client.get("/api/v1/centers/BKS/pdsa", headers=headers).get_json() == []


@pytest.mark.parametrize("data, content_type", [("{not json", "application/json"),
                                                 ("title=x", "application/x-www-form-urlencoded"),
                                                 (b"\xff\xfe", "application/json")])
def test_a_body_that_is_not_json_gets_400(client: FlaskClient, headers: dict, data,
                                          content_type: str) -> None:
    response = client.post("/api/v1/centers/BKS/pdsa", data=data, content_type=content_type,
                           headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("body:")


def test_an_unknown_centre_gets_404(client: FlaskClient, headers: dict) -> None:
    assert client.get("/api/v1/centers/XX/pdsa", headers=headers).status_code == 404
    response = client.post("/api/v1/centers/XX/pdsa", json=CYCLE, headers=headers)
    assert response.status_code == 404
    assert response.get_json() == {"error": "no centre with code 'XX'"}


def test_the_pdsa_api_needs_a_token(client: FlaskClient) -> None:
    assert client.get("/api/v1/centers/BKS/pdsa").status_code == 401
    response = client.post("/api/v1/centers/BKS/pdsa", json=CYCLE,
                           headers={"Authorization": "Bearer kuma_nope"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
