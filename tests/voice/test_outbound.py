"""Invitations by call: queued, placed through the SDK, rate-limited, retried, outcomes filed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway import invitations, metrics
from gateway.calls import outcome, place
from gateway.db import session_scope
from gateway.errors import ArgumentError
from gateway.models import Call as CallRow, Center, Invitation, StaffPhone
from gateway.services import Services
from gateway.sms.ratelimit import LocalRateLimiter
from tests.sms.support import add_contact
from tests.voice.calls import PHONE, Call
from tests.voice.conftest import VOICE_NUMBER

NOW = dt.datetime(2030, 3, 4, 10, 0, tzinfo=dt.timezone.utc)  # Bamako is UTC
UNLIMITED = LocalRateLimiter({})  # the shared limiter has its own test below


def invite(services, **kwargs) -> invitations.Scheduled:
    return invitations.invite(services, center_code="07", phone="76 12 34 56",
                              channel="voice", **{"now": NOW, **kwargs})


def row(services) -> CallRow:
    with services.sessionmaker() as db:
        return db.scalars(sa.select(CallRow)).one()


def placed(at_standin) -> list[dict]:
    return [r.form for r in at_standin.requests if r.path == "/voice/call"]


def test_an_invitation_by_call_is_queued_after_the_delay_like_an_sms(services):
    done = invite(services, visit_at=NOW)
    assert (done.channel, done.message_id, done.status) == ("voice", None, "scheduled")
    assert done.send_at == NOW + dt.timedelta(minutes=120)
    call = row(services)
    assert (call.status, call.invitation_id, call.flow_id, call.next_attempt_at) == (
        "queued", done.invitation_id, "maternal_care", done.send_at)
    assert done.call_id == call.id
    assert len(services.queue.scheduled_job_registry) == 1


def test_quiet_hours_and_opt_outs_hold_for_calls_too(services, settings):
    services.settings = settings.replace(quiet_hours="21:00-07:00")
    late = invite(services, visit_at=NOW.replace(hour=20))
    assert late.send_at == NOW.replace(hour=7) + dt.timedelta(days=1)
    add_contact(services, "+22366123456", opted_out=True)
    skipped = invitations.invite(services, center_code="07", phone="66123456", now=NOW,
                                 channel="voice")
    assert (skipped.status, skipped.reason, skipped.call_id) == ("skipped", "opted_out", None)


def test_a_flow_not_offered_on_voice_cannot_be_an_invitation_by_call(services, settings):
    source = (settings.flows_dir / "maternal_care.yaml")
    source.write_text(source.read_text().replace("[ussd, sms, voice]", "[ussd, sms]"))
    fresh = Services.build(settings)
    try:
        with pytest.raises(ArgumentError, match="not offered on voice"):
            invite(fresh)
    finally:
        fresh.close()


def test_a_voice_flow_with_a_recording_missing_is_not_called_but_still_answered_on_ussd(
        services, settings):
    missing = settings.flows_dir / "recordings" / "maternal_care" / "bm" / "respect.wav"
    missing.unlink()  # Bambara is never read aloud: that question would be silent
    fresh = Services.build(settings)
    try:
        assert "maternal_care" in fresh.flows.flows  # still live on USSD and SMS
        with pytest.raises(ArgumentError, match="cannot be played on a call yet: 1 recording "
                                                r"problem\(s\), the first: .*respect"):
            invite(fresh)
    finally:
        fresh.close()


def test_the_call_is_placed_through_the_sdk_and_her_answering_starts_the_survey(
        client, services, at_standin):
    done = invite(services)
    assert place.place(services, done.call_id, now=done.send_at) == "ringing"
    assert placed(at_standin) == [{"username": "kuma", "from": VOICE_NUMBER, "to": PHONE}]
    call = row(services)
    assert call.provider == "africastalking" and call.provider_call_id.startswith("ATVId_")
    assert place.place(services, done.call_id, now=done.send_at,
                       limiter=UNLIMITED) == "ringing"  # the job once more: no second call
    assert len(placed(at_standin)) == 1
    answering = Call(client, call.provider_call_id)
    answering.answer(["1", "1"])  # French, consent: the invitation named the centre
    assert answering.last.plays[0].endswith("/maternal_care/fr/visit.wav")


def test_a_call_placed_before_it_is_due_waits(services, at_standin):
    done = invite(services)
    assert place.place(services, done.call_id, now=NOW) == "queued"
    assert placed(at_standin) == []


def test_the_rate_limit_holds_calls_back(services, at_standin):
    first, second = invite(services), invitations.invite(
        services, center_code="12", phone="76000001", channel="voice", now=NOW)
    limiter = LocalRateLimiter({"voice:africastalking": (0.01, 1)})
    assert place.place(services, first.call_id, now=first.send_at, limiter=limiter) == "ringing"
    assert place.place(services, second.call_id, now=second.send_at,
                       limiter=limiter) == "queued"
    assert len(placed(at_standin)) == 1


def test_an_unanswered_call_is_tried_again_a_bounded_number_of_times(services, settings,
                                                                      at_standin):
    services.settings = settings.replace(voice_max_attempts=2, voice_retry_minutes=30,
                                         quiet_hours="21:00-07:00")
    done = invite(services, visit_at=NOW.replace(hour=18))   # placed at 20:00
    when = done.send_at
    before = metrics.CALLS.labels(outcome="no_answer")._value.get()
    place.place(services, done.call_id, now=when, limiter=UNLIMITED)
    first_id = row(services).provider_call_id
    status = outcome.record_end(services, "africastalking", first_id, "no_answer", 0, "0",
                                "XOF", now=when)
    assert status == "queued"
    retry = row(services)
    # 30 minutes later is 20:30... the quiet hours start at 21:00: still allowed
    assert retry.next_attempt_at == when + dt.timedelta(minutes=30)
    assert outcome.record_end(services, "africastalking", first_id, "no_answer", 0, "0",
                              "XOF", now=when) == "queued"  # the same notice again: no change
    place.place(services, done.call_id, now=retry.next_attempt_at, limiter=UNLIMITED)
    second_id = row(services).provider_call_id
    assert second_id != first_id
    assert outcome.record_end(services, "africastalking", second_id, "busy", 0, None, None,
                              now=retry.next_attempt_at) == "busy"
    final = row(services)
    assert (final.status, final.attempts) == ("busy", 2)
    with services.sessionmaker() as db:
        assert db.get(Invitation, done.invitation_id).status == "failed"
    assert metrics.CALLS.labels(outcome="no_answer")._value.get() == before + 1


def test_a_retry_that_would_fall_in_the_quiet_hours_waits_for_the_morning(services, settings,
                                                                          at_standin):
    services.settings = settings.replace(quiet_hours="21:00-07:00")
    done = invite(services, visit_at=NOW.replace(hour=18, minute=50))  # placed at 20:50
    place.place(services, done.call_id, now=done.send_at)
    outcome.record_end(services, "africastalking", row(services).provider_call_id,
                       "no_answer", 0, None, None, now=done.send_at)
    assert row(services).next_attempt_at == NOW.replace(hour=7) + dt.timedelta(days=1)


def test_the_end_of_call_notice_through_http_stores_outcome_duration_and_cost(
        client, services, drain, voice_worker, at_standin):
    done = invite(services)
    place.place(services, done.call_id, now=done.send_at)
    call = Call(client, row(services).provider_call_id)
    call.answer(["1", "1", "2"])
    call.hang_up(cause="NORMAL_CLEARING", seconds=95)
    call.hang_up(cause="NORMAL_CLEARING", seconds=95)  # AT repeats it: filed once
    drain()
    stored = row(services)
    assert (stored.status, stored.duration_s, stored.cost, stored.currency) == (
        "completed", 95, Decimal("45.0000"), "XOF")
    with services.sessionmaker() as db:
        assert db.get(Invitation, done.invitation_id).status == "sent"


def test_a_failed_placement_is_retried_when_at_may_take_it_later(services, at_standin):
    done = invite(services)
    at_standin.answer_next(500, "Internal Server Error")
    assert place.place(services, done.call_id, now=done.send_at) == "queued"
    at_standin.answer_next(401, "The supplied authentication is invalid")
    later = done.send_at + dt.timedelta(minutes=30)
    assert place.place(services, done.call_id, now=later, limiter=UNLIMITED) == "failed"
    assert "HTTP 401" in row(services).error


def test_staff_invite_by_call_with_visite_appel(services):
    contact_id = add_contact(services, "+22370000011", language="fr")
    with session_scope(services.sessionmaker) as db:
        center_id = db.scalar(sa.select(Center.id).where(Center.code == "07"))
        db.add(StaffPhone(center_id=center_id, contact_id=contact_id))
        reply = invitations.handle_staff_sms(db, services, services.vault.hash("+22370000011"),
                                             "VISITE 76 12 34 56 APPEL", NOW)
    assert reply == "Invitation pour +223******56: appel le 04/03 12:00."
    assert row(services).invitation_id is not None


def test_gateway_invite_channel_voice(services, settings, monkeypatch):
    from gateway.cli import main

    for env, value in (("DATABASE_URL", settings.database_url), ("REDIS_URL", settings.redis_url),
                       ("GATEWAY_SECRET_KEY", settings.secret_key),
                       ("KUMA_VAR_DIR", str(settings.var_dir)),
                       ("FLOWS_DIR", str(settings.flows_dir))):
        monkeypatch.setenv(env, value)
    result = CliRunner().invoke(main, ["invite", "--center", "07", "--phone", "76123456",
                                       "--channel", "voice"])
    assert result.exit_code == 0, result.output
    assert ", call at " in result.output and "76123456" not in result.output
    assert row(services).status == "queued"
