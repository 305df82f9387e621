"""Sending queued SMS through the real SDKs against the loopback provider stand-ins."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import rq

from gateway.sms import outbox, send, senders
from gateway.channels.africastalking import AfricasTalkingSender
from gateway.channels.base import LogSender
from gateway.channels.twilio import TwilioSender
from gateway.errors import SendError
from gateway.models import MessagePurpose, MessageStatus
from tests.sms.conftest import TWILIO_FROM
from tests.sms.support import PHONE, add_contact, add_message, contact, message

NOW = dt.datetime(2025, 3, 4, 10, 0, tzinfo=dt.timezone.utc)


def clock() -> dt.datetime:
    return NOW


@pytest.fixture
def at_sender(at_settings):
    sender = senders.sender_for(at_settings)
    yield sender
    sender.close()


@pytest.fixture
def twilio_sender(twilio_settings):
    sender = senders.sender_for(twilio_settings)
    yield sender
    sender.close()


def test_sender_follows_the_outbox_and_provider_settings(settings, at_settings, twilio_settings):
    assert isinstance(senders.sender_for(settings), LogSender)
    assert isinstance(senders.sender_for(at_settings), AfricasTalkingSender)
    assert isinstance(senders.sender_for(twilio_settings), TwilioSender)
    # Credentials configured but the outbox set to the log: nothing leaves.
    assert isinstance(senders.sender_for(at_settings.replace(sms_outbox="log")), LogSender)


def test_sends_through_africas_talking(services, at_standin, at_sender):
    message_id = add_message(services, add_contact(services), "Merci pour votre avis.")

    status = send.deliver(services, message_id, sender=at_sender, clock=clock)

    [request] = at_standin.requests
    assert request.form["to"] == PHONE
    assert request.form["message"] == "Merci pour votre avis."
    assert request.form["from"] == "KUMA"
    sent = message(services, message_id)
    assert status is sent.status is MessageStatus.SENT
    assert sent.provider == "africastalking"
    assert sent.provider_message_id.startswith("ATXid_")
    assert sent.cost_estimate == "XOF 15.0000"
    assert sent.sent_at == NOW
    assert sent.attempts == 1


def test_sends_through_twilio_with_a_status_callback(services, twilio_standin, twilio_sender):
    message_id = add_message(services, add_contact(services), "Votre avis compte.")

    send.deliver(services, message_id, sender=twilio_sender, clock=clock)

    [request] = twilio_standin.requests
    assert request.form == {"To": PHONE, "From": TWILIO_FROM, "Body": "Votre avis compte.",
                            "StatusCallback": "https://kuma.example.org/webhooks/twilio/status"}
    sent = message(services, message_id)
    # Twilio answered "queued": for us the SMS has left.
    assert sent.status is MessageStatus.SENT
    assert sent.provider == "twilio" and sent.provider_message_id.startswith("SM")
    # No price in Twilio's first answer: an estimate per segment.
    assert sent.cost_estimate == "~USD 0.2000"


def test_the_log_outbox_sends_nothing_and_says_so(services):
    message_id = add_message(services, add_contact(services))

    assert send.deliver(services, message_id, sender=LogSender()) is MessageStatus.LOGGED
    logged = message(services, message_id)
    assert logged.provider == "log" and logged.cost_estimate is None


def test_a_provider_outage_keeps_the_message_queued_for_a_retry(services, at_standin, at_sender):
    message_id = add_message(services, add_contact(services))
    at_standin.answer_next(500, "Internal Server Error")

    with pytest.raises(SendError) as raised:
        send.deliver(services, message_id, sender=at_sender)
    assert raised.value.retryable
    queued = message(services, message_id)
    assert (queued.status, queued.attempts, queued.provider) == (MessageStatus.QUEUED, 1, None)

    assert send.deliver(services, message_id, sender=at_sender) is MessageStatus.SENT
    assert message(services, message_id).attempts == 2
    assert len(at_standin.requests) == 2


def test_a_timeout_is_retryable(services, at_standin):
    message_id = add_message(services, add_contact(services))
    at_standin.delay_next(2)
    sender = AfricasTalkingSender("kuma", "at-test-key", "KUMA", api_base=at_standin.url,
                                  timeout=0.3)
    try:
        with pytest.raises(SendError) as raised:
            send.deliver(services, message_id, sender=sender)
    finally:
        sender.close()
    assert raised.value.retryable
    assert message(services, message_id).status is MessageStatus.QUEUED


def test_out_of_retries_the_message_is_marked_failed(services, at_standin, at_sender):
    message_id = add_message(services, add_contact(services))
    at_standin.answer_next(503, "Service Unavailable")

    with pytest.raises(SendError):
        send.deliver(services, message_id, sender=at_sender, final_attempt=True)

    failed = message(services, message_id)
    assert (failed.status, failed.error_code) == (MessageStatus.FAILED, "HTTP 503")


def test_a_permanent_refusal_is_filed_without_retry(services, at_standin, at_sender):
    message_id = add_message(services, add_contact(services))
    at_standin.reject_next(403, "InvalidPhoneNumber")

    assert send.deliver(services, message_id, sender=at_sender) is MessageStatus.REJECTED
    rejected = message(services, message_id)
    assert (rejected.status, rejected.error_code) == (MessageStatus.REJECTED, "403")
    # Not queued any more: a second run does not try again.
    send.deliver(services, message_id, sender=at_sender)
    assert len(at_standin.requests) == 1


def test_bad_credentials_are_a_failure_not_a_retry(services, at_standin):
    message_id = add_message(services, add_contact(services))
    sender = AfricasTalkingSender("kuma", "wrong-key", "KUMA", api_base=at_standin.url)
    try:
        assert send.deliver(services, message_id, sender=sender) is MessageStatus.FAILED
    finally:
        sender.close()
    assert message(services, message_id).error_code == "HTTP 401"


def test_an_opted_out_contact_is_never_messaged(services, at_standin, at_sender):
    in_sql = add_message(services, add_contact(services, opted_out=True))
    other = "+22366123456"
    # The runner mirrors a STOP into Redis before the worker files it in SQL.
    only_in_redis = add_message(services, add_contact(services, other))
    services.store.set_opted_out(services.vault.hash(other), True)

    for message_id in (in_sql, only_in_redis):
        assert send.deliver(services, message_id, sender=at_sender) is MessageStatus.OPTED_OUT
        assert message(services, message_id).status is MessageStatus.OPTED_OUT
    assert at_standin.requests == []


def test_the_opt_out_confirmation_itself_still_goes(services, at_standin, at_sender):
    message_id = add_message(services, add_contact(services, opted_out=True),
                             "Vous ne recevrez plus de messages.",
                             purpose=MessagePurpose.NOTICE)

    assert send.deliver(services, message_id, sender=at_sender) is MessageStatus.SENT
    assert [r.form["to"] for r in at_standin.requests] == [PHONE]


def test_a_job_run_twice_sends_once(services, at_standin, at_sender):
    message_id = add_message(services, add_contact(services))

    send.deliver(services, message_id, sender=at_sender)
    assert send.deliver(services, message_id, sender=at_sender) is MessageStatus.SENT

    assert len(at_standin.requests) == 1


def test_a_message_another_worker_is_sending_is_left_alone(services, at_standin, at_sender):
    message_id = add_message(services, add_contact(services))
    services.redis.set(send.CLAIM_KEY.format(message_id=message_id), "1")

    assert send.deliver(services, message_id, sender=at_sender) is None

    assert at_standin.requests == []
    assert message(services, message_id).attempts == 0


def test_a_message_changed_since_it_was_read_is_not_sent(services, at_standin, at_sender):
    message_id = add_message(services, add_contact(services))

    # Another run claimed it between our read and our claim: attempts moved on.
    assert not send._claim(services, message_id, attempts=5)

    assert not services.redis.exists(send.CLAIM_KEY.format(message_id=message_id))


@pytest.mark.parametrize(("code", "sender_fixture", "standin_fixture"), [
    ("406", "at_sender", "at_standin"), ("21610", "twilio_sender", "twilio_standin")])
def test_a_provider_opt_out_opts_the_contact_out(request, services, code, sender_fixture,
                                                 standin_fixture):
    sender = request.getfixturevalue(sender_fixture)
    standin = request.getfixturevalue(standin_fixture)
    if code == "406":
        standin.reject_next(406, "UserInBlacklist")
    else:
        standin.error_next(400, 21610, "Attempt to send to unsubscribed recipient")
    contact_id = add_contact(services)
    message_id = add_message(services, contact_id)

    assert send.deliver(services, message_id, sender=sender) is MessageStatus.OPTED_OUT

    refused = message(services, message_id)
    assert (refused.status, refused.error_code) == (MessageStatus.OPTED_OUT, code)
    assert contact(services, contact_id).opted_out
    assert services.store.is_opted_out(services.vault.hash(PHONE))
    # And the next SMS to her never reaches the provider.
    send.deliver(services, add_message(services, contact_id), sender=sender)
    assert len(standin.requests) == 1


def test_a_message_not_yet_due_is_rescheduled(services, at_standin, at_sender):
    due = NOW + dt.timedelta(hours=2)
    message_id = add_message(services, add_contact(services), send_after=due)

    assert send.deliver(services, message_id, sender=at_sender,
                            clock=clock) is MessageStatus.QUEUED

    assert at_standin.requests == []
    [job_id] = services.queue.scheduled_job_registry.get_job_ids()
    job = rq.job.Job.fetch(job_id, connection=services.redis)
    assert job.func_name == outbox.SEND_JOB and job.args == (message_id,)
    assert services.queue.scheduled_job_registry.get_scheduled_time(job_id) == due


def test_an_unknown_message_is_ignored(services, at_sender):
    assert send.deliver(services, 4242, sender=at_sender) is None


def test_logs_never_show_the_number_or_the_body(services, at_standin, at_sender, caplog):
    caplog.set_level(logging.DEBUG)
    message_id = add_message(services, add_contact(services), "Secret body 123")

    send.deliver(services, message_id, sender=at_sender)

    assert "76123456" not in caplog.text and "Secret body" not in caplog.text
    assert "+223******56" in caplog.text
