"""Bad input on every API path, query and body value: a 4xx naming the field, never a 500."""

from __future__ import annotations

import json
import urllib.parse

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from gateway.models import Invitation
from tests.web.test_api import bearer, client, data, token  # noqa: F401

VALID_BODY = {"center": "CS03", "phone": "76123456", "flow": "maternal_care",
              "visit_at": "2030-03-04T09:30"}
# Strings that broke something once, or break servers often.
HOSTILE_TEXT = ["", " ", "\x00", "CS\x0001", "\x1b[2J", "\x7f", "\u202e", "x" * 10_000,
                "0000-W01", "9999-W53", "2025-W00", "-1", "%00", "../../etc/passwd",
                "' OR 1=1 --", "{{7*7}}", "💥", "\ufeffCS01"]
# What only a JSON body can carry: lone surrogates, numbers, lists, objects, null.
HOSTILE_JSON = [*HOSTILE_TEXT, "0001-W01", "\ud800", None, 0, -1, 1e308, True, [], {}, ["CS03"],
                {"$gt": ""}, "9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00",
                "9999-12-31T23:59:59-14:00", "2030-02-30T09:00", "2030-03-04T25:00"]


def assert_refused(response, field: str | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    error = response.get_json()["error"]
    assert error.strip()
    if field is not None and response.status_code == 400:
        assert error.startswith(f"{field}:") or field in error, error


def quoted(text: str) -> str:
    return urllib.parse.quote(text, safe="")


@pytest.mark.parametrize("value", HOSTILE_TEXT, ids=repr)
def test_hostile_centre_codes_in_the_path(client: FlaskClient, token: str, data: None,
                                          value: str) -> None:
    response = client.get(f"/api/v1/centers/{quoted(value)}/scores?from=2025-W10",
                          headers=bearer(token))
    assert_refused(response, "code")


@pytest.mark.parametrize("field", ["from", "to"])
@pytest.mark.parametrize("value", HOSTILE_TEXT, ids=repr)
def test_hostile_weeks_in_the_query(client: FlaskClient, token: str, data: None, field: str,
                                    value: str) -> None:
    if value == "":
        return  # an empty week means the default one, as when it is left out
    other = "to" if field == "from" else "from"
    response = client.get(f"/api/v1/centers/CS01/scores?{field}={quoted(value)}"
                          f"&{other}=2025-W10", headers=bearer(token))
    assert_refused(response, field)


def test_week_zero_is_refused_with_a_reason(client: FlaskClient, token: str,
                                            data: None) -> None:
    response = client.get("/api/v1/centers/CS01/scores?from=0000-W01&to=2025-W10",
                          headers=bearer(token))
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("from: '0000-W01'")


@pytest.mark.parametrize("field", sorted(VALID_BODY))
@pytest.mark.parametrize("value", HOSTILE_JSON, ids=repr)
def test_hostile_invitation_fields(client: FlaskClient, services, token: str, data: None,
                                   field: str, value: object) -> None:
    if field == "flow" and value is None:
        return  # no flow: the default one, a valid request
    if field == "visit_at" and value is None:
        return  # no visit time: now, a valid request
    body = json.dumps({**VALID_BODY, field: value})
    response = client.post("/api/v1/invitations", headers=bearer(token), data=body,
                           content_type="application/json")
    assert_refused(response, field)
    with services.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


@pytest.mark.parametrize("visit_at", ["9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00"])
def test_visit_times_out_of_range_are_400(client: FlaskClient, token: str, data: None,
                                          visit_at: str) -> None:
    response = client.post("/api/v1/invitations", headers=bearer(token),
                           json={**VALID_BODY, "visit_at": visit_at})
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("visit_at: ")


@pytest.mark.parametrize("raw", [b"", b"{", b"\x00", b"\xff\xfe", b"[]" * 40_000,
                                 b'{"center": "CS03", "phone": "76123456"' + b" " * 70_000 + b"}",
                                 b"[" * 5000 + b"]" * 5000, b"null", b'"text"', b"1e999999"])
def test_hostile_bodies(client: FlaskClient, token: str, data: None, raw: bytes) -> None:
    response = client.post("/api/v1/invitations", headers=bearer(token), data=raw,
                           content_type="application/json")
    assert_refused(response)


@pytest.mark.parametrize("path", ["/api/v1/centers/CS01", "/api/v1/nothing",
                                  "/api/v1/centers/CS01/scores/extra"])
def test_unknown_paths_are_json_404(client: FlaskClient, token: str, path: str) -> None:
    response = client.get(path, headers=bearer(token))
    assert response.status_code == 404 and "error" in response.get_json()


FUZZ = hypothesis_settings(max_examples=60, deadline=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture])
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=5), children, max_size=3),
                           max_leaves=5)


@FUZZ
@given(code=st.text(max_size=30), week_from=st.text(max_size=12), week_to=st.text(max_size=12))
def test_fuzzed_scores_queries_are_never_a_500(client: FlaskClient, token: str, data: None,
                                               code: str, week_from: str, week_to: str) -> None:
    response = client.get(f"/api/v1/centers/{quoted(code)}/scores?from={quoted(week_from)}"
                          f"&to={quoted(week_to)}", headers=bearer(token))
    assert response.status_code < 500, response.text


@FUZZ
@given(body=st.dictionaries(st.sampled_from(sorted(VALID_BODY)), JSON_VALUES, max_size=4))
def test_fuzzed_invitations_are_never_a_500(client: FlaskClient, token: str, data: None,
                                            body: dict) -> None:
    response = client.post("/api/v1/invitations", headers=bearer(token),
                           data=json.dumps({**VALID_BODY, **body}),
                           content_type="application/json")
    assert response.status_code < 500, response.text


SERIES_FIELDS = ["dimension", "measure", "interval", "from", "to"]


@pytest.mark.parametrize("field", SERIES_FIELDS)
@pytest.mark.parametrize("value", HOSTILE_TEXT, ids=repr)
def test_hostile_series_queries(client: FlaskClient, token: str, data: None, field: str,
                                value: str) -> None:
    if not value.strip():
        return  # a blank value means the default, as when it is left out
    response = client.get(f"/api/v1/centers/CS01/series?{field}={quoted(value)}",
                          headers=bearer(token))
    assert_refused(response, field)


@pytest.mark.parametrize("query, field", [
    ("interval=month&from=2025-W01", "from"), ("interval=week&to=2025-03", "to"),
    ("from=2025-W10&to=2025-W01", "from"), ("from=2001-W01&to=2025-W10", "from"),
    ("dimension=overall&measure=median", "measure"), ("interval=day", "interval"),
    ("dimension=nothing_scores_this", "dimension")])
def test_series_values_that_cannot_go_together(client: FlaskClient, token: str, data: None,
                                               query: str, field: str) -> None:
    response = client.get(f"/api/v1/centers/CS01/series?{query}", headers=bearer(token))
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(f"{field}:")


def test_hostile_centre_code_for_the_series(client: FlaskClient, token: str,
                                            data: None) -> None:
    for value in HOSTILE_TEXT:
        response = client.get(f"/api/v1/centers/{quoted(value)}/series", headers=bearer(token))
        assert_refused(response, "code")


@FUZZ
@given(query=st.dictionaries(st.sampled_from(SERIES_FIELDS), st.text(max_size=12), max_size=5))
def test_fuzzed_series_queries_are_never_a_500(client: FlaskClient, token: str, data: None,
                                               query: dict) -> None:
    encoded = urllib.parse.urlencode(query)
    response = client.get(f"/api/v1/centers/CS01/series?{encoded}", headers=bearer(token))
    assert response.status_code < 500, response.text
