"""Whole SMS surveys through Africa's Talking's webhook; replies leave through the outbox."""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from gateway.models import Answer, Contact, OutboundMessage, SurveySession

PHONE = "+22376123456"
_ids = itertools.count(1)


def sms(client, text: str, *, phone: str = PHONE, message_id: str | None = None) -> None:
    response = client.post("/webhooks/africastalking/sms", data={
        "from": phone, "to": "36010", "text": text, "date": "2026-11-27 10:00:00",
        "id": message_id or f"ATXid_{next(_ids)}", "linkId": "", "networkCode": "61001"})
    assert response.status_code == 200, response.text


def outbox(services) -> list[OutboundMessage]:
    with services.sessionmaker() as db:
        return list(db.scalars(sa.select(OutboundMessage).order_by(OutboundMessage.id)))


def test_a_survey_by_sms_in_bambara(client, services, drain):
    sms(client, "AVIS 07")  # keyword and centre code
    drain()
    first = outbox(services)[-1]
    assert first.purpose == "reply" and first.status == "logged"
    assert first.body.startswith("Choisissez votre langue")
    assert first.segments == 1
    for answer in ["2", "awɔ", "kelen", "ayi", "1", "AWO", "1", "1", "1", "1", "2", "1",
                   "A ka di n ye kosɛbɛ"]:
        sms(client, answer)
    drain()
    messages = outbox(services)
    assert len(messages) == 14
    assert messages[-1].body.startswith("I ni ce")
    assert all(m.encoding == "gsm7" for m in messages)
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()
        assert (session.channel, session.status, session.language) == ("sms", "completed", "bm")
        answers = {a.step_id: a.value for a in db.scalars(sa.select(Answer))}
        assert answers["visit"] == "prenatal" and answers["anc_explained"] == "yes"
        assert answers["comment"] == "A ka di n ye kosɛbɛ"


def test_a_provider_retry_of_the_same_sms_is_ignored(client, services, drain):
    sms(client, "AVIS 07", message_id="ATXid_same")
    sms(client, "AVIS 07", message_id="ATXid_same")
    sms(client, "1", message_id="ATXid_lang")
    sms(client, "1", message_id="ATXid_lang")
    drain()
    assert len(outbox(services)) == 2
    with services.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count(SurveySession.id))) == 1


def test_stop_opts_out_and_writing_again_opts_back_in(client, services, drain):
    sms(client, "AVIS 07")
    sms(client, "1")
    sms(client, "ARRÊT")
    drain()
    confirmation = outbox(services)[-1]
    assert confirmation.purpose == "notice" and "plus" in confirmation.body
    with services.sessionmaker() as db:
        contact = db.scalars(sa.select(Contact)).one()
        assert contact.opted_out_at is not None
        assert db.scalars(sa.select(SurveySession.status)).one() == "opted_out"
    assert services.store.is_opted_out(services.vault.hash(PHONE))
    sms(client, "Bonjour")
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(Contact)).one().opted_out_at is None
        assert db.scalar(sa.select(sa.func.count(SurveySession.id))) == 2
    assert not services.store.is_opted_out(services.vault.hash(PHONE))


def test_stop_without_a_session_opts_out(client, services, drain):
    sms(client, "STOP")
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(Contact)).one().opted_out_at is not None
        assert db.scalar(sa.select(sa.func.count(SurveySession.id))) == 0
    assert outbox(services)[-1].purpose == "notice"


def test_a_staff_visit_sms_invites_the_mother_who_then_answers_for_that_centre(
        client, services, drain):
    from gateway.models import Center, Invitation, StaffPhone
    from gateway.sql import insert_ignore

    staff_phone = "+22366000001"
    with services.sessionmaker() as db:
        insert_ignore(db, Contact, {"phone_hash": services.vault.hash(staff_phone),
                                    "phone_encrypted": services.vault.encrypt(staff_phone),
                                    "language": "fr"}, ["phone_hash"])
        staff_id = db.scalar(sa.select(Contact.id).where(
            Contact.phone_hash == services.vault.hash(staff_phone)))
        center_id = db.scalar(sa.select(Center.id).where(Center.code == "12"))
        db.add(StaffPhone(center_id=center_id, contact_id=staff_id))
        db.commit()
        services.directory.refresh(db)  # as `gateway staff add` does
    sms(client, "VISITE 76 55 44 33", phone=staff_phone)
    drain()
    with services.sessionmaker() as db:
        invitation = db.scalars(sa.select(Invitation)).one()
        assert invitation.status == "scheduled"
        confirmation = db.scalars(sa.select(OutboundMessage).where(
            OutboundMessage.contact_id == staff_id)).one()
        assert "+223******33" in confirmation.body and "76 55 44 33" not in confirmation.body
    # The invitation goes out; when she answers, her survey is for centre 12.
    mother = "+22376554433"
    services.store.remember_invitation(services.vault.hash(mother), center="12",
                                       flow="maternal_care")
    sms(client, "1", phone=mother)
    for answer in ["1", "1", "1"]:
        sms(client, answer, phone=mother)
    drain()
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()
        assert session.center_id == center_id
    assert services.redis.get(services.store.key(
        "invitation", phone_hash=services.vault.hash(mother))) is None


def test_a_mother_writing_visite_is_not_taken_for_a_staff_command(client, services, drain):
    sms(client, "Visite bien passée, merci")
    drain()
    first = outbox(services)[-1]
    assert first.purpose == "reply" and first.body.startswith("Choisissez votre langue")


def test_restart_files_the_old_session_as_abandoned_and_starts_afresh(client, services,
                                                                      drain):
    for text in ["AVIS 07", "1", "1", "2", "RECOMMENCER"]:
        sms(client, text)
    drain()
    assert "avis" in outbox(services)[-1].body.lower()  # the consent question again
    with services.sessionmaker() as db:
        statuses = sorted(db.scalars(sa.select(SurveySession.status)))
        assert statuses == ["abandoned", "active"]
        answers = db.scalars(sa.select(Answer.step_id)).all()
        assert sorted(answers) == ["consent", "visit"]  # kept, under the first session
