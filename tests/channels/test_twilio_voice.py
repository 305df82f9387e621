"""Twilio voice: the documented call webhooks parsed, the status table, TwiML, signatures."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from twilio.request_validator import RequestValidator

from gateway.channels import twilio_voice as tv
from gateway.channels.base import CallEvent, CallReply, VoiceSegment, WebhookRequest
from gateway.engine.voice import KeySpec
from gateway.errors import AuthenticationError, ChannelRequestError, SettingsError
from gateway.settings import Settings
from gateway.statuses import CallOutcome

PHONE = "+22376123456"
OURS = "+15005550006"
CALL = "CA" + "a" * 32
TOKEN = "12345678901234567890123456789012"

# The parameters of every voice request, as Twilio's "Voice webhooks" page lists them
# (an inbound call, while it rings).
INBOUND = {"CallSid": CALL, "AccountSid": "AC" + "b" * 32, "From": PHONE, "To": OURS,
           "CallStatus": "ringing", "ApiVersion": "2010-04-01", "Direction": "inbound",
           "CallerName": "", "ForwardedFrom": "", "CallToken": "", "FromCity": "",
           "FromState": "", "FromZip": "", "FromCountry": "ML", "ToCity": "", "ToState": "",
           "ToZip": "", "ToCountry": "US", "Caller": PHONE, "Called": OURS}
# A call Kuma placed, when she answers: From is our number, To hers.
ANSWERED = {**INBOUND, "From": OURS, "To": PHONE, "Caller": OURS, "Called": PHONE,
            "CallStatus": "in-progress", "Direction": "outbound-api"}
# A <Gather> action adds Digits and FinishedOnKey; Kuma's turn rides in the action URL.
GATHERED = {**ANSWERED, "Digits": "2", "FinishedOnKey": "", "turn": "3"}
# A status callback adds CallDuration, Timestamp, CallbackSource and SequenceNumber.
ENDED = {**ANSWERED, "CallStatus": "completed", "CallDuration": "74",
         "Timestamp": "Tue, 01 Dec 2026 10:12:45 +0000", "CallbackSource": "call-progress-events",
         "SequenceNumber": "0"}


def event(direction="outbound", active=True, keys=None, turn=None, outcome=None, duration=None):
    return CallEvent("twilio", CALL, PHONE, direction, active, keys, turn, outcome, duration,
                     None, None)


PARSE_CASES = [
    ("inbound call rings: just connected", INBOUND, event("inbound")),
    ("placed call answered: just connected", ANSWERED, event()),
    ("a key for a menu", GATHERED, event(keys="2", turn=3)),
    ("digits ended by #, Twilio drops the #", {**GATHERED, "Digits": "12", "FinishedOnKey": "#"},
     event(keys="12", turn=3)),
    ("star to repeat", {**GATHERED, "Digits": "*"}, event(keys="*", turn=3)),
    ("# pressed alone on a number", {**GATHERED, "Digits": "", "FinishedOnKey": "#"},
     event(keys="", turn=3)),
    ("Redirect after the Gather timed out: no Digits",
     {key: value for key, value in GATHERED.items() if key not in ("Digits", "FinishedOnKey")},
     event(keys="", turn=3)),
    ("a <Dial> leg is outbound too", {**ANSWERED, "Direction": "outbound-dial"}, event()),
    ("status names in any case", {**ANSWERED, "CallStatus": "In-Progress"}, event()),
    ("empty turn is no turn", {**ANSWERED, "turn": ""}, event()),
]

# CallStatus of the end-of-call callback → outcome, for a call Kuma placed and an inbound one.
STATUS_CASES = [
    ("completed", "outbound-api", CallOutcome.COMPLETED),
    ("busy", "outbound-api", CallOutcome.BUSY),
    ("no-answer", "outbound-api", CallOutcome.NO_ANSWER),
    ("failed", "outbound-api", CallOutcome.FAILED),
    ("canceled", "outbound-api", CallOutcome.FAILED),
    ("completed", "inbound", CallOutcome.COMPLETED),
    ("busy", "inbound", CallOutcome.REJECTED),        # <Reject reason="busy">
    ("no-answer", "inbound", CallOutcome.REJECTED),   # <Reject> (reason "rejected")
    ("canceled", "inbound", CallOutcome.REJECTED),    # she hung up while it rang
]

ERRORS = [
    ("no CallSid", {k: v for k, v in ANSWERED.items() if k != "CallSid"}, "'CallSid' is missing"),
    ("no Direction", {k: v for k, v in ANSWERED.items() if k != "Direction"},
     "'Direction' is missing"),
    ("unknown Direction", {**ANSWERED, "Direction": "sideways"}, "unknown value 'sideways'"),
    ("no To on a placed call", {k: v for k, v in ANSWERED.items() if k != "To"}, "'To' is missing"),
    ("no From on an inbound call", {k: v for k, v in INBOUND.items() if k != "From"},
     "'From' is missing"),
    ("unknown CallStatus", {**ANSWERED, "CallStatus": "exploded"}, "unknown status 'exploded'"),
    ("Digits not keys", {**GATHERED, "Digits": "12a"}, "'Digits' must be keypad keys"),
    ("over-long Digits", {**GATHERED, "Digits": "1" * 41}, "'Digits' is longer than"),
    ("turn not a number", {**GATHERED, "turn": "x"}, "'turn' must be a whole number"),
    ("negative duration", {**ENDED, "CallDuration": "-3"}, "'CallDuration' must not be negative"),
]


WITHHELD_CASES = [
    ("withheld caller ID, as a word", "Anonymous"),
    ("withheld, ANONYMOUS on a keypad", "+266696687"),
    ("withheld, RESTRICTED on a keypad", "+7378742833"),
]


@pytest.mark.parametrize(("label", "caller"), WITHHELD_CASES, ids=[c[0] for c in WITHHELD_CASES])
def test_a_withheld_caller_id_is_a_call_with_no_number(label, caller):
    assert tv.parse_call({**INBOUND, "From": caller}).phone == ""


@pytest.mark.parametrize(("label", "form", "expected"), PARSE_CASES,
                         ids=[c[0] for c in PARSE_CASES])
def test_parse_call(label, form, expected):
    assert tv.parse_call(form) == expected


@pytest.mark.parametrize(("status", "direction", "outcome"), STATUS_CASES,
                         ids=[f"{c[1]} {c[0]}" for c in STATUS_CASES])
def test_status_callback_outcome(status, direction, outcome):
    form = {**ENDED, "CallStatus": status, "Direction": direction}
    if direction == "inbound":
        form.update(From=PHONE, To=OURS)
    parsed = tv.parse_call(form)
    assert (parsed.active, parsed.outcome, parsed.phone) == (False, outcome, PHONE)


def test_status_callback_carries_the_duration_but_no_price():
    assert tv.parse_call(ENDED) == event(active=False, outcome=CallOutcome.COMPLETED, duration=74)


@pytest.mark.parametrize("status", ["queued", "initiated", "ringing", "in-progress"])
def test_a_status_before_the_end_is_not_an_ending(status):
    parsed = tv.parse_call({**ENDED, "CallStatus": status})
    assert parsed.active and parsed.outcome is None


@pytest.mark.parametrize(("label", "form", "message"), ERRORS, ids=[c[0] for c in ERRORS])
def test_parse_call_rejects(label, form, message):
    with pytest.raises(ChannelRequestError, match=message):
        tv.parse_call(form)


# --- TwiML ------------------------------------------------------------------------------

ACTION = "https://kuma.example.org/webhooks/twilio/voice?turn=4"
MENU = KeySpec(digits=1, finish_on_key=None, timeout=7)
NUMBER = KeySpec(digits=None, finish_on_key="#", timeout=10)
HEARD = (VoiceSegment("https://kuma.example.org/media/maternal_care/bm/respect.wav",
                      "Baarakɛlaw ye i bonya wa?", "bm"),
         VoiceSegment(None, "Pour toujours, appuyez sur 1.", "fr"))


def verbs(body: str) -> list[tuple[str, dict, str, list]]:
    """Return the Response's verbs as (tag, attributes, text, nested verbs)."""
    root = ElementTree.fromstring(body)
    assert root.tag == "Response"

    def read(element):
        return (element.tag, dict(element.attrib), (element.text or "").strip(),
                [read(child) for child in element])

    return [read(child) for child in root]


