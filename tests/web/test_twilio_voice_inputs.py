"""Bad input on Twilio's voice routes: unsigned is 403, malformed is 400, nothing changes."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from tests.integration.conftest import client, services  # noqa: F401

TOKEN = "twilio-auth-token"
CALL = {"CallSid": "CA" + "a" * 32, "AccountSid": "AC" + "b" * 32, "From": "+15005550006",
        "To": "+22376123456", "CallStatus": "in-progress", "Direction": "outbound-api",
        "ApiVersion": "2010-04-01"}
ENDED = {**CALL, "CallStatus": "completed", "CallDuration": "31",
         "CallbackSource": "call-progress-events", "SequenceNumber": "0"}
ROUTES = [("http://localhost/webhooks/twilio/voice?turn=2", {**CALL, "Digits": "1"}),
          ("http://localhost/webhooks/twilio/voice/status", ENDED)]


@pytest.fixture
def settings(settings):
    return settings.replace(twilio_account_sid="AC" + "b" * 32, twilio_auth_token=TOKEN,
                            twilio_from="+15005550006")


def signed(url: str, form: dict) -> dict:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form)}


def snapshot(services) -> set[bytes]:
    return set(services.redis.keys("*"))


@pytest.mark.parametrize(("url", "form"), ROUTES, ids=["voice", "voice/status"])
def test_voice_routes_need_twilios_signature(client, services, url, form):
    before = snapshot(services)
    assert client.post(url, data=form).status_code == 403
    assert client.post(url, data=form, headers={"X-Twilio-Signature": "bad"}).status_code == 403
    # Signed, then changed: another key, or another turn in the URL.
    assert client.post(url, data={**form, "Digits": "2"},
                       headers=signed(url, form)).status_code == 403
    other_turn = url.replace("turn=2", "turn=3") if "turn" in url else url + "?turn=3"
    assert client.post(other_turn, data=form, headers=signed(url, form)).status_code == 403
    assert snapshot(services) == before and services.queue.count == 0


@pytest.mark.parametrize(("label", "change", "reason"), [
    ("no CallSid", {"CallSid": None}, "'CallSid' is missing"),
    ("unknown direction", {"Direction": "sideways"}, "'Direction' has an unknown value"),
    ("unknown status", {"CallStatus": "exploded"}, "'CallStatus' has an unknown status"),
    ("keys that are no keys", {"Digits": "1; DROP"}, "'Digits' must be keypad keys"),
])
def test_signed_but_malformed_is_a_400_with_the_reason(client, services, label, change, reason):
    url, form = ROUTES[0]
    form = {key: value for key, value in {**form, **change}.items() if value is not None}
    before = snapshot(services)
    response = client.post(url, data=form, headers=signed(url, form))
    assert response.status_code == 400
    assert reason in response.text
    assert snapshot(services) == before


def test_a_bad_turn_in_a_signed_url_is_a_400(client, services):
    url, form = "http://localhost/webhooks/twilio/voice?turn=x", {**CALL, "Digits": "1"}
    response = client.post(url, data=form, headers=signed(url, form))
    assert response.status_code == 400 and "'turn' must be a whole number" in response.text
