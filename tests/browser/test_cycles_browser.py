"""A change team's PDSA cycle and its mothers' comments, in Chromium at 360 and 1366 px."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import pytest

from gateway.accounts import add_user
from gateway.api_tokens import create_token
from gateway.db import session_scope
from gateway.models import Answer
from reports import periods
from tests.browser.conftest import screenshot
from tests.browser.test_login_browser import PASSWORD, submit_login
from tests.reports.dataset import Dataset


@pytest.fixture
def site(live_app) -> tuple[str, str]:
    """A centre with 16 weeks of answers (better from 8 weeks ago) and comments; its team."""
    _, services, base = live_app
    this_week = periods.week_of(dt.datetime.now(services.settings.tz).date())
    start = periods.weeks_back(this_week, 8)
    with session_scope(services.sessionmaker) as db:
        data = Dataset(db)
        center = data.center("CS03", "Centre de Kati", district="Kati", ussd_extension="07")
        data.center("BKS", "Banankabougou", district="Bamako")
        db.flush()
        add_user(db, "kati", PASSWORD, role="team", center_code="CS03")
        for week in periods.weeks_between(periods.weeks_back(start, 8), this_week):
            for mother in range(12):
                better = week >= start and mother % 4 != 0
                data.session(center, week, {"waiting": (100.0, True) if better
                                            else (50.0, False)})
        last = periods.previous_week(this_week)
        for text in ("L'accueil était chaleureux, merci.",
                     "Appelez-moi au 76 12 34 56 pour en parler",
                     "Trop d'attente le matin, pas de chaise pour s'asseoir."):
            session = data.session(center, last, {"respect": (100.0, True)})
            db.add(Answer(session_id=session.id, step_id="comment", raw=text, value=text,
                          center_id=center.id, week=last))
        token = create_token(db, "browser-test")
    return base, token, periods.monday_of(start).isoformat()


def test_add_a_cycle_see_it_and_its_marker_then_close_it(page, site) -> None:
    base, token, start = site
    submit_login(page, base, "kati", PASSWORD)
    page.goto(f"{base}/dashboard/centers/CS03/pdsa")
    screenshot(page, "cycles-empty")
    page.click("text=Nouveau cycle")
    page.fill("#title", "Une ASACO accueille les mères")
    page.fill("#change", "Un membre de l'ASACO accueille chaque mère à l'entrée.")
    page.select_option("#dimension", "waiting")
    page.fill("#prediction", "Moins de mères diront avoir attendu longtemps.")
    page.fill("#started_on", start)
    page.select_option("#baseline", "freeze")
    page.fill("#plan", "Former deux membres ; un tableau de présence.")
    screenshot(page, "cycle-new")
    page.click("form.cycle button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("h1") == "Une ASACO accueille les mères"
    assert "Signal" in page.inner_text("p.verdict")
    marker = page.locator("figure.chart svg g.cycle title")
    assert marker.text_content() == "Une ASACO accueille les mères"
    screenshot(page, "cycle-show")

    api = urllib.request.Request(f"{base}/api/v1/centers/CS03/pdsa",
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(api, timeout=10) as response:  # loopback only
        [listed] = json.load(response)
    assert (listed["title"], listed["baseline"], listed["started_on"]) == (
        "Une ASACO accueille les mères", "freeze", start)

    # The cycle added through the form is marked on the centre's chart of its dimension.
    page.goto(f"{base}/dashboard/centers/CS03?dimension=waiting")
    chart_marker = page.locator("section.chart svg g.cycle title").first
    assert chart_marker.text_content() == "Une ASACO accueille les mères"

    page.goto(f"{base}/dashboard/centers/CS03/pdsa")
    assert page.locator("ul.cycles li a").all_inner_texts() == ["Une ASACO accueille les mères"]
    screenshot(page, "cycles-list")
    page.click("text=Une ASACO accueille les mères")
    page.click("text=Clore le cycle")
    page.click("form.cycle button[type=submit]")  # no decision yet: refused beside the field
    page.wait_for_load_state()
    assert page.inner_text("#decision-error") == "Choisissez une des options."
    screenshot(page, "cycle-close-error")
    page.select_option("#decision", "adopt")
    page.click("form.cycle button[type=submit]")
    page.wait_for_load_state()
    assert "Clos" in page.inner_text("p.meta") and "Adopter" in page.inner_text("p.meta")
    screenshot(page, "cycle-closed")


def test_read_the_comments(page, site) -> None:
    base, _, _ = site
    submit_login(page, base, "kati", PASSWORD)
    page.goto(f"{base}/dashboard/centers/CS03")
    page.goto(f"{base}/dashboard/centers/CS03/comments")
    items = page.locator("ul.comments li").all_inner_texts()
    assert sorted(items) == ["Appelez-moi au ******** pour en parler",
                             "L'accueil était chaleureux, merci.",
                             "Trop d'attente le matin, pas de chaise pour s'asseoir."]
    assert page.inner_text("section.week h2").startswith("semaine ")
    screenshot(page, "comments")
    refused = page.goto(f"{base}/dashboard/centers/BKS/comments")
    assert refused.status == 404
