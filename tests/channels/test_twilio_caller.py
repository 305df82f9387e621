"""Placing calls through the real SDK's Client against the loopback Twilio stand-in."""

from __future__ import annotations

import base64
import logging
from decimal import Decimal

import pytest

from gateway.channels.twilio_voice import TwilioCaller, TwilioVoice
from gateway.errors import SendError
from gateway.settings import Settings

PHONE = "+22376123456"
FROM = "+15005550006"
ANSWER = "https://kuma.example.org/webhooks/twilio/voice"
STATUS = "https://kuma.example.org/webhooks/twilio/voice/status"


@pytest.fixture
def caller(twilio_standin):
    caller = TwilioCaller(twilio_standin.account_sid, twilio_standin.auth_token, FROM,
                          api_base=twilio_standin.url, timeout=0.5)
    yield caller
    caller.close()


def test_place_posts_the_sdk_request_and_returns_the_call_sid(twilio_standin, caller):
    sid = caller.place(PHONE, answer_url=ANSWER, status_url=STATUS)

    [request] = twilio_standin.requests
    assert (request.method, request.path) == (
        "POST", f"/2010-04-01/Accounts/{twilio_standin.account_sid}/Calls.json")
    credentials = f"{twilio_standin.account_sid}:{twilio_standin.auth_token}".encode()
    assert request.headers["authorization"] == "Basic " + base64.b64encode(credentials).decode()
    assert request.form == {"To": PHONE, "From": FROM, "Url": ANSWER, "Method": "POST",
                            "StatusCallback": STATUS, "StatusCallbackMethod": "POST",
                            "StatusCallbackEvent": "completed", "TimeLimit": "900"}
    assert sid.startswith("CA") and len(sid) == 34 and sid in twilio_standin.calls


def test_the_price_comes_later_from_the_call_resource(twilio_standin, caller):
    sid = caller.place(PHONE, answer_url=ANSWER, status_url=STATUS)
    assert caller.price(sid) is None  # Twilio has not priced it yet

    twilio_standin.finish_call(sid, duration=74, price="-0.04500")
    assert caller.price(sid) == (Decimal("0.04500"), "USD")
    assert twilio_standin.requests[-1].method == "GET"


def test_place_logs_the_masked_number_only(caller, caplog):
    with caplog.at_level(logging.DEBUG):
        caller.place(PHONE, answer_url=ANSWER, status_url=STATUS)
    assert "+223******56" in caplog.text
    assert PHONE not in caplog.text


@pytest.mark.parametrize(("label", "http", "code", "message", "retryable", "reason"), [
    ("geographic permission", 400, 21215, "Account not authorized to call +223…", False,
     "calls to this country are not enabled"),
    ("invalid To", 400, 21211, "Invalid 'To' Phone Number", False, "invalid 'To' phone number"),
    ("rate limited", 429, 20429, "Too Many Requests", True, "Too Many Requests"),
    ("Twilio down", 503, 20500, "Service Unavailable", True, "Service Unavailable"),
])
def test_place_errors(twilio_standin, caller, label, http, code, message, retryable, reason):
    twilio_standin.error_next(http, code, message)
    with pytest.raises(SendError) as raised:
        caller.place(PHONE, answer_url=ANSWER, status_url=STATUS)
    assert raised.value.retryable is retryable
    assert raised.value.provider_code == str(code)
    assert reason in str(raised.value) and PHONE not in str(raised.value)


def test_wrong_credentials_are_not_retried(twilio_standin):
    caller = TwilioCaller(twilio_standin.account_sid, "wrong", FROM, api_base=twilio_standin.url)
    try:
        with pytest.raises(SendError) as raised:
            caller.place(PHONE, answer_url=ANSWER, status_url=STATUS)
    finally:
        caller.close()
    assert not raised.value.retryable and raised.value.provider_code == "20003"


def test_a_timeout_is_retryable(twilio_standin, caller):
    twilio_standin.delay_next(2)
    with pytest.raises(SendError) as raised:
        caller.place(PHONE, answer_url=ANSWER, status_url=STATUS)
    assert raised.value.retryable


def test_the_provider_places_calls_from_its_voice_number(twilio_standin):
    voice = TwilioVoice(Settings(twilio_account_sid=twilio_standin.account_sid,
                                 twilio_auth_token=twilio_standin.auth_token,
                                 twilio_from="MG" + "c" * 32, twilio_voice_from=FROM,
                                 twilio_api_base=twilio_standin.url))
    sid = voice.place_call(PHONE, answer_url=ANSWER, status_url=STATUS)
    assert twilio_standin.calls[sid]["from"] == FROM
    twilio_standin.finish_call(sid, price="-0.0130")
    assert voice.call_price(sid) == (Decimal("0.0130"), "USD")


def test_the_provider_unconfigured_says_what_is_missing():
    with pytest.raises(SendError, match="TWILIO_VOICE_FROM") as raised:
        TwilioVoice(Settings()).place_call(PHONE, answer_url=ANSWER, status_url=STATUS)
    assert not raised.value.retryable
