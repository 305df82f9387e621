"""Logging in and out of the dashboard: sessions, CSRF, throttling, cookies and headers."""

from __future__ import annotations

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from gateway.accounts import remove_user, set_password
from gateway.app import create_app
from gateway.db import session_scope
from gateway.services import Services
from gateway.throttle import Policy
from tests.dashboard.conftest import PASSWORD, csrf_token, log_in


def test_login_form_has_the_contract_fields_in_french(client: FlaskClient) -> None:
    response = client.get("/dashboard/login")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fr">' in page
    assert 'name="username"' in page and 'name="password"' in page
    assert 'name="csrf_token"' in page
    assert "Connexion" in page and "Mot de passe" in page


def test_the_login_page_speaks_the_language_asked_for(client: FlaskClient) -> None:
    assert "<h1>Log in</h1>" in client.get("/dashboard/login?lang=en").get_data(as_text=True)
    assert "<h1>Connexion</h1>" in client.get("/dashboard/login?lang=xx").get_data(as_text=True)


def test_a_good_login_goes_into_the_dashboard(client: FlaskClient) -> None:
    response = log_in(client, "coord")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Banankabougou" in page and "Centre de Kati" in page


def test_visitors_are_sent_to_the_login_form_and_back(client: FlaskClient) -> None:
    response = client.get("/dashboard/centers/BKS")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login?next=")
    back = client.post(response.headers["Location"], data={
        "username": "coord", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert back.headers["Location"] == "/dashboard/centers/BKS"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "/api/v1/centers"])
def test_login_never_redirects_outside_the_dashboard(client: FlaskClient, target: str) -> None:
    response = client.post("/dashboard/login", query_string={"next": target}, data={
        "username": "coord", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/dashboard/"


@pytest.mark.parametrize("username, password", [("coord", "wrong password!"),
                                                ("nobody", PASSWORD), ("COORD ", "nope")])
def test_a_bad_login_answers_the_form_with_an_error(client: FlaskClient, username: str,
                                                   password: str) -> None:
    response = log_in(client, username, password)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nom d’utilisateur ou mot de passe incorrect." in page
    assert 'name="password"' in page
    assert client.get("/dashboard/").status_code == 302


def test_usernames_ignore_case_and_spaces(client: FlaskClient) -> None:
    assert log_in(client, "  Coord ").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(client: FlaskClient) -> None:
    client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"username": "coord",
                                                      "password": PASSWORD})
    assert response.status_code == 400
    assert "formulaire" in response.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302


