"""The comments page keeps the survey's promise: no number, no id, no day or hour, no order."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from gateway.db import session_scope
from gateway.models import Answer, Center, SurveySession
from gateway.services import Services
from reports import periods
from tests.dashboard.conftest import log_in
from tests.reports.dataset import Dataset

PATH = "/dashboard/centers/CS03/comments"


def this_week(services: Services) -> str:
    return periods.week_of(dt.datetime.now(services.settings.tz).date())


def add_comments(services: Services, texts: list[str], week: str, code: str = "CS03",
                 ) -> list[tuple[int, int]]:
    """File `texts` as answers to the comment step, one session each, an hour apart.

    Returns the (session id, answer id) of each; the text is stored as given (unmasked),
    as an old row or a careless import might hold it.
    """
    ids = []
    with session_scope(services.sessionmaker) as db:
        data = Dataset(db)
        center = db.scalar(sa.select(Center).where(Center.code == code))
        wednesday = dt.date.fromisocalendar(int(week[:4]), int(week[-2:]), 3)
        for hour, text in enumerate(texts):
            started = dt.datetime.combine(wednesday, dt.time(7 + hour % 12, 37),
                                          dt.timezone.utc)
            session = data.session(center, week, {"respect": (100.0, True)}, started=started)
            answer = Answer(session_id=session.id, step_id="comment", raw=text, value=text,
                            answered_at=started, center_id=center.id, week=week)
            db.add(answer)
            db.flush()
            ids.append((session.id, answer.id))
    return ids


def listed(page: str) -> list[str]:
    return re.findall(r"<li>([^<]*)</li>", page.split('<ul class="comments">', 1)[-1])


def test_the_centres_comments_by_week_with_numbers_masked(client: FlaskClient,
                                                         services: Services) -> None:
    last = periods.previous_week(this_week(services))
    earlier = periods.weeks_back(last, 3)
    add_comments(services, ["Appelez-moi au 76 12 34 56 svp", "ou au +22376123456"], last)
    add_comments(services, ["Accueil chaleureux"], earlier)
    add_comments(services, ["Trop d'attente"], this_week(services))  # week not over: hidden
    add_comments(services, ["Ailleurs"], last, code="BKS")
    log_in(client, "kati")
    response = client.get(PATH)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Accueil chaleureux" in page and "Ailleurs" not in page
    assert "Trop d&#39;attente" not in page
    assert "3 commentaires" in page
    assert page.index("Appelez-moi") < page.index("Accueil chaleureux")  # newest week first
    for digits in ("76 12 34 56", "76123456", "12 34", "123456", "3456"):
        assert digits not in page
    assert "Appelez-moi au ******** svp" in page


def test_no_day_hour_or_id_in_the_page_or_its_links(client: FlaskClient,
                                                   services: Services) -> None:
    last = periods.previous_week(this_week(services))
    add_comments(services, [f"commentaire {i:02d}" for i in range(30)], last)
    log_in(client, "kati")
    page = client.get(f"{PATH}?from={periods.weeks_back(last, 1)}&to={last}").get_data(
        as_text=True)
    assert len(listed(page)) == 25  # the first page
    wednesday = dt.date.fromisocalendar(int(last[:4]), int(last[-2:]), 3)
    assert not re.search(r"\d{1,2}[:h]\d{2}", page)  # no hour of any kind
    assert wednesday.isoformat() not in page and f"{wednesday.day} " not in page.replace(
        f"{wednesday.day} –", "")
    with session_scope(services.sessionmaker) as db:
        keys = list(db.scalars(sa.select(SurveySession.key)))
    for key in keys:
        assert key not in page
    for link in re.findall(r'href="([^"]*)"', page):
        path, _, query = link.partition("?")
        assert not re.search(r"\d", path.replace("CS03", "")), link
        for name, value in re.findall(r"(\w+)=([^&]*)", query.replace("&amp;", "&")):
            assert (name, bool(re.fullmatch(r"\d{4}-W\d{2}|[12]", value))) in {
                ("from", True), ("to", True), ("page", True)}, link
    assert "page=2" in page and "Page 1 sur 2" in page
    second = client.get(f"{PATH}?from={periods.weeks_back(last, 1)}&to={last}&page=2")
    assert len(listed(second.get_data(as_text=True))) == 5


def test_the_order_within_a_week_is_not_the_time(client: FlaskClient,
                                                 services: Services) -> None:
    last = periods.previous_week(this_week(services))
    texts = [f"mère {i:02d}" for i in range(20)]
    add_comments(services, texts, last)
    log_in(client, "kati")
    shown = listed(client.get(PATH).get_data(as_text=True))
    assert sorted(shown) == texts and shown not in (texts, texts[::-1])
    assert listed(client.get(PATH).get_data(as_text=True)) == shown


@pytest.mark.parametrize("query", ["from=2026-W60", "to=yesterday", "from=2026-W30&to=2026-W10",
                                   "page=0", "page=-1", "page=x", "page=1e9",
                                   "from=%00", "step=%ff"])
def test_bad_filters_get_a_400_with_the_form(client: FlaskClient, query: str) -> None:
    log_in(client, "kati")
    response = client.get(f"{PATH}?{query}")
    if "step" in query:  # an unknown step means every step
        assert response.status_code == 200
        return
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ("n’est pas une page" if "page" in query else "AAAA-Wss") in page


def test_another_centres_comments_answer_404(client: FlaskClient) -> None:
    log_in(client, "kati")
    assert client.get("/dashboard/centers/BKS/comments?page=x").status_code == 404
