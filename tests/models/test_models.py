"""The models on a real database: aware UTC times, enum statuses, the constraints that
keep every answer and every summary written once."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models import (Answer, ApiToken, Center, Channel, Contact, Invitation,
                            InvitationStatus, MessagePurpose, MessageStatus, OutboundMessage,
                            PdsaCycle, RecipientRole, SessionStatus, StaffPhone,
                            SummaryRecipient, SurveySession, iso_week, utcnow)

BAMAKO = zoneinfo.ZoneInfo("Africa/Bamako")


def add_center(session: so.Session, code: str = "07") -> Center:
    center = Center(code=code, name="CSCom de Sikoro", district="Commune I",
                    ussd_extension=code, sms_keyword="AVIS")
    session.add(center)
    session.flush()
    return center


def add_contact(session: so.Session, phone_hash: str = "a" * 64) -> Contact:
    contact = Contact(phone_hash=phone_hash, phone_encrypted="gAAAA-token", language="bm")
    session.add(contact)
    session.flush()
    return contact


def add_session(session: so.Session, center: Center, contact: Contact,
                key: str = "ussd:ATUid_1") -> SurveySession:
    started = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)
    survey = SurveySession(key=key, flow_id="satisfaction", flow_version="3f2a9c",
                           channel=Channel.USSD, center_id=center.id, contact_id=contact.id,
                           language="fr", started_at=started, week=iso_week(started, BAMAKO))
    session.add(survey)
    session.flush()
    return survey


def fresh(session: so.Session) -> so.Session:
    """Return a new session on the same database, so values come from the database."""
    return so.Session(session.get_bind())


def test_times_come_back_aware_in_utc(db_session: so.Session) -> None:
    center = add_center(db_session)
    contact = add_contact(db_session)
    local = dt.datetime(2026, 3, 2, 23, 45, tzinfo=BAMAKO)
    survey = add_session(db_session, center, contact)
    survey.ended_at = local
    db_session.commit()

    with fresh(db_session) as other:
        loaded = other.get(SurveySession, survey.id)
        assert loaded.started_at == dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)
        assert loaded.started_at.utcoffset() == dt.timedelta(0)
        assert loaded.ended_at == local
        stored_center = other.get(Center, center.id)
        assert stored_center.created_at.tzinfo is not None
        assert abs(stored_center.created_at - utcnow()) < dt.timedelta(minutes=1)


def test_times_compare_in_sql(db_session: so.Session) -> None:
    contact = add_contact(db_session)
    for hours in (1, 3):
        db_session.add(OutboundMessage(
            contact_id=contact.id, purpose=MessagePurpose.INVITATION, body="x",
            send_after=dt.datetime(2026, 3, 2, hours, tzinfo=dt.timezone.utc)))
    db_session.commit()
    cutoff = dt.datetime(2026, 3, 2, 4, tzinfo=dt.timezone(dt.timedelta(hours=2)))  # 02:00Z

    due = db_session.scalars(sa.select(OutboundMessage.send_after)
                             .where(OutboundMessage.send_after <= cutoff)).all()

    assert [moment.hour for moment in due] == [1]


def test_naive_times_are_refused(db_session: so.Session) -> None:
    contact = add_contact(db_session)
    db_session.add(OutboundMessage(contact_id=contact.id, purpose=MessagePurpose.REPLY,
                                   body="x", send_after=dt.datetime(2026, 3, 2, 8)))

    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        db_session.flush()


def test_statuses_are_stored_as_plain_strings(db_session: so.Session) -> None:
    contact = add_contact(db_session)
    message = OutboundMessage(contact_id=contact.id, purpose=MessagePurpose.SUMMARY,
                              body="Sikoro S10: 82/100", dedupe_key="summary:07:2026-W10:1")
    db_session.add(message)
    db_session.commit()

    raw = db_session.execute(sa.text("SELECT status, purpose FROM outbound_messages")).one()
    assert tuple(raw) == ("queued", "summary")
    with fresh(db_session) as other:
        loaded = other.get(OutboundMessage, message.id)
        assert loaded.status is MessageStatus.QUEUED
        assert (loaded.segments, loaded.encoding, loaded.attempts) == (1, "gsm7", 0)
        loaded.status = "delivered"
        other.commit()
        assert other.get(OutboundMessage, message.id).status is MessageStatus.DELIVERED


def test_an_unknown_status_is_refused_with_the_allowed_values(db_session: so.Session) -> None:
    contact = add_contact(db_session)
    db_session.add(OutboundMessage(contact_id=contact.id, purpose=MessagePurpose.REPLY,
                                   body="x", status="lost"))

    with pytest.raises(sa.exc.StatementError, match="'lost' is not a MessageStatus.*delivered"):
        db_session.flush()


def documented_values(enum_name: str) -> list[str]:
    """Return the values docs/internals.md lists for `enum_name`."""
    text = (Path(__file__).parents[2] / "docs" / "internals.md").read_text(encoding="utf-8")
    listing = re.search(rf"`{enum_name}`:(.*?)\.\n", text, re.S)
    assert listing, f"docs/internals.md does not list {enum_name}"
    return re.findall(r"`(\w+)`", listing.group(1))


@pytest.mark.parametrize("enum_class", [SessionStatus, MessageStatus])
def test_statuses_match_the_internals_contract(enum_class) -> None:
    assert [member.value for member in enum_class] == documented_values(enum_class.__name__)


def test_an_answer_is_written_once(db_session: so.Session) -> None:
    center, contact = add_center(db_session), add_contact(db_session)
    survey = add_session(db_session, center, contact)
    answer = dict(session_id=survey.id, step_id="accueil", raw="4", value="4", score=75.0,
                  top_box=False, dimension="respect", area="experience",
                  center_id=center.id, week=survey.week)
    db_session.add(Answer(**answer))
    db_session.commit()

    db_session.add(Answer(**answer))
    with pytest.raises(sa.exc.IntegrityError):
        db_session.commit()
    db_session.rollback()

    assert db_session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 1


def test_a_session_key_is_unique(db_session: so.Session) -> None:
    center, contact = add_center(db_session), add_contact(db_session)
    add_session(db_session, center, contact, key="sms:42")

    with pytest.raises(sa.exc.IntegrityError):
        add_session(db_session, center, contact, key="sms:42")


def test_a_summary_is_sent_once_per_dedupe_key(db_session: so.Session) -> None:
    contact = add_contact(db_session)
    for _ in range(2):
        db_session.add(OutboundMessage(contact_id=contact.id, purpose=MessagePurpose.SUMMARY,
                                       body="x", dedupe_key="summary:07:2026-W10:1"))
    with pytest.raises(sa.exc.IntegrityError):
        db_session.flush()


def test_foreign_keys_are_enforced(db_session: so.Session) -> None:
    db_session.add(Contact(phone_hash="b" * 64, phone_encrypted="t", center_id=9999))

    with pytest.raises(sa.exc.IntegrityError):
        db_session.flush()


def test_deleting_a_session_deletes_its_answers(db_session: so.Session) -> None:
    center, contact = add_center(db_session), add_contact(db_session)
    survey = add_session(db_session, center, contact)
    survey.answers.append(Answer(step_id="q1", raw="1", value="oui", center_id=center.id,
                                 week=survey.week))
    db_session.commit()

    db_session.delete(survey)
    db_session.commit()

    assert db_session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0


def test_people_invitations_pdsa_and_tokens_round_trip(db_session: so.Session) -> None:
    center, contact = add_center(db_session), add_contact(db_session)
    visit = dt.datetime(2026, 3, 2, 10, tzinfo=dt.timezone.utc)
    db_session.add_all([
        SummaryRecipient(center_id=center.id, contact_id=contact.id,
                         role=RecipientRole.CHIEF_MIDWIFE, language="bm"),
        StaffPhone(center_id=center.id, contact_id=contact.id, role="midwife"),
        Invitation(center_id=center.id, contact_id=contact.id, flow_id="satisfaction",
                   visit_at=visit, send_at=visit + dt.timedelta(hours=2)),
        PdsaCycle(center_id=center.id, title="Accueil le matin", dimension="respect",
                  started_on=dt.date(2026, 2, 2)),
        ApiToken(name="coordination", token_hash="c" * 64),
    ])
    db_session.commit()

    with fresh(db_session) as other:
        recipient = other.scalars(sa.select(SummaryRecipient)).one()
        assert (recipient.role, recipient.active, recipient.center.code) == (
            RecipientRole.CHIEF_MIDWIFE, True, "07")
        invitation = other.scalars(sa.select(Invitation)).one()
        assert invitation.status is InvitationStatus.SCHEDULED
        assert invitation.send_at - invitation.visit_at == dt.timedelta(hours=2)
        cycle = other.scalars(sa.select(PdsaCycle)).one()
        assert (cycle.started_on, cycle.ended_on, cycle.notes) == (dt.date(2026, 2, 2), None, "")
        assert other.scalars(sa.select(ApiToken)).one().active
        assert other.scalars(sa.select(StaffPhone)).one().contact.language == "bm"

    db_session.add(SummaryRecipient(center_id=center.id, contact_id=contact.id,
                                    role="chief_midwife", language="fr"))
    with pytest.raises(sa.exc.IntegrityError):
        db_session.flush()


@pytest.mark.parametrize(("moment", "week"), [
    (dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc), "2026-W10"),
    # Sunday 23:30 in Bamako (UTC+0) but already Monday in UTC+1: the zone decides the week.
    (dt.datetime(2026, 3, 8, 23, 30, tzinfo=dt.timezone.utc), "2026-W10"),
    (dt.datetime(2027, 1, 1, 12, tzinfo=dt.timezone.utc), "2026-W53"),
])
def test_iso_week_in_the_gateway_time_zone(moment: dt.datetime, week: str) -> None:
    assert iso_week(moment, BAMAKO) == week


def test_iso_week_depends_on_the_zone() -> None:
    sunday_late = dt.datetime(2026, 3, 8, 23, 30, tzinfo=dt.timezone.utc)

    assert iso_week(sunday_late, zoneinfo.ZoneInfo("Africa/Lagos")) == "2026-W11"
