"""The JSON API as a script sees it: bearer tokens, centres, scores and invitations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from gateway.api_tokens import create_token, hash_token, revoke_token
from gateway.app import create_app
from gateway.db import session_scope
from gateway.models import ApiToken, Invitation, OutboundMessage
from gateway.services import Services
from tests.reports.dataset import Dataset
from tests.reports.test_scores import WEEK, build


@pytest.fixture
def client(services: Services) -> FlaskClient:
    return create_app(services.settings, services=services).test_client()


@pytest.fixture
def token(services: Services) -> str:
    with session_scope(services.sessionmaker) as db:
        return create_token(db, "dashboard-script")


@pytest.fixture
def data(services: Services) -> None:
    with session_scope(services.sessionmaker) as db:
        build(db)
        Dataset(db).center("CS03", "Centre de Kati", district="Kati", ussd_extension="07",
                           sms_keyword="KATI")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwdw=="},
                                     {"Authorization": "Bearer "},
                                     {"Authorization": "Bearer kuma_not-a-real-token"}])
def test_requests_without_a_valid_token_get_401(client: FlaskClient, token: str,
                                                headers: dict) -> None:
    response = client.get("/api/v1/centers", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "token" in response.get_json()["error"]


def test_a_revoked_token_stops_working(client: FlaskClient, services: Services,
                                       token: str) -> None:
    assert client.get("/api/v1/centers", headers=bearer(token)).status_code == 200
    with session_scope(services.sessionmaker) as db:
        revoke_token(db, "dashboard-script")
    response = client.get("/api/v1/centers", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json() == {"error": "unknown or revoked API token"}
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_only_the_hash_is_stored_and_use_is_noted(client: FlaskClient, services: Services,
                                                  token: str) -> None:
    client.get("/api/v1/centers", headers=bearer(token))
    with session_scope(services.sessionmaker) as db:
        stored = db.scalars(sa.select(ApiToken)).one()
        assert stored.token_hash == hash_token(token) and token not in stored.token_hash
        assert stored.last_used_at is not None


def test_centers_lists_every_centre(client: FlaskClient, token: str, data: None) -> None:
    response = client.get("/api/v1/centers", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json() == [
        {"code": "CS01", "name": "CSCom CS01", "district": "", "ussd_extension": None,
         "sms_keyword": None},
        {"code": "CS02", "name": "CSCom CS02", "district": "", "ussd_extension": None,
         "sms_keyword": None},
        {"code": "CS03", "name": "Centre de Kati", "district": "Kati", "ussd_extension": "07",
         "sms_keyword": "KATI"},
    ]


def test_scores_of_a_centre(client: FlaskClient, token: str, data: None) -> None:
    response = client.get(f"/api/v1/centers/CS01/scores?from={WEEK}&to=2025-W11",
                          headers=bearer(token))
    assert response.status_code == 200
    rows = response.get_json()
    assert {row["center"] for row in rows} == {"CS01"}
    respect = next(row for row in rows if row["week"] == WEEK and row["dimension"] == "respect")
    assert respect == {"center": "CS01", "week": WEEK, "dimension": "respect",
                       "level": "dimension", "respondents": 10, "answers": 10, "mean": 80.0,
                       "top_box": 80.0, "ci_low": 49.0, "ci_high": 94.3, "suppressed": False}
    waiting = next(row for row in rows if row["dimension"] == "waiting")
    assert waiting["suppressed"] is True and waiting["mean"] is None  # 5 < MIN_RESPONDENTS
    assert [row["week"] for row in rows if row["dimension"] == "overall"] == [WEEK, "2025-W11"]


def test_scores_default_to_the_current_week(client: FlaskClient, token: str,
                                            data: None) -> None:
    response = client.get("/api/v1/centers/CS01/scores", headers=bearer(token))
    assert response.status_code == 200 and response.get_json() == []


def test_an_unknown_centre_is_404(client: FlaskClient, token: str, data: None) -> None:
    response = client.get(f"/api/v1/centers/NOPE/scores?from={WEEK}", headers=bearer(token))
    assert response.status_code == 404
    assert response.get_json() == {"error": "no centre with code 'NOPE'"}


@pytest.mark.parametrize("query, message", [
    ("from=2025-10&to=2025-W11", "from: '2025-10' is not an ISO week; expected YYYY-Www, "
                                 "e.g. 2025-W07"),
    ("from=2025-W10&to=soon", "to: 'soon' is not an ISO week; expected YYYY-Www, e.g. 2025-W07"),
    ("from=2025-W12&to=2025-W11", "from: 2025-W12 is after to 2025-W11"),
    ("to=0000-W01", "to: '0000-W01' is not a week of 0000 (years run from 0001 to 9999)"),
    ("to=2026-W54", "to: '2026-W54' is not a week of 2026 (it has 53 ISO weeks)"),
])
def test_a_malformed_week_is_400_naming_the_parameter(client: FlaskClient, token: str,
                                                      data: None, query: str,
                                                      message: str) -> None:
    response = client.get(f"/api/v1/centers/CS01/scores?{query}", headers=bearer(token))
    assert response.status_code == 400
    assert response.get_json() == {"error": message}


def test_invitations_are_scheduled(client: FlaskClient, services: Services, token: str,
                                   data: None) -> None:
    response = client.post("/api/v1/invitations", headers=bearer(token), json={
        "center": "cs03", "phone": "76 12 34 56", "visit_at": "2030-03-04T09:30"})
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    # Bamako is UTC all year; the default delay is 120 minutes.
    assert body | {"id": None} == {
        "id": None, "center": "CS03", "phone": "+223******56", "flow": "maternal_care",
        "status": "scheduled", "reason": None, "send_at": "2030-03-04T11:30:00+00:00",
        "channel": "sms"}
    with session_scope(services.sessionmaker) as db:
        invitation = db.get(Invitation, body["id"])
        message = db.get(OutboundMessage, invitation.message_id)
        assert "Centre de Kati" in message.body
    assert len(services.queue.scheduled_job_registry) == 1


@pytest.mark.parametrize("body, status, message", [
    ({"center": "CS03"}, 400, "phone: required, a non-empty string"),
    ({"center": "CS03", "phone": "12"}, 400, "not a valid phone number"),
    ({"center": "ZZ", "phone": "76123456"}, 404, "centre 'ZZ' not found"),
    ({"center": "CS03", "phone": "76123456", "flow": "nope"}, 404, "flow 'nope' not found"),
    ({"center": "CS03", "phone": "76123456", "visit_at": "tuesday"}, 400,
     "visit_at: 'tuesday' is not an ISO 8601 date and time"),
    (["CS03"], 400, "body: send a JSON object"),
])
def test_bad_invitations_are_refused_with_a_reason(client: FlaskClient, token: str, data: None,
                                                   body: object, status: int,
                                                   message: str) -> None:
    response = client.post("/api/v1/invitations", headers=bearer(token), json=body)
    assert response.status_code == status
    assert message in response.get_json()["error"]
