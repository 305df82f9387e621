"""Logging in and out of the dashboard in Chromium, as a coordinator or a change team would."""

from __future__ import annotations

import pytest

from gateway.accounts import add_user
from gateway.db import session_scope
from tests.browser.conftest import screenshot
from tests.reports.dataset import Dataset

PASSWORD = "correct horse battery"


@pytest.fixture
def site(live_app) -> str:
    _, services, base = live_app
    with session_scope(services.sessionmaker) as db:
        data = Dataset(db)
        data.center("BKS", "Banankabougou", district="Bamako")
        data.center("CS03", "Centre de Kati", district="Kati", ussd_extension="07")
        db.flush()
        add_user(db, "coord", PASSWORD, role="coordinator")
        add_user(db, "kati", PASSWORD, role="team", center_code="CS03")
    return base


def submit_login(page, base: str, username: str, password: str):
    """Fill the login form and submit it; return the response to the POST."""
    if not page.url.startswith(f"{base}/dashboard/login"):
        page.goto(f"{base}/dashboard/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("form.login button[type=submit]")
    page.wait_for_load_state()
    return posted.value


def test_log_in_see_the_centres_and_log_out(page, site: str) -> None:
    page.goto(f"{site}/dashboard/login")
    assert page.inner_text("h1") == "Connexion"
    screenshot(page, "login")

    assert submit_login(page, site, "coord", PASSWORD).status == 302
    assert page.url == f"{site}/dashboard/"
    assert page.locator("table.overview tbody th a").all_inner_texts() == [
        "Banankabougou", "Centre de Kati"]
    screenshot(page, "overview")

    page.click("text=Se déconnecter")
    page.wait_for_url(f"{site}/dashboard/login")
    page.goto(f"{site}/dashboard/")
    assert page.url.startswith(f"{site}/dashboard/login")


def test_a_wrong_password_answers_the_form_with_an_error(page, site: str) -> None:
    response = submit_login(page, site, "coord", "not my password")
    assert response.status == 200
    assert page.inner_text("p.error") == "Nom d’utilisateur ou mot de passe incorrect."
    assert page.input_value("#username") == "coord" and page.input_value("#password") == ""
    screenshot(page, "login-wrong")


def test_repeated_wrong_passwords_lock_the_account(page, site: str) -> None:
    for _ in range(3):
        submit_login(page, site, "coord", "guessing again")
    locked = submit_login(page, site, "coord", PASSWORD)
    assert locked.status == 429
    assert "la connexion est verrouillée. Réessayez dans 10 minutes." in page.inner_text(
        "p.error")
    screenshot(page, "login-locked")
    page.goto(f"{site}/dashboard/")
    assert page.url.startswith(f"{site}/dashboard/login")


def test_a_form_without_its_csrf_token_is_refused(page, site: str) -> None:
    page.goto(f"{site}/dashboard/login")
    page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    assert submit_login(page, site, "coord", PASSWORD).status == 400
    assert "Ce formulaire a expiré" in page.inner_text("main")
    page.goto(f"{site}/dashboard/")
    assert page.url.startswith(f"{site}/dashboard/login")


def test_a_team_member_is_refused_another_centre(page, site: str) -> None:
    submit_login(page, site, "kati", PASSWORD)
    assert page.locator("table.overview tbody th a").all_inner_texts() == ["Centre de Kati"]
    assert page.goto(f"{site}/dashboard/centers/CS03").status == 200
    refused = page.goto(f"{site}/dashboard/centers/BKS")
    assert refused.status == 404
    assert page.inner_text("main").startswith("404")
    screenshot(page, "other-centre-404")
