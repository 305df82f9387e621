"""Africa's Talking webhooks: documented payloads in, normalised values or a named error out."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from werkzeug.datastructures import MultiDict

from gateway.channels import africastalking as at
from gateway.channels.base import (DeliveryReport, InboundSms, MessageStatus, UssdRequest,
                                   UssdSessionEnded)
from gateway.errors import AuthenticationError, ChannelRequestError

PHONE = "+22376123456"

# USSD callback fields as AT documents them (sessionId, serviceCode, phoneNumber,
# networkCode, text); 61002 is Orange Mali.
USSD = {"sessionId": "ATUid_4a2b0c9d8e", "serviceCode": "*384*123#", "phoneNumber": PHONE,
        "networkCode": "61002", "text": ""}

USSD_CASES = [
    ("first dial, empty text", USSD,
     UssdRequest("ATUid_4a2b0c9d8e", PHONE, "*384*123#", "61002", "")),
    ("accumulated answers", {**USSD, "text": "1*2*5"},
     UssdRequest("ATUid_4a2b0c9d8e", PHONE, "*384*123#", "61002", "1*2*5")),
    ("extension in the service code", {**USSD, "serviceCode": "*384*123*07#"},
     UssdRequest("ATUid_4a2b0c9d8e", PHONE, "*384*123*07#", "61002", "")),
    ("text left out by a simulator", {k: v for k, v in USSD.items() if k != "text"},
     UssdRequest("ATUid_4a2b0c9d8e", PHONE, "*384*123#", "61002", "")),
    ("unknown extra field accepted", {**USSD, "channel": "ussd"},
     UssdRequest("ATUid_4a2b0c9d8e", PHONE, "*384*123#", "61002", "")),
    ("no network code", {k: v for k, v in USSD.items() if k != "networkCode"},
     UssdRequest("ATUid_4a2b0c9d8e", PHONE, "*384*123#", None, "")),
]

USSD_ERRORS = [
    ("missing sessionId", {k: v for k, v in USSD.items() if k != "sessionId"},
     "'sessionId' is missing"),
    ("empty phoneNumber", {**USSD, "phoneNumber": " "}, "'phoneNumber' is empty"),
    ("missing serviceCode", {k: v for k, v in USSD.items() if k != "serviceCode"}, "'serviceCode'"),
    ("serviceCode not a code", {**USSD, "serviceCode": "<script>"}, "'serviceCode' is not a USSD"),
    ("over-long text", {**USSD, "text": "1*" * 1001}, "'text' is longer than"),
    ("over-long sessionId", {**USSD, "sessionId": "x" * 500}, "'sessionId' is longer than"),
    ("non-text value", {**USSD, "sessionId": 12345}, "'sessionId' must be text"),
]


@pytest.mark.parametrize(("label", "form", "expected"), USSD_CASES, ids=[c[0] for c in USSD_CASES])
def test_parse_ussd(label, form, expected):
    assert at.parse_ussd(form) == expected


@pytest.mark.parametrize(("label", "form", "message"), USSD_ERRORS, ids=[c[0] for c in USSD_ERRORS])
def test_parse_ussd_rejects(label, form, message):
    with pytest.raises(ChannelRequestError, match=message) as caught:
        at.parse_ussd(form)
    assert caught.value.status_code == 400


def test_parse_ussd_reads_a_werkzeug_multidict():
    form = MultiDict(list({**USSD, "text": "1*2"}.items()))
    assert at.parse_ussd(form).text == "1*2"


# Incoming SMS callback: from, to, text, date, id, linkId (+ networkCode).
SMS = {"from": PHONE, "to": "36363", "text": "AVIS 07", "date": "2024-03-05 10:31:00",
       "id": "f6e1a2b3-9c1d-4e5f", "linkId": "", "networkCode": "61002"}

SMS_CASES = [
    ("plain incoming SMS", SMS,
     InboundSms("africastalking", "f6e1a2b3-9c1d-4e5f", PHONE, "36363", "AVIS 07",
                datetime(2024, 3, 5, 10, 31, tzinfo=timezone.utc), None)),
    ("premium with linkId and ISO date", {**SMS, "linkId": "LK-1", "date": "2024-03-05T10:31:00Z"},
     InboundSms("africastalking", "f6e1a2b3-9c1d-4e5f", PHONE, "36363", "AVIS 07",
                datetime(2024, 3, 5, 10, 31, tzinfo=timezone.utc), "LK-1")),
    ("empty text, no date", {k: v for k, v in {**SMS, "text": ""}.items() if k != "date"},
     InboundSms("africastalking", "f6e1a2b3-9c1d-4e5f", PHONE, "36363", "", None, None)),
]

SMS_ERRORS = [
    ("missing from", {k: v for k, v in SMS.items() if k != "from"}, "'from' is missing"),
    ("missing id", {k: v for k, v in SMS.items() if k != "id"}, "'id' is missing"),
    ("missing text", {k: v for k, v in SMS.items() if k != "text"}, "'text' is missing"),
    ("over-long text", {**SMS, "text": "a" * 6000}, "'text' is longer than"),
]


@pytest.mark.parametrize(("label", "form", "expected"), SMS_CASES, ids=[c[0] for c in SMS_CASES])
def test_parse_sms(label, form, expected):
    assert at.parse_sms(form) == expected


@pytest.mark.parametrize(("label", "form", "message"), SMS_ERRORS, ids=[c[0] for c in SMS_ERRORS])
def test_parse_sms_rejects(label, form, message):
    with pytest.raises(ChannelRequestError, match=message):
        at.parse_sms(form)


def test_an_unreadable_date_does_not_refuse_her_message(caplog):
    # `date` is informative: refusing the SMS would refuse it again on every retry.
    message = at.parse_sms({**SMS, "date": "yesterday"})
    assert message.received_at is None and message.text == SMS["text"]
    assert "'date' is not a date and time" in caplog.text


# Delivery report: id, status, phoneNumber, networkCode, failureReason, retryCount.
DLR = {"id": "ATXid_1f2e", "status": "Success", "phoneNumber": PHONE, "networkCode": "61002",
       "retryCount": "0"}


def report(status, reason=None, opted_out=False):
    return DeliveryReport("africastalking", "ATXid_1f2e", status, None, reason, opted_out)


DELIVERY_CASES = [
    ("sent by AT", {**DLR, "status": "Sent"}, report(MessageStatus.SENT)),
    ("submitted to the MSP", {**DLR, "status": "Submitted"}, report(MessageStatus.SENT)),
    ("buffered by the MSP", {**DLR, "status": "Buffered"}, report(MessageStatus.SENT)),
    ("delivered", DLR, report(MessageStatus.DELIVERED)),
    ("rejected", {**DLR, "status": "Rejected", "failureReason": "InvalidSenderId"},
     report(MessageStatus.REJECTED, "InvalidSenderId")),
    ("failed, absent subscriber reason", {**DLR, "status": "Failed",
                                          "failureReason": "AbsentSubscriber"},
     report(MessageStatus.FAILED, "AbsentSubscriber")),
    ("absent subscriber status", {**DLR, "status": "AbsentSubscriber"},
     report(MessageStatus.UNDELIVERED)),
    ("expired", {**DLR, "status": "Expired"}, report(MessageStatus.UNDELIVERED)),
    ("blacklisted (docs' spelling)", {**DLR, "status": "Failed",
                                      "failureReason": "UserInBlackList"},
     report(MessageStatus.FAILED, "UserInBlackList", opted_out=True)),
    ("blacklisted (send-API spelling)", {**DLR, "status": "Rejected",
                                         "failureReason": "UserInBlacklist"},
     report(MessageStatus.REJECTED, "UserInBlacklist", opted_out=True)),
    ("no retryCount", {k: v for k, v in DLR.items() if k != "retryCount"},
     report(MessageStatus.DELIVERED)),
]

DELIVERY_ERRORS = [
    ("unknown status", {**DLR, "status": "Teleported"}, "'status' has an unknown status"),
    ("missing id", {k: v for k, v in DLR.items() if k != "id"}, "'id' is missing"),
    ("retryCount not a number", {**DLR, "retryCount": "two"}, "'retryCount' must be a whole"),
    ("negative retryCount", {**DLR, "retryCount": "-1"}, "'retryCount' must not be negative"),
]


@pytest.mark.parametrize(("label", "form", "expected"), DELIVERY_CASES,
                         ids=[c[0] for c in DELIVERY_CASES])
def test_parse_delivery(label, form, expected):
    assert at.parse_delivery(form) == expected


@pytest.mark.parametrize(("label", "form", "message"), DELIVERY_ERRORS,
                         ids=[c[0] for c in DELIVERY_ERRORS])
def test_parse_delivery_rejects(label, form, message):
    with pytest.raises(ChannelRequestError, match=message):
        at.parse_delivery(form)


# USSD session notification: date, sessionId, serviceCode, networkCode, phoneNumber,
# status (Success, Incomplete, Failed), cost, durationInMillis, hopsCount, input,
# lastAppResponse, errorMessage.
EVENT = {"date": "2024-03-05 10:33:12", "sessionId": "ATUid_4a2b0c9d8e", "serviceCode": "*384*123#",
         "networkCode": "61002", "phoneNumber": PHONE, "status": "Success", "cost": "XOF 0.0000",
         "durationInMillis": "48213", "hopsCount": "7", "input": "1*2*5*3",
         "lastAppResponse": "END Merci", "errorMessage": ""}

EVENT_CASES = [
    ("completed", EVENT, UssdSessionEnded("ATUid_4a2b0c9d8e", PHONE, "completed", 48213, None)),
    ("incomplete", {**EVENT, "status": "Incomplete"},
     UssdSessionEnded("ATUid_4a2b0c9d8e", PHONE, "incomplete", 48213, None)),
    ("failed with error", {**EVENT, "status": "Failed", "errorMessage": "Timeout"},
     UssdSessionEnded("ATUid_4a2b0c9d8e", PHONE, "failed", 48213, "Timeout")),
    ("no duration", {k: v for k, v in EVENT.items() if k != "durationInMillis"},
     UssdSessionEnded("ATUid_4a2b0c9d8e", PHONE, "completed", None, None)),
]

EVENT_ERRORS = [
    ("unknown status", {**EVENT, "status": "Paused"}, "'status' has an unknown session status"),
    ("duration not a number", {**EVENT, "durationInMillis": "48s"}, "'durationInMillis'"),
    ("missing phoneNumber", {k: v for k, v in EVENT.items() if k != "phoneNumber"},
     "'phoneNumber' is missing"),
]


@pytest.mark.parametrize(("label", "form", "expected"), EVENT_CASES,
                         ids=[c[0] for c in EVENT_CASES])
def test_parse_ussd_event(label, form, expected):
    assert at.parse_ussd_event(form) == expected


@pytest.mark.parametrize(("label", "form", "message"), EVENT_ERRORS,
                         ids=[c[0] for c in EVENT_ERRORS])
def test_parse_ussd_event_rejects(label, form, message):
    with pytest.raises(ChannelRequestError, match=message):
        at.parse_ussd_event(form)


@pytest.mark.parametrize(("given", "expected", "error"), [
    ("s3cret-token", "s3cret-token", None),
    ("wrong", "s3cret-token", "wrong"),
    (None, "s3cret-token", "missing"),
    ("", "s3cret-token", "missing"),
    ("s3cret-token-and-more", "s3cret-token", "wrong"),
    ("anything", None, None),
    (None, "", None),
])
def test_check_token(given, expected, error):
    if error is None:
        at.check_token(given, expected)
    else:
        with pytest.raises(AuthenticationError, match=error) as caught:
            at.check_token(given, expected)
        assert caught.value.status_code == 403


@pytest.mark.parametrize(("ip", "networks", "allowed"), [
    ("196.201.214.10", ["196.201.214.0/24"], True),
    ("196.201.215.10", ["196.201.214.0/24"], False),
    ("10.0.0.1", ["196.201.214.0/24", "10.0.0.0/8"], True),
    ("2001:db8::1", ["2001:db8::/32"], True),
    ("127.0.0.1", [], True),
    ("not-an-ip", ["10.0.0.0/8"], False),
    (None, ["10.0.0.0/8"], False),
])
def test_check_source(ip, networks, allowed):
    if allowed:
        at.check_source(ip, networks)
    else:
        with pytest.raises(AuthenticationError):
            at.check_source(ip, networks)


def test_check_source_refusing_a_proxys_address_says_why():
    with pytest.raises(AuthenticationError, match="behind a reverse proxy, restrict AT's ranges "
                                                  "in the proxy"):
        at.check_source("127.0.0.1", ["196.201.214.0/24"])
    with pytest.raises(AuthenticationError) as caught:
        at.check_source("196.201.215.10", ["196.201.214.0/24"])
    assert "proxy" not in str(caught.value)  # a public address is simply not AT's
