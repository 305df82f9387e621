"""A centre's comments by week: newest week first, not in order of time within a week."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy.orm as so

from gateway.errors import NotFoundError
from gateway.models import Answer, Center
from reports.comments import center_comments
from tests.reports.dataset import Dataset

STEPS = [("maternal_care", "comment")]
KEY = b"k" * 32


def comment(data: Dataset, center: Center, week: str, text: str, *, step: str = "comment",
            flow: str = "maternal_care", hour: int = 10) -> None:
    """Add a session of `flow` in `week` whose answer to `step` is `text`."""
    monday = dt.date.fromisocalendar(int(week[:4]), int(week[-2:]), 1)
    started = dt.datetime.combine(monday, dt.time(hour), dt.timezone.utc)
    session = data.session(center, week, {"respect": (100.0, True)}, started=started)
    session.flow_id = flow
    data.db.add(Answer(session_id=session.id, step_id=step, raw=text, value=text,
                       answered_at=started, center_id=center.id, week=week))
    data.db.flush()


@pytest.fixture
def data(db_session: so.Session) -> Dataset:
    return Dataset(db_session)


def read(db: so.Session, code: str = "CS01", **options):
    options = {"steps": STEPS, "start": "2026-W01", "end": "2026-W52", "key": KEY, **options}
    return center_comments(db, code, **options)


def test_newest_week_first_and_only_the_centres_texts_in_range(data: Dataset) -> None:
    mine, other = data.center("CS01"), data.center("CS02")
    comment(data, mine, "2026-W10", "propre")
    comment(data, mine, "2026-W12", "accueil")
    comment(data, mine, "2025-W50", "trop tôt")
    comment(data, mine, "2026-W11", "")  # skipped: the optional step answered 0
    comment(data, mine, "2026-W11", "autre étape", step="why")
    comment(data, mine, "2026-W11", "autre flux", flow="antenatal")
    comment(data, other, "2026-W11", "ailleurs")
    found = read(data.db)
    assert [(c.week, c.step, c.text) for c in found.comments] == [
        ("2026-W12", "comment", "accueil"), ("2026-W10", "comment", "propre")]
    assert (found.total, found.page, found.pages) == (2, 1, 1)
    assert read(data.db, start="2026-W11", end="2026-W11").comments == []
    assert read(data.db, steps=[]).total == 0


def test_within_a_week_the_order_is_a_keyed_hash_not_the_time(data: Dataset) -> None:
    center = data.center("CS01")
    texts = [f"mère {i:02d}" for i in range(24)]
    for hour, text in enumerate(texts):  # filed in order of time, hour by hour
        comment(data, center, "2026-W20", text, hour=hour)
    shown = [c.text for c in read(data.db).comments]
    assert sorted(shown) == texts and shown not in (texts, texts[::-1])
    assert [c.text for c in read(data.db).comments] == shown  # the same at every reading
    assert [c.text for c in read(data.db, key=b"another key").comments] != shown


def test_pages(data: Dataset) -> None:
    center = data.center("CS01")
    for week in ("2026-W01", "2026-W02", "2026-W03"):
        for i in range(4):
            comment(data, center, week, f"{week} {i}")
    first, last = read(data.db, per_page=5), read(data.db, per_page=5, page=3)
    assert (first.total, first.pages, len(first.comments), len(last.comments)) == (12, 3, 5, 2)
    assert [c.week for c in first.comments] == ["2026-W03"] * 4 + ["2026-W02"]
    assert read(data.db, per_page=5, page=9).comments == []
    with pytest.raises(NotFoundError):
        read(data.db, "NOPE")