RENDER_CASES = [
    ("a menu: Gather one key around Play and Say, then Redirect on timeout",
     CallReply(HEARD, MENU, ACTION),
     [("Gather", {"input": "dtmf", "action": ACTION, "method": "POST", "timeout": "7",
                  "numDigits": "1", "finishOnKey": ""},
       "", [("Play", {}, HEARD[0].url, []),
            ("Say", {"language": "fr-FR"}, "Pour toujours, appuyez sur 1.", [])]),
      ("Redirect", {"method": "POST"}, ACTION, [])]),
    ("a number: any digits ended by #",
     CallReply(HEARD[:1], NUMBER, ACTION),
     [("Gather", {"input": "dtmf", "action": ACTION, "method": "POST", "timeout": "10",
                  "finishOnKey": "#"}, "", [("Play", {}, HEARD[0].url, [])]),
      ("Redirect", {"method": "POST"}, ACTION, [])]),
    ("the last words, then Hangup", CallReply(HEARD, None, None),
     [("Play", {}, HEARD[0].url, []),
      ("Say", {"language": "fr-FR"}, "Pour toujours, appuyez sur 1.", []),
      ("Hangup", {}, "", [])]),
    ("an inbound call refused before it is answered: Reject first",
     CallReply((), None, None, reject=True), [("Reject", {"reason": "busy"}, "", [])]),
    ("Bambara without a recording is never read in a French voice",
     CallReply((VoiceSegment(None, "I ni ce!", "bm"),), None, None), [("Hangup", {}, "", [])]),
]


