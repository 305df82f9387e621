"""The overview, a centre's run charts with a PDSA cycle on them, the print view, in Chromium."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from gateway import pdsa
from gateway.accounts import add_user
from gateway.db import session_scope
from gateway.models import utcnow
from reports import periods
from tests.browser.conftest import ARTIFACTS, screenshot
from tests.browser.test_login_browser import PASSWORD, submit_login
from tests.reports.dataset import Dataset
from tests.web.run_chart_data import build_shift, shift_start

CYCLE = "Accueil par une matrone"
A4_PRINTABLE = (718, 1047)  # CSS px inside the 10 mm margins of @page


@pytest.fixture
def site(live_app) -> str:
    """Kati (CS03) has the known shift up to last week and a freeze cycle where it starts."""
    _, services, base = live_app
    today = periods.local_today(utcnow(), services.settings.tz)
    with session_scope(services.sessionmaker) as db:
        data = Dataset(db)
        data.center("BKS", "Banankabougou", district="Bamako")
        kati = data.center("CS03", "Centre de Kati", district="Kati", ussd_extension="07")
        weeks = build_shift(db, kati, periods.last_complete("week", today))
        pdsa.create_cycle(db, "CS03", {"title": CYCLE, "started_on": shift_start(weeks),
                                       "baseline": "freeze", "dimension": "respect",
                                       "prediction": "Les mères se sentent mieux reçues."},
                          by="kati", today=today)
        add_user(db, "coord", PASSWORD, role="coordinator")
        add_user(db, "kati", PASSWORD, role="team", center_code="CS03")
    return base


def test_a_team_sees_the_overview_then_her_centre_with_its_cycle(page, site: str) -> None:
    submit_login(page, site, "kati", PASSWORD)
    row = page.locator("table.overview tbody tr")
    assert row.count() == 1
    assert "Signal" in row.inner_text() and "90,0" in row.inner_text()
    screenshot(page, "overview-team")

    page.click("text=Centre de Kati")
    page.wait_for_url(f"{site}/dashboard/centers/CS03")
    overall = page.locator("section#overall")
    assert overall.locator("svg g.cycle title").text_content() == CYCLE
    assert overall.locator("svg g.cycle text").text_content().startswith("Accueil par")
    # The frozen baseline: its median drawn across the after points, red and dashed.
    frozen = overall.locator("svg line.median.frozen")
    assert frozen.count() == 1 and frozen.get_attribute("stroke-dasharray")
    assert "anormalement longue" in overall.locator(".explain").first.inner_text()
    assert overall.locator("table tbody tr").count() == 52
    assert page.locator("section.chart").count() == 5
    assert page.locator(".open-cycles").inner_text().count(CYCLE) == 1
    screenshot(page, "center")


def test_options_change_the_charts_without_script(page, site: str) -> None:
    submit_login(page, site, "kati", PASSWORD)
    page.goto(f"{site}/dashboard/centers/CS03")
    page.select_option("select[name=chart]", "p")
    page.select_option("select[name=dimension]", "respect")
    page.click("form.chart-options button")
    page.wait_for_url(re.compile(r".*chart=p.*"))
    assert page.locator("section#respect svg path.limit").count() == 2
    screenshot(page, "center-p-chart")


def test_the_print_view_fits_one_a4_page(page, live_app, site: str) -> None:
    services = live_app[1]
    today = periods.local_today(utcnow(), services.settings.tz)
    with session_scope(services.sessionmaker) as db:  # more cycles than the sheet lists
        for n in range(5):
            pdsa.create_cycle(db, "CS03", {"title": f"Changement {n} " + "long " * 30,
                                           "started_on": today - dt.timedelta(days=60),
                                           "prediction": "Une prédiction longue. " * 20},
                              by="coord", today=today)
    submit_login(page, site, "coord", PASSWORD)
    page.goto(f"{site}/dashboard/centers/CS03/print")
    assert page.locator(".sheet-chart svg").count() == 5
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert page.locator(".sheet-cycles").inner_text().count(CYCLE) == 1
    assert "Et 2 de plus" in page.locator(".sheet-cycles").inner_text()
    screenshot(page, "print")
    page.set_viewport_size({"width": A4_PRINTABLE[0], "height": A4_PRINTABLE[1]})
    page.screenshot(path=str(ARTIFACTS / "print-a4.png"), full_page=True)
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


def test_the_coordinator_overview_sorts_by_score(page, site: str) -> None:
    submit_login(page, site, "coord", PASSWORD)
    page.click("table.overview thead >> text=Score global")
    names = page.locator("table.overview tbody th a").all_inner_texts()
    assert names == ["Centre de Kati", "Banankabougou"]  # the one with too few replies last
    screenshot(page, "overview-coordinator")


def test_a_team_member_is_refused_another_centres_print_and_export(page, site: str) -> None:
    submit_login(page, site, "kati", PASSWORD)
    for path in ("/dashboard/centers/BKS/print", "/dashboard/centers/BKS/export.csv"):
        response = page.request.get(f"{site}{path}")
        assert response.status == 404
    assert page.request.get(f"{site}/dashboard/centers/CS03/export.csv").status == 200
