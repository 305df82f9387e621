"""TwilioSender through the real SDK Client against the loopback stand-in."""

from __future__ import annotations

import contextlib
import base64
import logging
import time

import pytest

from gateway.channels.base import MessageStatus
from gateway.channels.twilio import TwilioSender
from gateway.errors import RecipientOptedOutError, SendError

PHONE = "+22376123456"
FROM = "+15005550006"


@pytest.fixture
def sender(twilio_standin):
    sender = TwilioSender(twilio_standin.account_sid, twilio_standin.auth_token, FROM,
                          api_base=twilio_standin.url, timeout=0.5,
                          status_callback="https://kuma.example.org/webhooks/twilio/status")
    yield sender
    sender.close()


def test_send_posts_the_sdk_request_and_reads_the_answer(twilio_standin, sender):
    result = sender.send(PHONE, "Bonjour, votre avis compte.")

    [request] = twilio_standin.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{twilio_standin.account_sid}/Messages.json"
    credentials = f"{twilio_standin.account_sid}:{twilio_standin.auth_token}".encode()
    assert request.headers["authorization"] == "Basic " + base64.b64encode(credentials).decode()
    assert request.form == {"To": PHONE, "From": FROM, "Body": "Bonjour, votre avis compte.",
                            "StatusCallback": "https://kuma.example.org/webhooks/twilio/status"}
    assert result.provider == "twilio"
    assert result.message_id.startswith("SM") and len(result.message_id) == 34
    assert result.status is MessageStatus.QUEUED
    assert result.cost is None


def test_send_through_a_messaging_service(twilio_standin):
    service = "MG" + "c" * 32
    sender = TwilioSender(twilio_standin.account_sid, twilio_standin.auth_token, service,
                          api_base=twilio_standin.url)
    try:
        result = sender.send(PHONE, "Test")
    finally:
        sender.close()
    form = twilio_standin.requests[0].form
    assert form["MessagingServiceSid"] == service
    assert "From" not in form and "StatusCallback" not in form
    assert result.status is MessageStatus.QUEUED  # "accepted"


def test_send_logs_the_masked_number_only(sender, caplog):
    with caplog.at_level(logging.DEBUG):
        sender.send(PHONE, "Bonjour")
    assert "+223******56" in caplog.text
    assert "76123456" not in caplog.text


@pytest.mark.parametrize(("http", "code", "message", "retryable", "error"), [
    (400, 21211, "The 'To' number is not a valid phone number.", False, SendError),
    (400, 21610, "Attempt to send to unsubscribed recipient", False, RecipientOptedOutError),
    (400, 21614, "'To' number is not a valid mobile number", False, SendError),
    (400, 21408, "Permission to send an SMS has not been enabled", False, SendError),
    (429, 20429, "Too Many Requests", True, SendError),
    (400, 14107, "SMS send rate limit exceeded", True, SendError),
    (500, 20500, "Internal Server Error", True, SendError),
    (503, 20503, "Service Unavailable", True, SendError),
])
def test_api_errors(twilio_standin, sender, http, code, message, retryable, error):
    twilio_standin.error_next(http, code, message)
    with pytest.raises(error, match=f"HTTP {http}, {code}") as caught:
        sender.send(PHONE, "Test")
    assert type(caught.value) is error
    assert caught.value.retryable is retryable
    assert caught.value.provider_code == str(code)
    assert "76123456" not in str(caught.value)


def test_wrong_auth_token_is_not_retryable(twilio_standin):
    sender = TwilioSender(twilio_standin.account_sid, "wrong-token", FROM,
                          api_base=twilio_standin.url)
    with contextlib.closing(sender), pytest.raises(SendError, match="HTTP 401, 20003") as caught:
        sender.send(PHONE, "Test")
    assert caught.value.retryable is False


def test_hung_provider_times_out_as_retryable(twilio_standin, sender):
    twilio_standin.delay_next(3)
    started = time.monotonic()
    with pytest.raises(SendError, match="unreachable: ReadTimeout") as caught:
        sender.send(PHONE, "Test")
    assert time.monotonic() - started < 2
    assert caught.value.retryable is True


def test_connection_refused_is_retryable(twilio_standin):
    url = twilio_standin.url
    twilio_standin.stop()
    sender = TwilioSender(twilio_standin.account_sid, twilio_standin.auth_token, FROM,
                          api_base=url)
    with contextlib.closing(sender), pytest.raises(SendError, match="unreachable") as caught:
        sender.send(PHONE, "Test")
    assert caught.value.retryable is True
