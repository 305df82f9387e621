"""PDSA cycles: fields checked one by one, who and when kept, closing, listing."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy.orm as so

from gateway.errors import ArgumentError, NotFoundError
from gateway.models import Center
from gateway.pdsa import (Vocabulary, check_fields, close_cycle, create_cycle, cycle_dict,
                          get_cycle, list_cycles, update_cycle)
from gateway.statuses import PdsaStatus

WORDS = Vocabulary({"waiting": "management_governance", "respect": "patient_experience"})
TODAY = dt.date(2026, 11, 2)
NOON = dt.datetime(2026, 11, 2, 12, tzinfo=dt.timezone.utc)


@pytest.fixture
def centers(db_session: so.Session) -> None:
    db_session.add_all([Center(code="BKS", name="Banankabougou"),
                        Center(code="CS03", name="Kati")])
    db_session.flush()


def add(db: so.Session, center: str = "BKS", **fields):
    data = {"title": "Accueil à l'entrée", "started_on": "2026-10-05", **fields}
    return create_cycle(db, center, check_fields(data, WORDS), by="amina", today=TODAY,
                        now=NOON)


@pytest.mark.parametrize("data, message", [
    ({"started_on": "2026-10-05"}, "title: required"),
    ({"title": "x"}, "started_on: required"),
    ({"title": "x", "started_on": "05/10/2026"}, "started_on: expected a date YYYY-MM-DD"),
    ({"title": "x", "started_on": "2026-02-30"}, "started_on: expected a date"),
    ({"title": "x", "started_on": 20261005}, "started_on: expected a date"),
    ({"title": "   ", "started_on": "2026-10-05"}, "title: give 1 to 200 characters"),
    ({"title": "x" * 201, "started_on": "2026-10-05"}, "title: give 1 to 200"),
    ({"title": ["x"], "started_on": "2026-10-05"}, "title: expected text"),
    ({"title": "x", "started_on": "2026-10-05", "dimension": "speed"},
     "dimension: not a dimension the flows score"),
    ({"title": "x", "started_on": "2026-10-05", "area": "food"}, "area: expected one of"),
    ({"title": "x", "started_on": "2026-10-05", "dimension": "waiting",
      "area": "patient_experience"}, "area: 'waiting' belongs to 'management_governance'"),
    ({"title": "x", "started_on": "2026-10-05", "baseline": "reset"},
     "baseline: expected one of freeze, split"),
    ({"title": "x", "started_on": "2026-10-05", "decision": "keep"}, "decision: expected one"),
    ({"title": "x", "started_on": "2026-10-05", "status": "done"}, "status: expected one"),
    ({"title": "x", "started_on": "2026-10-05", "colour": "red"}, "colour: not a field"),
    ([1, 2], "body: send a JSON object"),
])
def test_each_bad_field_is_named(data: object, message: str) -> None:
    with pytest.raises(ArgumentError, match=message.replace("(", r"\(")):
        check_fields(data, WORDS)


def test_the_area_follows_the_dimension() -> None:
    assert check_fields({"dimension": "waiting"}, WORDS, partial=True) == {
        "dimension": "waiting", "area": "management_governance"}
    assert check_fields({"dimension": "patient_experience"}, WORDS, partial=True)["area"] == (
        "patient_experience")
    assert check_fields({"dimension": "overall"}, WORDS, partial=True) == {"dimension": "overall"}


def test_a_cycle_keeps_who_and_when_and_reads_as_the_api_shows_it(db_session, centers) -> None:
    cycle = add(db_session, dimension="waiting", baseline="freeze", change="Un agent accueille",
                plan="Former deux agents")
    shown = cycle_dict(cycle)
    assert shown == {**shown, "center": "BKS", "title": "Accueil à l'entrée",
                     "started_on": "2026-10-05", "ended_on": None, "dimension": "waiting",
                     "area": "management_governance", "baseline": "freeze",
                     "change": "Un agent accueille", "plan": "Former deux agents",
                     "status": "running", "decision": None, "created_by": "amina",
                     "updated_by": "amina", "created_at": "2026-11-02T12:00:00+00:00"}
    later = NOON + dt.timedelta(days=3)
    update_cycle(db_session, cycle, check_fields({"study": "Attente plus courte"}, WORDS,
                                                 partial=True), by="token:script", now=later)
    assert (cycle.study_notes, cycle.updated_by, cycle.created_by) == (
        "Attente plus courte", "token:script", "amina")
    assert cycle_dict(cycle)["updated_at"] == later.isoformat()


def test_a_cycle_starting_later_is_planned(db_session, centers) -> None:
    assert add(db_session, started_on="2026-12-01").status is PdsaStatus.PLANNED


def test_dates_must_run_forward_even_in_an_update(db_session, centers) -> None:
    with pytest.raises(ArgumentError, match="ended_on: 2026-10-01 is before started_on"):
        add(db_session, ended_on="2026-10-01")
    cycle = add(db_session)
    with pytest.raises(ArgumentError, match="ended_on: .* is before started_on"):
        update_cycle(db_session, cycle, check_fields({"ended_on": "2026-09-30"}, WORDS,
                                                     partial=True), by="amina")


def test_closing_records_the_decision_and_the_end(db_session, centers) -> None:
    cycle = close_cycle(db_session, add(db_session), decision="adapt",
                        ended_on=dt.date(2026, 11, 1), by="kati")
    assert (cycle.status, cycle.decision, cycle.ended_on, cycle.updated_by) == (
        PdsaStatus.CLOSED, "adapt", dt.date(2026, 11, 1), "kati")
    with pytest.raises(ArgumentError, match="decision: expected one of adopt, adapt, abandon"):
        close_cycle(db_session, cycle, decision="maybe", ended_on=TODAY, by="kati")


def test_a_decision_needs_a_closed_cycle_and_closed_needs_an_end(db_session, centers) -> None:
    with pytest.raises(ArgumentError, match="decision: only a closed cycle"):
        add(db_session, decision="adopt")
    with pytest.raises(ArgumentError, match="ended_on: a closed cycle needs its end date"):
        add(db_session, status="closed")


def test_listing_by_centre_and_finding_one(db_session, centers) -> None:
    second = add(db_session, started_on="2026-10-19")
    first = add(db_session)
    kati = add(db_session, "CS03")
    assert list_cycles(db_session, ["BKS"]) == [first, second]
    assert list_cycles(db_session) == [first, second, kati]
    assert get_cycle(db_session, "CS03", kati.id) is kati
    with pytest.raises(NotFoundError, match=f"no PDSA cycle {kati.id} at centre 'BKS'"):
        get_cycle(db_session, "BKS", kati.id)
    with pytest.raises(NotFoundError, match="no centre with code 'XX'"):
        add(db_session, "XX")
