"""Whole USSD surveys through HTTP, drained by a real worker, checked in the database."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.models import Answer, Contact, SurveySession

PHONE = "+22376123456"


def dial(client, session_id: str, text: str, *, service_code: str = "*384*123*07#",
         phone: str = PHONE) -> str:
    response = client.post("/webhooks/africastalking/ussd", data={
        "sessionId": session_id, "serviceCode": service_code, "phoneNumber": phone,
        "networkCode": "61001", "text": text})
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/plain"
    assert len(response.text) <= 182
    return response.text


def play(client, session_id: str, inputs: list[str], *, dialled: str = "",
         **kwargs) -> list[str]:
    """Dial, then type each input; AT sends everything typed so far, joined with '*'."""
    screens = [dial(client, session_id, dialled, **kwargs)]
    typed: list[str] = [dialled] if dialled else []
    for value in inputs:
        typed.append(value)
        screens.append(dial(client, session_id, "*".join(typed), **kwargs))
    return screens


def test_whole_survey_in_french_lands_in_the_database(client, services, drain):
    # language fr, consent yes, delivery visit, then every question, then a comment
    screens = play(client, "ATUid_fr_1", ["1", "1", "2", "2", "1", "1", "1", "1", "1", "2",
                                          "1", "Merci, appelez moi au 76 12 34 56"])
    assert screens[0].startswith("CON Choisissez votre langue")
    assert all(s.startswith("CON ") for s in screens[:-1])
    assert screens[-1].startswith("END Merci")
    drain()
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()
        assert session.key == "ussd:ATUid_fr_1"
        assert session.status == "completed"
        assert session.center_id is not None and session.language == "fr"
        answers = {a.step_id: a for a in db.scalars(sa.select(Answer))}
        assert answers["visit"].value == "delivery"
        assert "anc_explained" not in answers  # asked only after a prenatal visit
        assert answers["respect"].score == 100 and answers["respect"].top_box is True
        assert answers["extra_payment"].value == "no"
        assert "76 12 34 56" not in answers["comment"].value
        assert answers["comment"].value.startswith("Merci, appelez moi au ")
        assert {a.center_id for a in answers.values()} == {session.center_id}
        contact = db.scalars(sa.select(Contact)).one()
        assert PHONE not in contact.phone_encrypted
        assert services.vault.decrypt(contact.phone_encrypted) == PHONE


def test_bambara_survey_with_the_extension_in_text(client, services, drain):
    screens = play(client, "ATUid_bm_1", ["2", "1", "1", "2", "1", "1", "1", "1", "1", "1",
                                          "2", "1", "0"],
                   service_code="*384*123#", dialled="07")
    # AT moves the extension ("07") into text on the first request
    assert screens[0].startswith("CON Choisissez")
    drain()
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()
        assert session.language == "bm" and session.status == "completed"
        steps = set(db.scalars(sa.select(Answer.step_id)))
        assert {"anc_explained", "wait", "recommend"} <= steps
        assert "comment" not in steps  # skipped with 0


def test_the_same_request_twice_gets_the_same_screen_and_one_answer(client, services, drain):
    dial(client, "ATUid_dup", "")
    dial(client, "ATUid_dup", "1")
    first = dial(client, "ATUid_dup", "1*1")
    again = dial(client, "ATUid_dup", "1*1")
    assert first == again
    third = dial(client, "ATUid_dup", "1*1*3")
    assert third != first
    drain()
    with services.sessionmaker() as db:
        answers = db.scalars(sa.select(Answer.step_id)).all()
        assert sorted(answers) == ["consent", "visit"]


def session_ended(client, session_id: str, status: str = "Incomplete") -> None:
    response = client.post("/webhooks/africastalking/ussd/events", data={
        "sessionId": session_id, "serviceCode": "*384*123#", "phoneNumber": PHONE,
        "networkCode": "61001", "status": status, "durationInMillis": "20000",
        "cost": "XOF 0", "input": "", "date": "2026-11-27 10:00:00"})
    assert response.status_code == 200


def test_a_dropped_session_dialled_again_resumes_where_it_stopped(client, services, drain):
    screens = play(client, "ATUid_drop1", ["1", "1", "2", "2"])
    asked = screens[-1]  # the 'listened' question
    session_ended(client, "ATUid_drop1")
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(SurveySession.status)).one() == "abandoned"
    resumed = dial(client, "ATUid_drop2", "")
    assert resumed == asked
    for typed in ["1", "1*1", "1*1*1", "1*1*1*1", "1*1*1*1*1", "1*1*1*1*1*2", "1*1*1*1*1*2*1",
                  "1*1*1*1*1*2*1*0"]:
        last = dial(client, "ATUid_drop2", typed)
    assert last.startswith("END ")
    drain()
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()  # one session, not two
        assert session.key == "ussd:ATUid_drop1" and session.status == "completed"
        assert db.scalar(sa.select(sa.func.count(Answer.id))) == 10


def test_a_session_that_drops_for_good_keeps_its_answers_as_abandoned(client, services,
                                                                       drain):
    play(client, "ATUid_gone", ["1", "1", "3", "2"])
    session_ended(client, "ATUid_gone", "Failed")
    drain()
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()
        assert session.status == "abandoned"
        assert sorted(db.scalars(sa.select(Answer.step_id))) == ["consent", "respect", "visit"]


def test_the_language_is_remembered_for_the_next_survey(client, services, drain):
    play(client, "ATUid_lang1", ["2", "2"])  # Bambara, then declines
    screen = dial(client, "ATUid_lang2", "")
    assert "sònna" in screen or "sonna" in screen  # consent asked in Bambara, no language menu


def test_a_comment_holding_stars_is_stored_whole(client, services, drain):
    inputs = ["1", "1", "2", "2", "1", "1", "1", "1", "1", "2", "1"]
    screens = play(client, "ATUid_star", inputs + ["bien*accueillie *merci"])
    assert screens[-1].startswith("END ")
    drain()
    with services.sessionmaker() as db:
        comment = db.scalars(sa.select(Answer.value).where(Answer.step_id == "comment")).one()
        assert comment == "bien*accueillie *merci"


def test_typing_the_restart_word_on_ussd_starts_the_survey_again(client, services, drain):
    screens = play(client, "ATUid_again", ["1", "1", "1", "KOKURA", "1", "3"])
    assert screens[4].startswith("CON CSCom")  # the consent question, not an empty END
    drain()
    with services.sessionmaker() as db:
        sessions = {s.key: s for s in db.scalars(sa.select(SurveySession))}
        assert sessions["ussd:ATUid_again"].status == "abandoned"
        (fresh,) = [s for key, s in sessions.items() if key != "ussd:ATUid_again"]
        assert fresh.status == "active" and fresh.key.startswith("ussd:ATUid_again:")
        visits = db.execute(sa.select(Answer.session_id, Answer.value)
                            .where(Answer.step_id == "visit")).all()
        assert {value for _, value in visits} == {"prenatal", "postnatal"}


def test_stop_on_ussd_is_remembered_so_that_writing_again_opts_back_in(client, services,
                                                                       drain):
    from tests.integration.test_sms_conversations import sms

    play(client, "ATUid_stop", ["1", "STOP"])
    assert services.store.is_opted_out(services.vault.hash(PHONE))
    drain()
    sms(client, "AVIS 07")
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(Contact.opted_out_at)).one() is None
    assert not services.store.is_opted_out(services.vault.hash(PHONE))
