"""The providers' payloads as their documentation gives them, replayed against the gateway.

Each case quotes the documented form it replays (Twilio's "Twilio's request to your incoming
message Webhook URL" and "Webhooks security" pages, Twilio error 21610, Africa's Talking's
"SMS Notifications" page) and says what the gateway must do with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from gateway.models import Contact
from tests.integration.conftest import client, drain, services, worker_environment  # noqa: F401

AT_TOKEN = "conformance-token"
TWILIO_TOKEN = "twilio-auth-token"
ACCOUNT = "AC" + "b" * 32
PHONE = "+22376123456"
TWILIO_NUMBER = "+15005550006"

# "NumMedia: The number of media items associated with your message"; "MediaUrl{N}: A URL
# referencing the content of the media received in the Message"; a media message carries
# no Body parameter at all.
MEDIA_MESSAGE = [
    ("MessageSid", "MM" + "a" * 32), ("SmsSid", "MM" + "a" * 32),
    ("AccountSid", ACCOUNT), ("From", PHONE), ("To", TWILIO_NUMBER),
    ("NumMedia", "2"), ("NumSegments", "1"),
    ("MediaContentType0", "image/jpeg"),
    ("MediaUrl0", f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/MM{'a' * 32}"
                  f"/Media/ME{'c' * 32}"),
    ("MediaContentType1", "image/png"),
    ("MediaUrl1", f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/MM{'a' * 32}"
                  f"/Media/ME{'d' * 32}"),
    ("ApiVersion", "2010-04-01"),
]
TEXT_MESSAGE = [("MessageSid", "SM" + "e" * 32), ("AccountSid", ACCOUNT), ("From", PHONE),
                ("To", TWILIO_NUMBER), ("Body", "AVIS 07"), ("NumMedia", "0"),
                ("ApiVersion", "2010-04-01")]
# The SDK's validator: "for each value of a repeated key, sorted": every value is signed.
REPEATED_KEY = [*TEXT_MESSAGE, ("AddOns", '{"status":"successful"}'),
                ("AddOns", '{"status":"failed"}')]
# Error 21610, "Attempt to send to unsubscribed recipient", on the status callback of a
# message Kuma has no record of (sent before Kuma, or by another system).
UNSUBSCRIBED = [("MessageSid", "SM" + "f" * 32), ("MessageStatus", "failed"),
                ("ErrorCode", "21610"), ("AccountSid", ACCOUNT), ("From", TWILIO_NUMBER),
                ("To", PHONE), ("ApiVersion", "2010-04-01")]
# "Bulk SMS Opt Out: sent whenever a user opts out of receiving messages from your
# alphanumeric sender ID", with `senderId` and `phoneNumber`.
AT_OPT_OUT = [("senderId", "KUMA"), ("phoneNumber", PHONE)]


@dataclass(frozen=True)
class Case:
    """One documented payload: where it goes, how it is signed, what must come of it."""

    label: str
    path: str  # as configured at the provider, query included
    form: list[tuple[str, str]]
    status: int
    check: Callable = field(default=lambda services: None)


def opted_out(services) -> None:
    """The number is opted out in Redis at once, and in SQL once the events are filed."""
    assert services.store.is_opted_out(services.vault.hash(PHONE))
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(Contact.opted_out_at)).one() is not None


def session_started(services) -> None:
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(Contact)).one().phone_hash == services.vault.hash(PHONE)


CASES = [
    Case("Twilio media message with NumMedia=2, MediaUrl0 and no Body: taken, text empty",
         "/webhooks/twilio/sms", MEDIA_MESSAGE, 200, session_started),
    Case("Twilio form repeating a key, signed over every value: taken",
         "/webhooks/twilio/sms", REPEATED_KEY, 200, session_started),
    Case("Twilio URL configured with an escaped query (?src=sms%2Fkuma), signed as "
         "configured: taken", "/webhooks/twilio/sms?src=sms%2Fkuma", TEXT_MESSAGE, 200,
         session_started),
    Case("Twilio 21610 on the status callback of a message Kuma does not know: the number "
         "named in To is opted out", "/webhooks/twilio/status", UNSUBSCRIBED, 200, opted_out),
    Case("Africa's Talking bulk SMS opt-out notification (senderId, phoneNumber): the "
         "contact is opted out", f"/webhooks/africastalking/optout?token={AT_TOKEN}",
         AT_OPT_OUT, 200, opted_out),
]


@pytest.fixture
def settings(settings):
    """Settings with both providers' webhook secrets configured."""
    return settings.replace(at_webhook_token=AT_TOKEN, twilio_account_sid=ACCOUNT,
                            twilio_auth_token=TWILIO_TOKEN, twilio_from=TWILIO_NUMBER)


def twilio_signature(url: str, form: list[tuple[str, str]]) -> dict[str, str]:
    """Sign as Twilio does: the URL exactly as configured, every value of the form."""
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, MultiDict(form))
    return {"X-Twilio-Signature": signature}


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
def test_documented_payloads(client, services, drain, case):
    url = f"http://localhost{case.path}"
    headers = twilio_signature(url, case.form) if "/twilio/" in case.path else {}

    response = client.post(url, data=MultiDict(case.form), headers=headers)

    assert response.status_code == case.status, response.text
    drain()
    case.check(services)


def test_a_media_message_gets_the_re_prompt_of_an_unreadable_answer(client, services, drain):
    url = "http://localhost/webhooks/twilio/sms"
    first = dict(TEXT_MESSAGE)
    assert client.post(url, data=first, headers=twilio_signature(url, TEXT_MESSAGE)
                       ).status_code == 200
    state = services.store.load("sms", services.vault.hash(PHONE))
    assert state is not None and state["step"]

    response = client.post(url, data=MultiDict(MEDIA_MESSAGE),
                           headers=twilio_signature(url, MEDIA_MESSAGE))

    assert response.status_code == 200
    after = services.store.load("sms", services.vault.hash(PHONE))
    assert after["step"] == state["step"]  # asked again, not answered


def test_a_twilio_signature_over_the_first_values_only_is_refused(client, services):
    url = "http://localhost/webhooks/twilio/sms"
    first_only = twilio_signature(url, list(dict(reversed(REPEATED_KEY)).items()))
    assert client.post(url, data=MultiDict(REPEATED_KEY), headers=first_only
                       ).status_code == 403


def test_the_opt_out_callback_is_authenticated_like_the_others(client, services):
    assert client.post("/webhooks/africastalking/optout", data=dict(AT_OPT_OUT)
                       ).status_code == 403
    assert client.post("/webhooks/africastalking/optout?token=wrong", data=dict(AT_OPT_OUT)
                       ).status_code == 403
    assert not services.store.is_opted_out(services.vault.hash(PHONE))
