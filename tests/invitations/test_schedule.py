"""Scheduling invitations: delay, quiet hours, one per period, none to opted-out contacts."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest

from gateway import invitations, session_store
from gateway.sms import send
from gateway.channels.base import LogSender
from gateway.db import session_scope
from gateway.engine import gsm
from gateway.errors import ArgumentError, NotFoundError, PhoneNumberError
from gateway.models import Invitation, InvitationStatus, MessagePurpose, MessageStatus
from tests.sms.support import PHONE, add_contact, message

UTC = dt.timezone.utc
BAMAKO = zoneinfo.ZoneInfo("Africa/Bamako")  # UTC+0 all year
MORNING = dt.datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


def schedule(services, *, phone="76123456", now=MORNING, commit=True, **options):
    with session_scope(services.sessionmaker) as db:
        invitation = invitations.schedule_invitation(db, services, center_code="07",
                                                     phone=phone, now=now, **options)
        if not commit:
            db.rollback()
    return invitation


def scheduled_jobs(services) -> dict[str, dt.datetime]:
    registry = services.queue.scheduled_job_registry
    return {job_id: registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids()}


def test_the_sms_is_planned_after_the_delay_and_enqueued_on_commit(services):
    invitation = schedule(services)

    assert invitation.status is InvitationStatus.SCHEDULED
    assert invitation.send_at == MORNING + dt.timedelta(minutes=120)
    sms = message(services, invitation.message_id)
    assert sms.purpose is MessagePurpose.INVITATION
    assert sms.send_after == invitation.send_at
    assert sms.dedupe_key == f"invitation:{invitation.id}"
    assert sms.body.startswith("CSCom de Banconi: merci pour votre visite.")
    assert list(scheduled_jobs(services).values()) == [invitation.send_at]


def test_nothing_is_enqueued_when_the_transaction_rolls_back(services):
    schedule(services, commit=False)

    assert scheduled_jobs(services) == {}
    assert services.queue.count == 0


def test_the_delay_counts_from_the_visit(services):
    visit = MORNING - dt.timedelta(minutes=30)
    assert schedule(services, visit_at=visit).send_at == visit + dt.timedelta(minutes=120)


def test_a_visit_long_past_is_invited_now(services):
    invitation = schedule(services, visit_at=MORNING - dt.timedelta(days=1))

    assert invitation.send_at == MORNING
    # Due now: enqueued at once rather than scheduled.
    assert services.queue.count == 1 and scheduled_jobs(services) == {}


@pytest.mark.parametrize(("visit_local", "expected_local"), [
    ("2025-03-04 19:30", "2025-03-05 07:00"),  # 21:30: next morning
    ("2025-03-04 23:50", "2025-03-05 07:00"),
    ("2025-03-05 03:00", "2025-03-05 07:00"),  # 05:00: the same morning
    ("2025-03-04 18:59", "2025-03-04 20:59"),  # just before the quiet hours
    ("2025-03-05 05:00", "2025-03-05 07:00"),  # 07:00 exactly is allowed
])
def test_quiet_hours_move_the_sms_to_the_morning(services, visit_local, expected_local):
    visit = dt.datetime.fromisoformat(visit_local).replace(tzinfo=BAMAKO)
    invitation = schedule(services, visit_at=visit, now=visit)

    assert invitation.send_at.astimezone(BAMAKO).strftime("%Y-%m-%d %H:%M") == expected_local


def test_quiet_hours_are_local_time():
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    window = (dt.time(21), dt.time(7))
    # 20:30 UTC is 21:30 in Paris in March: quiet there, not in UTC.
    moment = dt.datetime(2025, 3, 4, 20, 30, tzinfo=UTC)
    moved = invitations.outside_quiet_hours(moment, window, paris)
    assert moved == dt.datetime(2025, 3, 5, 7, 0, tzinfo=paris)
    assert invitations.outside_quiet_hours(moment, window, UTC) == moment
    # A window within one day, and none at all.
    noon = dt.datetime(2025, 3, 4, 12, 30, tzinfo=UTC)
    assert invitations.outside_quiet_hours(noon, (dt.time(12), dt.time(14)), UTC) == \
        dt.datetime(2025, 3, 4, 14, 0, tzinfo=UTC)
    assert invitations.outside_quiet_hours(noon, None, UTC) == noon


def test_one_invitation_per_contact_per_period(services):
    first = schedule(services)
    second = schedule(services, phone="+223 76 12 34 56", now=MORNING + dt.timedelta(days=3))
    later = schedule(services, now=MORNING + dt.timedelta(days=8))

    assert first.status is InvitationStatus.SCHEDULED
    assert (second.status, second.message_id) == (InvitationStatus.SKIPPED, None)
    assert later.status is InvitationStatus.SCHEDULED
    assert len(scheduled_jobs(services)) == 2


def test_another_mother_is_not_held_back(services):
    schedule(services)
    assert schedule(services, phone="66123456").status is InvitationStatus.SCHEDULED


def test_no_invitation_to_an_opted_out_contact(services):
    add_contact(services, PHONE, opted_out=True)

    invitation = schedule(services)

    assert (invitation.status, invitation.message_id) == (InvitationStatus.SKIPPED, None)
    assert scheduled_jobs(services) == {} and services.queue.count == 0


def test_bad_requests_get_clear_errors(services):
    with pytest.raises(NotFoundError, match="centre '99' not found"):
        with session_scope(services.sessionmaker) as db:
            invitations.schedule_invitation(db, services, center_code="99", phone=PHONE,
                                            now=MORNING)
    with pytest.raises(NotFoundError, match="flow 'nope' not found"):
        schedule(services, flow_id="nope")
    with pytest.raises(PhoneNumberError, match="not a valid phone number"):
        schedule(services, phone="12")
    with pytest.raises(ArgumentError, match="visit_at"):
        schedule(services, visit_at=dt.datetime(2025, 3, 4, 9, 0))


def test_the_text_is_one_gsm7_segment_in_the_contact_s_language():
    for language in ("fr", "bm", None):
        text = invitations.invitation_text("CSCom de Banconi", language)
        count = gsm.count(text)
        assert (count.encoding, count.segments) == ("GSM-7", 1), text
    assert invitations.invitation_text("Banconi", "bm").startswith("CSCom Banconi: i ni ce")
    long_name = "Centre de Santé Communautaire de " + "Sabalibougou " * 8
    shortened = invitations.invitation_text(long_name, "fr")
    assert gsm.count(shortened).segments == 1
    assert shortened.startswith("CSCom Centre de Santé Communautaire de Sabalibougou")  # é is GSM-7
    assert shortened.endswith(".: merci pour votre visite. Donnez votre avis (gratuit, 3 min): "
                              "repondez 1 a ce SMS.")


def test_a_sent_invitation_tells_the_runner_its_centre_and_flow(services):
    invitation = schedule(services, now=MORNING - dt.timedelta(hours=3))

    assert send.deliver(services, invitation.message_id, sender=LogSender(),
                        clock=lambda: MORNING) is MessageStatus.LOGGED

    key = services.store.key("invitation", phone_hash=services.vault.hash(PHONE))
    assert json.loads(services.redis.get(key)) == {"center": "07", "flow": "maternal_care"}
    assert 0 < services.redis.ttl(key) <= session_store.INVITATION_TTL
    with session_scope(services.sessionmaker) as db:
        assert db.get(Invitation, invitation.id).status is InvitationStatus.SENT


def test_an_invitation_to_a_mother_who_opted_out_since_is_skipped(services):
    invitation = schedule(services, now=MORNING - dt.timedelta(hours=3))
    services.store.set_opted_out(services.vault.hash(PHONE), True)

    assert send.deliver(services, invitation.message_id,
                        sender=LogSender()) is MessageStatus.OPTED_OUT

    with session_scope(services.sessionmaker) as db:
        assert db.get(Invitation, invitation.id).status is InvitationStatus.SKIPPED
    assert not services.redis.exists(
        services.store.key("invitation", phone_hash=services.vault.hash(PHONE)))


def test_invite_commits_then_enqueues_and_reports_masked(services):
    done = invitations.invite(services, center_code="07", phone="76123456", now=MORNING)

    assert done.phone == "+223******56"
    assert (done.status, done.reason, done.center_name) == \
        (InvitationStatus.SCHEDULED, None, "CSCom de Banconi")
    assert list(scheduled_jobs(services).values()) == [done.send_at]
    skipped = invitations.invite(services, center_code="07", phone="76123456", now=MORNING)
    assert (skipped.status, skipped.reason) == (InvitationStatus.SKIPPED, "recent")
