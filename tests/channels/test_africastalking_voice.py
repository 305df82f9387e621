"""Africa's Talking voice: its documented callbacks parsed, its XML, calls placed with the SDK."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from gateway.channels.africastalking_voice import (AfricasTalkingVoice, parse_call,
                                                   render_call)
from gateway.channels.base import CallEvent, CallReply, VoiceSegment
from gateway.engine.voice import KeySpec
from gateway.errors import ChannelRequestError, SendError
from gateway.statuses import CallOutcome

OURS = "+22320000000"
HERS = "+22376123456"
BASE = {"sessionId": "ATVId_1", "callerNumber": HERS, "destinationNumber": OURS}

# label, form (as AT's "Handle calls" / "GetDigits" / hangupCause docs describe), event
CASES = [
    ("an outbound call is answered",
     {**BASE, "isActive": "1", "direction": "Outbound"},
     CallEvent("africastalking", "ATVId_1", HERS, "outbound", True, None, None, None, None,
               None, None)),
    ("she calls the voice number",
     {**BASE, "isActive": "1", "direction": "Inbound", "callerCountryCode": "223"},
     CallEvent("africastalking", "ATVId_1", HERS, "inbound", True, None, None, None, None,
               None, None)),
    ("the keys after a GetDigits",
     {**BASE, "isActive": "1", "direction": "Outbound", "dtmfDigits": "2", "turn": "3"},
     CallEvent("africastalking", "ATVId_1", HERS, "outbound", True, "2", 3, None, None,
               None, None)),
    ("a number ended with the hash key",
     {**BASE, "isActive": "1", "direction": "Outbound", "dtmfDigits": "07#", "turn": "3"},
     CallEvent("africastalking", "ATVId_1", HERS, "outbound", True, "07#", 3, None, None,
               None, None)),
    ("no key within the timeout: the Redirect to the same turn",
     {**BASE, "isActive": "1", "direction": "Outbound", "turn": "4"},
     CallEvent("africastalking", "ATVId_1", HERS, "outbound", True, "", 4, None, None,
               None, None)),
    ("the end of an answered call",
     {**BASE, "isActive": "0", "direction": "Outbound", "durationInSeconds": "95",
      "amount": "45.0", "currencyCode": "XOF", "hangupCause": "NORMAL_CLEARING",
      "status": "Success"},
     CallEvent("africastalking", "ATVId_1", HERS, "outbound", False, None, None,
               CallOutcome.COMPLETED, 95, Decimal("45.0"), "XOF")),
    ("a call she did not pick up (AT's own sample)",
     {"callSessionState": "NotAnswered", "hangupCause": "USER_BUSY", "direction": "Outbound",
      "callerCountryCode": "223", "durationInSeconds": "0", "amount": "0",
      "callerNumber": HERS, "destinationNumber": OURS, "status": "NotAnswered",
      "sessionId": "ATVId_b1", "callStartTime": "None", "isActive": "0",
      "currencyCode": "XOF"},
     CallEvent("africastalking", "ATVId_b1", HERS, "outbound", False, None, None,
               CallOutcome.BUSY, 0, Decimal("0"), "XOF")),
    ("no answer",
     {**BASE, "isActive": "0", "direction": "Outbound", "hangupCause": "NO_ANSWER"},
     CallEvent("africastalking", "ATVId_1", HERS, "outbound", False, None, None,
               CallOutcome.NO_ANSWER, None, None, None)),
    ("rejected by her",
     {**BASE, "isActive": "0", "direction": "Outbound", "hangupCause": "CALL_REJECTED"},
     CallEvent("africastalking", "ATVId_1", HERS, "outbound", False, None, None,
               CallOutcome.REJECTED, None, None, None)),
    ("an unknown hangup cause is a failed call, not a refused notice",
     {**BASE, "isActive": "0", "direction": "Outbound", "hangupCause": "SOMETHING_NEW"},
     CallEvent("africastalking", "ATVId_1", HERS, "outbound", False, None, None,
               CallOutcome.FAILED, None, None, None)),
    ("an end without a cause reads the status",
     {**BASE, "isActive": "0", "direction": "Inbound", "status": "Aborted", "amount": "None"},
     CallEvent("africastalking", "ATVId_1", HERS, "inbound", False, None, None,
               CallOutcome.FAILED, None, None, None)),
    ("our number as callerNumber: she is the destination",
     {"sessionId": "ATVId_2", "callerNumber": OURS, "destinationNumber": HERS,
      "isActive": "1", "direction": "Outbound"},
     CallEvent("africastalking", "ATVId_2", HERS, "outbound", True, None, None, None, None,
               None, None)),
]


@pytest.mark.parametrize("label,form,event", CASES, ids=[c[0] for c in CASES])
def test_documented_callbacks_parse_to_call_events(label, form, event):
    assert parse_call(form, our_number=OURS) == event


BAD = [
    ("no sessionId", {"isActive": "1", "direction": "Outbound", "callerNumber": HERS},
     "field 'sessionId' is missing"),
    ("isActive neither 1 nor 0", {**BASE, "isActive": "2", "direction": "Outbound"},
     "field 'isActive' must be 1 or 0"),
    ("an unknown direction", {**BASE, "isActive": "1", "direction": "Both"},
     "field 'direction' must be Inbound or Outbound"),
    ("letters for keys", {**BASE, "isActive": "1", "direction": "Outbound", "dtmfDigits": "1a"},
     "field 'dtmfDigits' holds keys no phone has"),
    ("a turn that is no number", {**BASE, "isActive": "1", "direction": "Outbound",
                                  "turn": "two"}, "field 'turn' must be a whole number"),
    ("a cost that is no number", {**BASE, "isActive": "0", "direction": "Outbound",
                                  "amount": "NaN"}, "field 'amount' must be a positive number"),
]


@pytest.mark.parametrize("label,form,message", BAD, ids=[c[0] for c in BAD])
def test_bad_callbacks_are_refused_naming_the_field(label, form, message):
    with pytest.raises(ChannelRequestError, match=message):
        parse_call(form)


def elements(body: str) -> list[tuple[str, dict, str | None]]:
    return [(e.tag, e.attrib, e.text) for e in ET.fromstring(body).iter()]


def test_a_question_is_a_getdigits_around_its_recordings_then_a_redirect_to_the_same_turn():
    reply = CallReply((VoiceSegment("https://k.example/media/f/fr/visit.wav", "Visite ?", "fr"),
                       VoiceSegment(None, "Consultation prénatale & co", "fr")),
                      KeySpec(1, None, 10), "https://k.example/webhooks/africastalking/voice?turn=2")
    answer = render_call(reply, token="t+k")
    assert answer.content_type == "application/xml"
    assert answer.body.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    url = "https://k.example/webhooks/africastalking/voice?turn=2&token=t%2Bk"
    assert elements(answer.body) == [
        ("Response", {}, None),
        ("GetDigits", {"timeout": "10", "numDigits": "1", "callbackUrl": url}, None),
        ("Play", {"url": "https://k.example/media/f/fr/visit.wav"}, None),
        ("Say", {"voice": "fr-FR-Standard-A"}, "Consultation prénatale & co"),
        ("Redirect", {}, url)]


def test_a_number_waits_for_the_hash_key():
    reply = CallReply((), KeySpec(None, "#", 15), "https://k.example/v?turn=1")
    (_, digits, _), = [e for e in elements(render_call(reply).body) if e[0] == "GetDigits"]
    assert digits == {"timeout": "15", "finishOnKey": "#", "callbackUrl": "https://k.example/v?turn=1"}


def test_a_last_prompt_plays_and_hangs_up_and_bambara_is_never_said():
    reply = CallReply((VoiceSegment("https://k.example/media/_gateway/bm/thanks.wav", "I ni ce",
                                    "bm"), VoiceSegment(None, "I ni ce", "bm")), None, None)
    assert [e[0] for e in elements(render_call(reply).body)] == ["Response", "Play"]


def test_a_mother_s_call_is_rejected_with_reject_alone():
    body = render_call(CallReply((), None, None, reject=True)).body
    assert [e[0] for e in elements(body)] == ["Response", "Reject"]


def voice(settings, at_standin):
    return AfricasTalkingVoice(settings.replace(
        at_username="kuma", at_api_key="at-test-key", at_webhook_token="t",
        at_voice_number=OURS, at_api_base=at_standin.url))


def test_a_call_is_placed_through_the_sdk_from_the_voice_number(settings, at_standin):
    call_id = voice(settings, at_standin).place_call(HERS, answer_url="u", status_url="s")
    assert call_id.startswith("ATVId_")
    request, = at_standin.requests
    assert (request.path, request.headers["apikey"]) == ("/voice/call", "at-test-key")
    assert request.form == {"username": "kuma", "from": OURS, "to": HERS}


@pytest.mark.parametrize("status,body,retryable", [
    (500, "Internal Server Error", True),
    (401, "The supplied authentication is invalid", False),
    (200, {"entries": [], "errorMessage": "Invalid callerId"}, False),
    (200, {"entries": [{"phoneNumber": HERS, "status": "InvalidPhoneNumber",
                        "sessionId": "None"}], "errorMessage": "None"}, False),
])
def test_a_call_refused_by_at_is_a_send_error_saying_whether_to_retry(
        settings, at_standin, status, body, retryable):
    at_standin.answer_next(status, body)
    with pytest.raises(SendError) as raised:
        voice(settings, at_standin).place_call(HERS, answer_url="u", status_url="s")
    assert raised.value.retryable is retryable
    assert "76123456" not in str(raised.value)


def test_the_printed_callback_carries_the_token_masked_unless_asked(settings):
    provider = AfricasTalkingVoice(settings.replace(at_webhook_token="a+b"))
    assert provider.callbacks("https://k.example", masked=False) == [
        ("voice callback (the number's callback URL)",
         "https://k.example/webhooks/africastalking/voice?token=a%2Bb")]
    assert provider.callbacks("https://k.example")[0][1].endswith("?token=***")
    assert provider.warning() is None


def test_a_voice_number_without_a_webhook_token_is_warned_about(settings):
    provider = AfricasTalkingVoice(settings.replace(at_voice_number=OURS))
    assert "AT_WEBHOOK_TOKEN is not set" in provider.warning()


def test_every_route_a_voice_provider_declares_is_served():
    from flask import Flask

    from gateway.channels import registry
    from gateway.web import webhooks

    app = Flask("routes")
    app.register_blueprint(webhooks.blueprint)
    served = {(rule.rule, rule.endpoint) for rule in app.url_map.iter_rules()}
    declared = {(f"/webhooks/{name}/{hook.path}", f"webhooks.{name}_{hook.name}")
                for name, provider in registry.VOICE_PROVIDERS.items()
                for hook in provider.webhooks}
    assert ("/webhooks/africastalking/voice", "webhooks.africastalking_voice") in declared
    assert declared <= served
