"""Fixtures for the dashboard: an app on the test's services, accounts, a logged-in client."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.accounts import add_user
from gateway.app import create_app
from gateway.db import session_scope
from gateway.services import Services
from tests.reports.dataset import Dataset

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def accounts(services: Services) -> None:
    """Two centres; a coordinator `coord`, `kati` of CS03's team, `bks` of BKS's (English)."""
    with session_scope(services.sessionmaker) as db:
        data = Dataset(db)
        data.center("BKS", "Banankabougou", district="Bamako")
        data.center("CS03", "Centre de Kati", district="Kati", ussd_extension="07")
        db.flush()
        add_user(db, "coord", PASSWORD, role="coordinator")
        add_user(db, "kati", PASSWORD, role="team", center_code="CS03")
        add_user(db, "bks", PASSWORD, role="team", center_code="BKS", language="en")


@pytest.fixture
def app(services: Services, accounts: None) -> Flask:
    return create_app(services.settings, services=services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/dashboard/login") -> str:
    """Return the CSRF token of the form at `path`."""
    page = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, page
    return match.group(1)


def log_in(client: FlaskClient, username: str, password: str = PASSWORD, **environ):
    """Post the login form as a browser would (its CSRF token included)."""
    return client.post("/dashboard/login", data={
        "username": username, "password": password, "csrf_token": csrf_token(client)},
        environ_base=environ)
