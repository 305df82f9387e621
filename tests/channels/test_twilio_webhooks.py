"""Twilio webhooks: parsing, signatures (real RequestValidator), proxy URLs, TwiML."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from gateway.channels import twilio as tw
from gateway.channels.base import DeliveryReport, InboundSms, MessageStatus
from gateway.errors import AuthenticationError, ChannelRequestError

PHONE = "+22376123456"
TOKEN = "12345678901234567890123456789012"
SID = "SM" + "a" * 32

# Incoming message webhook fields, as Twilio's "Messaging webhooks" page lists them.
SMS = {"MessageSid": SID, "SmsSid": SID, "SmsMessageSid": SID, "AccountSid": "AC" + "b" * 32,
       "MessagingServiceSid": "MG" + "c" * 32, "From": PHONE, "To": "+15005550006",
       "Body": "STOP", "NumMedia": "0", "NumSegments": "1", "FromCountry": "ML",
       "ToCountry": "US", "ApiVersion": "2010-04-01", "SmsStatus": "received"}

SMS_CASES = [
    ("incoming SMS", SMS, InboundSms("twilio", SID, PHONE, "+15005550006", "STOP", None, None)),
    ("media only, empty body", {**SMS, "Body": "", "NumMedia": "1"},
     InboundSms("twilio", SID, PHONE, "+15005550006", "", None, None)),
    ("only the older SmsSid", {k: v for k, v in SMS.items() if k != "MessageSid"},
     InboundSms("twilio", SID, PHONE, "+15005550006", "STOP", None, None)),
]

SMS_ERRORS = [
    ("no message id at all", {k: v for k, v in SMS.items() if k not in ("MessageSid", "SmsSid")},
     "'MessageSid' is missing"),
    ("missing From", {k: v for k, v in SMS.items() if k != "From"}, "'From' is missing"),
    ("over-long From", {**SMS, "From": "+" + "1" * 60}, "'From' is longer than"),
]


@pytest.mark.parametrize(("label", "form", "expected"), SMS_CASES, ids=[c[0] for c in SMS_CASES])
def test_parse_sms(label, form, expected):
    assert tw.parse_sms(form) == expected


@pytest.mark.parametrize(("label", "form", "message"), SMS_ERRORS, ids=[c[0] for c in SMS_ERRORS])
def test_parse_sms_rejects(label, form, message):
    with pytest.raises(ChannelRequestError, match=message):
        tw.parse_sms(form)


# Status callback fields: MessageSid, MessageStatus, ErrorCode (when failed), AccountSid,
# From, To, ApiVersion, SmsSid, SmsStatus.
STATUS = {"MessageSid": SID, "SmsSid": SID, "MessageStatus": "delivered", "SmsStatus": "delivered",
          "AccountSid": "AC" + "b" * 32, "From": "+15005550006", "To": PHONE,
          "ApiVersion": "2010-04-01"}


def report(status, code=None, reason=None, opted_out=False):
    # An opt-out names its number (`To`): it opts out even for a message Kuma never sent.
    return DeliveryReport("twilio", SID, status, code, reason, opted_out,
                          PHONE if opted_out else None)


STATUS_CASES = [
    ("accepted", {**STATUS, "MessageStatus": "accepted"}, report(MessageStatus.QUEUED)),
    ("scheduled", {**STATUS, "MessageStatus": "scheduled"}, report(MessageStatus.QUEUED)),
    ("queued", {**STATUS, "MessageStatus": "queued"}, report(MessageStatus.QUEUED)),
    ("sending", {**STATUS, "MessageStatus": "sending"}, report(MessageStatus.QUEUED)),
    ("sent", {**STATUS, "MessageStatus": "sent"}, report(MessageStatus.SENT)),
    ("delivered", STATUS, report(MessageStatus.DELIVERED)),
    ("read", {**STATUS, "MessageStatus": "read"}, report(MessageStatus.DELIVERED)),
    ("canceled", {**STATUS, "MessageStatus": "canceled"}, report(MessageStatus.FAILED)),
    ("undelivered, handset unreachable", {**STATUS, "MessageStatus": "undelivered",
                                          "ErrorCode": "30003"},
     report(MessageStatus.UNDELIVERED, "30003", "unreachable destination handset")),
    ("failed, unsubscribed", {**STATUS, "MessageStatus": "failed", "ErrorCode": "21610"},
     report(MessageStatus.FAILED, "21610", "recipient unsubscribed (replied STOP)", True)),
    ("failed, unknown code keeps it", {**STATUS, "MessageStatus": "failed", "ErrorCode": "39999"},
     report(MessageStatus.FAILED, "39999")),
    ("error message given", {**STATUS, "MessageStatus": "failed", "ErrorCode": "30008",
                             "ErrorMessage": "Unknown error"},
     report(MessageStatus.FAILED, "30008", "Unknown error")),
    ("empty ErrorCode", {**STATUS, "ErrorCode": ""}, report(MessageStatus.DELIVERED)),
]

STATUS_ERRORS = [
    ("unknown status", {**STATUS, "MessageStatus": "lost"}, "'MessageStatus' has an unknown"),
    ("inbound status", {**STATUS, "MessageStatus": "received"}, "'MessageStatus' has an unknown"),
    ("missing status", {k: v for k, v in STATUS.items() if k != "MessageStatus"},
     "'MessageStatus' is missing"),
    ("ErrorCode not a number", {**STATUS, "ErrorCode": "oops"}, "'ErrorCode' must be a number"),
]


@pytest.mark.parametrize(("label", "form", "expected"), STATUS_CASES,
                         ids=[c[0] for c in STATUS_CASES])
def test_parse_status(label, form, expected):
    assert tw.parse_status(form) == expected


@pytest.mark.parametrize(("label", "form", "message"), STATUS_ERRORS,
                         ids=[c[0] for c in STATUS_ERRORS])
def test_parse_status_rejects(label, form, message):
    with pytest.raises(ChannelRequestError, match=message):
        tw.parse_status(form)


URL = "https://kuma.example.org/webhooks/twilio/sms"


def signed(url=URL, form=SMS, token=TOKEN, algorithm=None):
    return RequestValidator(token).compute_signature(url, form, algorithm)


def test_signature_accepted_for_a_dict_and_a_multidict():
    tw.check_signature(TOKEN, URL, SMS, signed())
    tw.check_signature(TOKEN, URL, MultiDict(list(SMS.items())), signed())


@pytest.mark.parametrize(("label", "url", "form", "signature"), [
    ("other token", URL, SMS, signed(token="x" * 32)),
    ("body changed", URL, {**SMS, "Body": "OUI"}, signed()),
    ("field added", URL, {**SMS, "Extra": "1"}, signed()),
    ("other URL", "https://kuma.example.org/webhooks/twilio/status", SMS, signed()),
    ("http instead of https", URL.replace("https", "http"), SMS, signed()),
    ("missing header", URL, SMS, None),
    ("empty header", URL, SMS, ""),
])
def test_signature_rejected(label, url, form, signature):
    with pytest.raises(AuthenticationError) as caught:
        tw.check_signature(TOKEN, url, form, signature)
    assert caught.value.status_code == 403


def test_signature_with_sha256_named_in_the_settings_header():
    signature = signed(algorithm="HMAC_SHA256")
    header = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    tw.check_signature(TOKEN, URL, SMS, signature, settings_header=header)
    with pytest.raises(AuthenticationError):
        tw.check_signature(TOKEN, URL, SMS, signature)


INTERNAL = "http://127.0.0.1:8000/webhooks/twilio/sms"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "kuma.example.org"}

PUBLIC_URL_CASES = [
    ("no proxy", INTERNAL, {}, False, None, INTERNAL),
    ("forwarded headers ignored when not trusted", INTERNAL, FORWARDED, False, None, INTERNAL),
    ("trusted forwarded headers", INTERNAL, FORWARDED, True, None, URL),
    ("lower-case header names", INTERNAL, {k.lower(): v for k, v in FORWARDED.items()}, True,
     None, URL),
    ("chain of proxies: first value", INTERNAL,
     {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "kuma.example.org, 10.0.0.2"},
     True, None, URL),
    ("trusted but no headers", INTERNAL, {}, True, None, INTERNAL),
    ("configured public base wins", INTERNAL, {"X-Forwarded-Host": "evil.example"}, True,
     "https://kuma.example.org", URL),
    ("public base with a path prefix", INTERNAL, {}, False, "https://example.org/kuma/",
     "https://example.org/kuma/webhooks/twilio/sms"),
    ("query kept", INTERNAL + "?center=07", FORWARDED, True, None, URL + "?center=07"),
]


@pytest.mark.parametrize(("label", "url", "headers", "trust", "base", "expected"),
                         PUBLIC_URL_CASES, ids=[c[0] for c in PUBLIC_URL_CASES])
def test_public_url(label, url, headers, trust, base, expected):
    assert tw.public_url(url, headers, trust_forwarded=trust, public_base=base) == expected


def test_signature_checks_out_through_a_proxy():
    # Twilio signs the public URL; the app behind the proxy sees the internal one.
    signature = signed(URL)
    with pytest.raises(AuthenticationError):
        tw.check_signature(TOKEN, INTERNAL, SMS, signature)
    rebuilt = tw.public_url(INTERNAL, FORWARDED, trust_forwarded=True, public_base=None)
    tw.check_signature(TOKEN, rebuilt, SMS, signature)


@pytest.mark.parametrize(("messages", "expected"), [
    ((), '<?xml version="1.0" encoding="UTF-8"?><Response />'),
    (["Merci !"], '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Merci !</Message>'
                  '</Response>'),
    (["A & B <c>", "Deux"], '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
                            'A &amp; B &lt;c&gt;</Message><Message>Deux</Message></Response>'),
])
def test_render_twiml(messages, expected):
    assert tw.render_twiml(messages) == expected