@pytest.mark.parametrize(("label", "reply", "expected"), RENDER_CASES,
                         ids=[c[0] for c in RENDER_CASES])
def test_render_call(label, reply, expected):
    answer = tv.render_call(reply)
    assert answer.content_type == "text/xml"
    assert verbs(answer.body) == expected


def test_render_escapes_text_and_keeps_its_letters():
    reply = CallReply((VoiceSegment(None, "Êtes-vous venue pour <l'accouchement> & après ?",
                                    "fr"),), None, None)
    [say, _] = verbs(tv.render_call(reply).body)
    assert say[2] == "Êtes-vous venue pour <l'accouchement> & après ?"


# --- the provider: routes and signatures ------------------------------------------------

def provider(**overrides):
    values = {"twilio_account_sid": "AC" + "b" * 32, "twilio_auth_token": TOKEN,
              "twilio_from": OURS, "public_url": "https://kuma.example.org"}
    return tv.TwilioVoice(Settings(**{**values, **overrides}))


def signed_request(url, form, *, token=TOKEN, tamper=None):
    signature = RequestValidator(token).compute_signature(url, form)
    posted = {**form, **(tamper or {})}
    return WebhookRequest(query={}, remote_addr="127.0.0.1", form=lambda: posted,
                          headers=lambda: {"X-Twilio-Signature": signature},
                          url=lambda: url.replace("https://kuma.example.org", "http://10.0.0.5"))


def test_routes_and_callbacks_are_twilios():
    assert [(hook.path, hook.kind) for hook in tv.WEBHOOKS] == [("voice", "voice"),
                                                                ("voice/status", "call_status")]
    urls = [url for _, url in provider().callbacks("https://kuma.example.org")]
    assert urls == ["https://kuma.example.org/webhooks/twilio/voice",
                    "https://kuma.example.org/webhooks/twilio/voice/status"]


def test_a_signed_gather_action_with_its_turn_is_taken():
    url = ACTION
    provider().authenticate(signed_request(url, {k: v for k, v in GATHERED.items()
                                                 if k != "turn"}))


@pytest.mark.parametrize(("label", "tamper", "token", "url"), [
    ("keys changed", {"Digits": "1"}, TOKEN, ACTION),
    ("another account's token", None, "0" * 32, ACTION),
    ("turn changed in the URL", None, TOKEN, ACTION.replace("turn=4", "turn=5")),
])
def test_a_forged_call_request_is_refused(label, tamper, token, url):
    form = {k: v for k, v in GATHERED.items() if k != "turn"}
    request = signed_request(ACTION, form, token=token, tamper=tamper)
    if url != ACTION:
        headers = request.headers
        request = WebhookRequest(query={}, remote_addr=None, form=lambda: form,
                                 headers=lambda: headers, url=lambda: url)
    with pytest.raises(AuthenticationError):
        provider().authenticate(request)


def test_a_messaging_service_cannot_place_calls():
    service = "MG" + "c" * 32
    assert provider(twilio_from=service).caller_id() is None
    assert provider(twilio_from=service, twilio_voice_from="+15005550007").caller_id() \
        == "+15005550007"
    assert provider().caller_id() == OURS


def test_serve_warns_when_twilio_would_place_calls_it_cannot_follow():
    assert provider(voice_provider="twilio").warning() is None
    assert "PUBLIC_URL is unset" in provider(voice_provider="twilio", public_url=None).warning()
    assert provider(public_url=None).warning() is None  # no calls through Twilio


@pytest.mark.parametrize(("env", "expected"), [
    ({"TWILIO_VOICE_FROM": OURS}, "twilio"),
    ({"TWILIO_FROM": OURS}, None),  # SMS only, unless VOICE_PROVIDER says otherwise
])
def test_twilio_voice_number_makes_twilio_the_voice_provider(env, expected):
    base = {"TWILIO_ACCOUNT_SID": "AC" + "b" * 32, "TWILIO_AUTH_TOKEN": TOKEN,
            "GATEWAY_SECRET_KEY": "k"}
    assert Settings.from_env({**base, **env}).voice_provider == expected


def test_twilio_as_voice_provider_needs_a_number_to_call_from():
    env = {"TWILIO_ACCOUNT_SID": "AC" + "b" * 32, "TWILIO_AUTH_TOKEN": TOKEN,
           "TWILIO_FROM": "MG" + "c" * 32, "VOICE_PROVIDER": "twilio", "GATEWAY_SECRET_KEY": "k"}
    with pytest.raises(SettingsError, match="VOICE_PROVIDER: twilio needs .*TWILIO_VOICE_FROM"):
        Settings.from_env(env)
