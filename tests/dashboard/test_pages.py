"""The overview and a centre's charts as a change team and a coordinator see them."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient

from gateway import pdsa
from gateway.db import session_scope
from gateway.models import Center, utcnow
from gateway.services import Services
from reports import periods
from tests.dashboard.conftest import log_in
from tests.web.run_chart_data import build_shift, shift_start


def last_week(services: Services) -> str:
    return periods.last_complete("week", periods.local_today(utcnow(), services.settings.tz))


@pytest.fixture
def shifted(services: Services, accounts: None) -> list[str]:
    """CS03 (Kati) has the known shift, ending with the last complete week."""
    with session_scope(services.sessionmaker) as db:
        kati = db.query(Center).filter_by(code="CS03").one()
        return build_shift(db, kati, last_week(services))


def add_cycle(services: Services, weeks: list[str], **fields) -> None:
    with session_scope(services.sessionmaker) as db:
        pdsa.create_cycle(db, "CS03", {"title": "Accueil par une matrone",
                                       "started_on": shift_start(weeks), **fields},
                          by="kati", today=dt.date.today())


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def test_the_overview_shows_the_last_complete_week_with_a_signal_badge(
        client: FlaskClient, services: Services, shifted: list[str]) -> None:
    log_in(client, "coord")
    text = page(client, "/dashboard/")
    kati = text[text.index("Centre de Kati"):]
    row = kati[:kati.index("</tr>")]
    assert "90,0" in row and ">10<" in row and "Signal" in row
    bks = text[text.index("Banankabougou"):]
    assert "Trop peu de réponses" in bks[:bks.index("</tr>")]
    assert "Dernière semaine complète" in text


def test_the_overview_sorts_by_any_column_with_plain_links(
        client: FlaskClient, shifted: list[str]) -> None:
    log_in(client, "coord")
    by_name = page(client, "/dashboard/")
    assert by_name.index("Banankabougou") < by_name.index("Centre de Kati")
    by_score = page(client, "/dashboard/?sort=score&order=desc")
    assert by_score.index("Centre de Kati") < by_score.index("Banankabougou")
    assert 'href="/dashboard/?sort=respondents&amp;order=desc"' in by_name
    for sort in ("code", "district", "respondents", "change", "cycles", "signal"):
        page(client, f"/dashboard/?sort={sort}&order=asc")
    only_kati = page(client, "/dashboard/?district=Kati")
    assert "Centre de Kati" in only_kati and "Banankabougou</a>" not in only_kati


def test_the_signal_badge_is_cached_and_follows_a_new_cycle(
        client: FlaskClient, services: Services, shifted: list[str]) -> None:
    log_in(client, "coord")
    page(client, "/dashboard/")
    keys = services.redis.keys("kuma:dashboard:signals:*")
    assert len(keys) == 1
    add_cycle(services, shifted, baseline="split")  # each phase flat: no signal left
    text = page(client, "/dashboard/")
    kati = text[text.index("Centre de Kati"):]
    row = kati[:kati.index("</tr>")]
    assert "Signal</span>" not in row and ">1<" in row  # one open cycle


def test_a_team_member_sees_only_her_centre_on_the_overview(client: FlaskClient,
                                                            shifted: list[str]) -> None:
    log_in(client, "kati")
    text = page(client, "/dashboard/")
    assert "Centre de Kati" in text and "Banankabougou" not in text
    assert 'name="district"' not in text


def test_the_centre_page_draws_overall_and_every_area_with_its_table(
        client: FlaskClient, shifted: list[str]) -> None:
    log_in(client, "kati")
    text = page(client, "/dashboard/centers/CS03")
    for heading in ("Global", "Qualité clinique", "Vécu des patientes",
                    "Gestion et gouvernance", "Recettes et recouvrement des coûts"):
        assert f"<h2>{heading}" in text
    assert text.count("<svg") == 5 and text.count("<table>") == 5
    assert 'class="median signal"' in text
    assert "Série anormalement longue" in text or "anormalement" in text
    assert len(text.encode()) < 150_000


def test_a_cycle_is_a_marker_and_a_frozen_baseline_is_drawn(
        client: FlaskClient, services: Services, shifted: list[str]) -> None:
    add_cycle(services, shifted, baseline="freeze")
    log_in(client, "kati")
    text = page(client, "/dashboard/centers/CS03")
    assert '<g class="cycle"><title>Accueil par une matrone</title>' in text
    assert 'class="median frozen signal"' in text
    assert "Accueil par une matrone</strong>" in text  # among the cycles under way


def test_a_dimension_a_measure_a_p_chart_and_months_on_demand(
        client: FlaskClient, shifted: list[str]) -> None:
    log_in(client, "kati")
    respect = page(client, "/dashboard/centers/CS03?dimension=respect")
    assert respect.count("<svg") == 6 and "<h2>Respect et dignité" in respect
    p_chart = page(client, "/dashboard/centers/CS03?chart=p")
    assert 'class="limit high"' in p_chart
    monthly = page(client, "/dashboard/centers/CS03?interval=month&measure=top_box")
    assert "Mensuel" in monthly and 'value="month" selected' in monthly


def test_months_by_default_when_most_weeks_are_suppressed(client: FlaskClient,
                                                          shifted: list[str]) -> None:
    log_in(client, "coord")
    text = page(client, "/dashboard/centers/BKS")  # no answers at all
    assert 'value="month" selected' in text
    assert 'value="week" selected' in page(client, "/dashboard/centers/CS03")


def test_english_for_an_english_account(client: FlaskClient, services: Services,
                                        accounts: None) -> None:
    log_in(client, "bks")
    text = page(client, "/dashboard/centers/BKS")
    assert "Patient experience" in text and "How to read a run chart" in text


def test_the_print_page_and_the_export(client: FlaskClient, services: Services,
                                       shifted: list[str]) -> None:
    add_cycle(services, shifted, baseline="freeze", prediction="Moins d'attente")
    log_in(client, "kati")
    printed = page(client, "/dashboard/centers/CS03/print")
    assert printed.count("<svg") == 5 and "Accueil par une matrone" in printed
    assert "@page" not in printed  # the stylesheet holds the A4 rules
    response = client.get(f"/dashboard/centers/CS03/export.csv?from={shifted[0]}&to={shifted[-1]}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == ("center;dimension;interval;period;respondents;mean;top_box;"
                        "top_box_hits;ci_low;ci_high;suppressed")
    assert len(lines) == 1 + 5 * 20
    assert f"CS03;overall;week;{shifted[0]};10;40,0;0,0;" in lines[1]


@pytest.mark.parametrize("query", [
    "dimension=%00", "dimension=nothing", "measure=median", "interval=day", "chart=x",
    "from=2025-W99", "to=abc", "from=2001-W01", "interval=month&from=2025-W01",
    "dimension=" + "x" * 5000, "chart=p&measure=%ff"])
def test_hostile_centre_queries_are_400(client: FlaskClient, shifted: list[str],
                                        query: str) -> None:
    log_in(client, "coord")
    for route in ("/dashboard/centers/CS03", "/dashboard/centers/CS03/print",
                  "/dashboard/centers/CS03/export.csv"):
        assert client.get(f"{route}?{query}").status_code == 400, (route, query)


@pytest.mark.parametrize("query", ["sort=%00", "sort=mean", "order=up", "page=0", "page=x",
                                   "page=99999999999", "interval=day", "district=" + "d" * 500])
def test_hostile_overview_queries_are_400(client: FlaskClient, accounts: None,
                                          query: str) -> None:
    log_in(client, "coord")
    assert client.get(f"/dashboard/?{query}").status_code == 400


def test_top_box_figures_read_as_percentages(client: FlaskClient, shifted: list[str]) -> None:
    log_in(client, "kati")
    text = page(client, "/dashboard/centers/CS03?measure=top_box")
    assert "Dernier chiffre : 100,0\u00a0% en semaine" in text