def test_a_token_from_another_session_is_refused(app: Flask) -> None:
    other = app.test_client()
    token = csrf_token(other)
    client = app.test_client()
    client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={
        "username": "coord", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400


def test_logout_needs_a_post_with_its_token_and_ends_the_session(client: FlaskClient) -> None:
    log_in(client, "coord")
    assert client.get("/dashboard/logout").status_code == 405
    assert client.post("/dashboard/logout").status_code == 400
    assert client.get("/dashboard/").status_code == 200
    response = client.post("/dashboard/logout",
                           data={"csrf_token": csrf_token(client, "/dashboard/")})
    assert response.headers["Location"] == "/dashboard/login"
    assert client.get("/dashboard/").status_code == 302


def test_changing_the_password_or_removing_the_account_ends_its_sessions(
        client: FlaskClient, services: Services) -> None:
    log_in(client, "coord")
    with session_scope(services.sessionmaker) as db:
        set_password(db, "coord", "another long password")
    assert client.get("/dashboard/").status_code == 302
    log_in(client, "kati")
    with session_scope(services.sessionmaker) as db:
        remove_user(db, "kati")
    assert client.get("/dashboard/").status_code == 302


def test_the_session_cookie_is_httponly_lax_and_scoped(client: FlaskClient) -> None:
    cookie = log_in(client, "coord").headers["Set-Cookie"]
    assert cookie.startswith("kuma_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie


def test_the_cookie_is_secure_when_the_public_url_is_https(services: Services,
                                                           accounts: None) -> None:
    settings = services.settings.replace(public_url="https://kuma.example.org")
    secure = Services.build(settings)
    try:
        client = create_app(settings, services=secure).test_client()
        assert "Secure" in log_in(client, "coord").headers["Set-Cookie"]
    finally:
        secure.close()


def test_webhooks_and_the_api_get_no_session_cookie(client: FlaskClient) -> None:
    assert "Set-Cookie" not in client.get("/api/v1/centers").headers
    assert "Set-Cookie" not in client.get("/healthz").headers


def test_pages_forbid_framing_and_outside_resources(client: FlaskClient) -> None:
    headers = client.get("/dashboard/login").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"


def test_the_stylesheet_is_served_by_the_dashboard(client: FlaskClient) -> None:
    page = client.get("/dashboard/login").get_data(as_text=True)
    assert 'href="/dashboard/static/dashboard.css"' in page
    assert "http" not in page.split("<body>")[0]  # nothing fetched from elsewhere
    with client.get("/dashboard/static/dashboard.css") as css:
        assert css.status_code == 200 and css.mimetype == "text/css"
        assert "max-age" in css.headers["Cache-Control"]


def test_the_account_language_is_the_page_language(client: FlaskClient) -> None:
    log_in(client, "bks")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log out" in page


# ---------------------------------------------------------------- throttling


@pytest.fixture
def strict_app(services: Services, accounts: None) -> Flask:
    app = create_app(services.settings, services=services)
    app.config["KUMA_THROTTLE_POLICIES"] = {
        "login-account": Policy(free=2, lock_after=4, base_delay=30, lockout=600),
        "login-address": Policy(free=20, lock_after=50)}
    return app


def test_wrong_passwords_are_slowed_then_locked(strict_app: Flask) -> None:
    client = strict_app.test_client()
    for _ in range(3):
        assert log_in(client, "coord", "not the password").status_code == 200
    slowed = log_in(client, "coord", PASSWORD)  # the right one, but too soon: not checked
    assert slowed.status_code == 429
    assert 0 < int(slowed.headers["Retry-After"]) <= 30
    assert "Trop de tentatives" in slowed.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302


def test_the_lockout_says_how_many_minutes(strict_app: Flask, redis_client: redis.Redis) -> None:
    client = strict_app.test_client()
    for _ in range(4):
        log_in(client, "coord", "not the password")
        _forget_waits(redis_client)
    for key in redis_client.scan_iter("kuma:throttle:login-account:*"):
        redis_client.hset(key, "next_at", "9999999999")
    locked = log_in(client, "coord", PASSWORD)
    assert locked.status_code == 429
    assert "verrouillée" in locked.get_data(as_text=True)


def test_a_good_login_clears_the_account_counter(strict_app: Flask,
                                                 redis_client: redis.Redis) -> None:
    client = strict_app.test_client()
    for _ in range(2):
        log_in(client, "coord", "not the password")
    assert log_in(client, "coord").status_code == 302
    assert list(redis_client.scan_iter("kuma:throttle:login-account:*")) == []


def test_one_account_locked_leaves_others_alone(strict_app: Flask) -> None:
    client = strict_app.test_client()
    for _ in range(3):
        log_in(client, "coord", "not the password")
    assert log_in(client, "kati").status_code == 302


def test_each_address_is_throttled_whatever_the_account(services: Services,
                                                        accounts: None) -> None:
    app = create_app(services.settings, services=services)
    app.config["KUMA_THROTTLE_POLICIES"] = {
        "login-address": Policy(free=2, lock_after=3, lockout=600)}
    client = app.test_client()
    for name in ("a1", "a2", "a3"):
        log_in(client, name, "guess guess", REMOTE_ADDR="10.0.0.9")
    assert log_in(client, "coord", REMOTE_ADDR="10.0.0.9").status_code == 429
    assert log_in(client, "coord", REMOTE_ADDR="10.0.0.10").status_code == 302


def test_throttle_keys_hold_no_username_or_address(strict_app: Flask,
                                                   redis_client: redis.Redis) -> None:
    log_in(strict_app.test_client(), "coord", "not the password", REMOTE_ADDR="10.1.2.3")
    keys = b" ".join(redis_client.keys("kuma:throttle:*"))
    assert keys and b"coord" not in keys and b"10.1.2.3" not in keys


def _forget_waits(client: redis.Redis) -> None:
    for key in client.scan_iter("kuma:throttle:*"):
        client.hdel(key, "next_at")
