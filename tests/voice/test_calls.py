"""Whole calls through HTTP, answered with the keypad, drained by a real worker, in SQL."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.models import Answer, SurveySession
from tests.voice.calls import Call
from tests.voice.conftest import PUBLIC_URL

FR_KEYS = ["1", "1", "2", "2", "1", "1", "1", "1", "1", "2", "1"]


def test_whole_call_in_french_lands_in_the_database(client, services, drain):
    call = Call(client, "ATVId_fr_1")
    heard = call.answer(FR_KEYS)
    for h in heard:
        print(h.xml)
    assert heard[-1].final
    call.hang_up()
    drain()
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()
        answers = {a.step_id: a for a in db.scalars(sa.select(Answer))}
        print(session.status, session.channel, {k: a.value for k, a in answers.items()})
        assert session.status == "completed"
