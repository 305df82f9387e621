"""Twilio voice: the call's webhook and Gather actions, status callbacks, TwiML, placing calls.

Field names and statuses follow Twilio's Voice docs ("Voice webhooks", "TwiML <Gather>",
"TwiML <Reject>", "Call resource"). A call's requests are signed exactly like an SMS's, so
authentication is twilio.py's. `TwilioVoice` is the whole protocol as configured; its routes
are POST /webhooks/twilio/voice and /webhooks/twilio/voice/status.

Twilio posts to a Gather's action only when keys were pressed; when the timeout passes with
none it goes on to the next verb, a Redirect to the same action. That request carries the
turn but no `Digits`, which is how "the prompt timed out" ("") is told from "the call has
just connected" (None: the first webhook has no turn).

Twilio's status callback carries no price: the Call resource gets one a little after the
call ends, so `call_price` fetches it for whoever wants it later; the event's cost is None.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import Gather, VoiceResponse

from gateway.channels import twilio
from gateway.channels.base import (MAX_CODE, MAX_ID, MAX_PHONE, Acknowledgement, CallEvent,
                                   CallReply, VoiceSegment, Webhook, WebhookRequest, int_field,
                                   mask_phone, text_field)
from gateway.errors import ChannelRequestError, SendError
from gateway.settings import Settings
from gateway.statuses import CallOutcome

log = logging.getLogger(__name__)

PROVIDER = twilio.PROVIDER

# `Direction`: "outbound-api" is a call Kuma placed through the API; "outbound-dial" a leg
# of a <Dial>, which Kuma never uses but which is still a call to her.
DIRECTIONS = {"inbound": "inbound", "outbound-api": "outbound", "outbound-dial": "outbound"}

# `CallStatus` → how the call ended; None: still going (queued, ringing, answered).
OUTCOMES: dict[str, CallOutcome | None] = {
    "queued": None,
    "initiated": None,
    "ringing": None,
    "in-progress": None,
    "completed": CallOutcome.COMPLETED,
    "busy": CallOutcome.BUSY,
    "no-answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.FAILED,
    "canceled": CallOutcome.FAILED,  # ended through the API before it was answered
}

# A withheld caller ID reaches Twilio as a word or as that word spelled on a keypad
# ("+266696687": ANONYMOUS, a valid-looking Lesotho number): never one to call back.
_KEYPAD = {letter: str(key) for key, letters in enumerate(
    ("", "", "ABC", "DEF", "GHI", "JKL", "MNO", "PQRS", "TUV", "WXYZ")) for letter in letters}
WITHHELD = frozenset(form for word in ("ANONYMOUS", "RESTRICTED", "UNAVAILABLE", "UNKNOWN",
                                       "BLOCKED")
                     for form in (word.lower(), "+" + "".join(_KEYPAD[c] for c in word)))

# Languages Twilio's <Say> reads well, as its `language` attribute wants them. Bambara has
# no voice: a segment without a recording in it is never read in a French voice.
SAY_LANGUAGES = {"fr": "fr-FR"}

# "busy" plays a busy tone: she hears the line is alive, and Kuma calls her back; the
# default "rejected" says the number is not in service.
REJECT_REASON = "busy"

# A call stuck in a loop must not run for Twilio's default of four hours, on the centre's bill.
TIME_LIMIT_S = 900
KEYS = re.compile(r"^[0-9*#]*$")
MAX_KEYS = 40

# API error codes about calls, worded for the calls list.
ERROR_REASONS = {
    "13223": "invalid phone number format",
    "13224": "invalid phone number",
    "21210": "the 'From' number is not a verified Twilio number",
    "21211": "invalid 'To' phone number",
    "21212": "invalid 'From' phone number",
    "21215": "calls to this country are not enabled (geographic permissions)",
    "21216": "the account may not call this number",
    "21219": "'To' number not verified (trial account)",
}


# --- webhooks ---------------------------------------------------------------------------

def parse_call(form: Mapping[str, str]) -> CallEvent:
    """Parse a call webhook, Gather action or status callback (CallSid, Direction, …).

    `form` holds the posted fields, and Kuma's `turn` from the action URL's query.
    """
    direction = _direction(form)
    # Her number is the caller on an inbound call and the called party on one Kuma placed.
    phone = text_field(form, "From" if direction == "inbound" else "To", max_length=MAX_PHONE)
    if phone.strip().lower() in WITHHELD:
        phone = ""  # a legitimate call: rejected for free, but there is no one to call back
    outcome, active = _outcome(form, direction)
    turn = int_field(form, "turn")
    return CallEvent(
        provider=PROVIDER,
        call_id=text_field(form, "CallSid", max_length=MAX_ID),
        phone=phone,
        direction=direction,
        active=active,
        keys=_keys(form, turn),
        turn=turn,
        outcome=outcome,
        duration_s=int_field(form, "CallDuration"),
        cost=None,
        currency=None,
    )


def _direction(form: Mapping[str, str]) -> str:
    value = text_field(form, "Direction", max_length=MAX_CODE)
    direction = DIRECTIONS.get(value.strip().lower())
    if direction is None:
        raise ChannelRequestError(f"field 'Direction' has an unknown value {value!r}")
    return direction


def _outcome(form: Mapping[str, str], direction: str) -> tuple[CallOutcome | None, bool]:
    value = text_field(form, "CallStatus", max_length=MAX_CODE).strip().lower()
    if value not in OUTCOMES:
        raise ChannelRequestError(f"field 'CallStatus' has an unknown status {value!r}")
    outcome = OUTCOMES[value]
    if outcome is None:
        return None, True
    # Kuma answers every call to its number except those it refuses (<Reject>: busy or
    # no-answer), so an inbound call that ended unanswered was refused, or she hung up first.
    if direction == "inbound" and outcome is not CallOutcome.COMPLETED:
        return CallOutcome.REJECTED, False
    return outcome, False


def _keys(form: Mapping[str, str], turn: int | None) -> str | None:
    digits = text_field(form, "Digits", required=False, allow_empty=True, max_length=MAX_KEYS)
    if digits is None:
        # No Digits on an action URL: the Redirect after a Gather that timed out.
        return None if turn is None else ""
    digits = digits.strip()
    if not KEYS.match(digits):
        raise ChannelRequestError(f"field 'Digits' must be keypad keys, not {digits!r}")
    return digits


# --- TwiML ------------------------------------------------------------------------------

def render_call(reply: CallReply) -> Acknowledgement:
    """Return the TwiML of a reply: Reject, a Gather around what she hears, or a Hangup."""
    response = VoiceResponse()
    if reply.reject:
        response.reject(reason=REJECT_REASON)  # the first verb, so Twilio never answers
    elif reply.keys is None:
        _speak(response, reply.segments)
        response.hangup()
    else:
        if not reply.action_url:
            raise ValueError("a reply that waits for keys needs an action_url")
        _speak(_gather(response, reply), reply.segments)
        # Only reached when no key came within the timeout: the same action, without Digits.
        response.redirect(reply.action_url, method="POST")
    return Acknowledgement(str(response), "text/xml")


def _gather(response: VoiceResponse, reply: CallReply) -> Gather:
    keys = reply.keys
    attributes = {"input": "dtmf", "action": reply.action_url, "method": "POST",
                  "timeout": keys.timeout,
                  # "": no key ends a menu's answer, so `#` reaches the engine as a key.
                  "finish_on_key": keys.finish_on_key or ""}
    if keys.digits is not None:
        attributes["num_digits"] = keys.digits
    return response.gather(**attributes)


def _speak(verb: VoiceResponse | Gather, segments: tuple[VoiceSegment, ...]) -> None:
    for segment in segments:
        if segment.url:
            verb.play(segment.url)
        elif segment.language in SAY_LANGUAGES:
            verb.say(segment.text, language=SAY_LANGUAGES[segment.language])
        else:
            log.warning("a %s segment has no recording and cannot be read aloud: left out",
                        segment.language)


# --- placing calls ----------------------------------------------------------------------

class TwilioCaller:
    """Place calls through Twilio's Calls API with the official SDK's Client."""

    def __init__(self, account_sid: str, auth_token: str, from_: str, *,
                 api_base: str | None = None, timeout: float = 10) -> None:
        if api_base:
            self._http = twilio.RebasedHttpClient(api_base, timeout)
        else:
            self._http = TwilioHttpClient(timeout=timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._from = from_

    def place(self, to_e164: str, *, answer_url: str, status_url: str) -> str:
        """Call `to_e164`; Twilio fetches `answer_url` when she answers. Return the CallSid."""
        masked = mask_phone(to_e164)
        try:
            call = self._client.calls.create(
                to=to_e164, from_=self._from, url=answer_url, method="POST",
                status_callback=status_url, status_callback_method="POST",
                # "completed" comes for every ending: busy, no-answer, failed, canceled too.
                status_callback_event=["completed"], time_limit=TIME_LIMIT_S)
        except TwilioRestException as exc:
            raise _call_error(exc, f"the call to {masked}") from None
        except requests.RequestException as exc:
            raise SendError(f"Twilio unreachable: {type(exc).__name__}", retryable=True) from exc
        log.info("call to %s placed with Twilio as %s", masked, call.sid,
                 extra={"call_id": call.sid})
        return call.sid

    def price(self, call_id: str) -> tuple[Decimal, str] | None:
        """Return what a call cost (amount, currency), or None while Twilio has no price."""
        try:
            call = self._client.calls(call_id).fetch()
        except TwilioRestException as exc:
            raise _call_error(exc, f"the price of call {call_id}") from None
        except requests.RequestException as exc:
            raise SendError(f"Twilio unreachable: {type(exc).__name__}", retryable=True) from exc
        if call.price in (None, ""):
            return None
        try:
            # Twilio writes charges as negative amounts ("-0.01300").
            return abs(Decimal(str(call.price))), (call.price_unit or "USD").upper()
        except InvalidOperation:
            log.warning("call %s has a price Kuma cannot read: ignored", call_id)
            return None

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        if self._http.session is not None:
            self._http.session.close()


def _call_error(exc: TwilioRestException, what: str) -> SendError:
    """Translate an API error into SendError, retryable for rate limits and 5xx."""
    code = str(exc.code) if exc.code is not None else None
    reason = ERROR_REASONS.get(code or "") or twilio.ERROR_REASONS.get(code or "") \
        or exc.msg or "error"
    retryable = exc.status >= 500 or exc.status == 429 or exc.code in twilio.RETRYABLE_CODES
    return SendError(f"Twilio refused {what}: HTTP {exc.status}, {code}: {reason}",
                     retryable=retryable, provider_code=code or f"HTTP {exc.status}")


# --- the provider -----------------------------------------------------------------------

WEBHOOKS = (
    Webhook("voice", "voice", "voice", parse_call,
            "Take a Twilio call webhook or Gather action; answer with TwiML.",
            "voice: A call comes in (also the answer URL of the calls Kuma places)"),
    Webhook("voice_status", "voice/status", "call_status", parse_call,
            "Take a Twilio call status callback.", "voice: Call status changes"),
)


class TwilioVoice:
    """Twilio voice as Settings configure it: signed call webhooks, TwiML, placing calls."""

    name = PROVIDER
    title = "Twilio voice"
    webhooks = WEBHOOKS

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._signed = twilio.Twilio(settings)  # the same signatures as Twilio's SMS

    def callbacks(self, base: str, *, masked: bool = True) -> list[tuple[str, str]]:
        """Return (label, URL) of every callback; Twilio signs them, no token needed."""
        return [(hook.label, f"{base}/webhooks/{PROVIDER}/{hook.path}") for hook in WEBHOOKS]

    def warning(self) -> str | None:
        """Say when Twilio places calls it cannot follow: no PUBLIC_URL to fetch."""
        if self.settings.voice_provider == PROVIDER and not self.settings.public_url:
            return ("Twilio voice: PUBLIC_URL is unset, so Twilio has no address to fetch the "
                    "call's TwiML and recordings from: calls will fail")
        return None

    def authenticate(self, request: WebhookRequest) -> None:
        """Raise AuthenticationError unless Twilio signed the request."""
        self._signed.authenticate(request)

    def parse_call(self, form: Mapping[str, str]) -> CallEvent:
        """Parse one call callback, or raise ChannelRequestError naming the field."""
        return parse_call(form)

    def render_call(self, reply: CallReply) -> Acknowledgement:
        """Return the TwiML answer to a call callback."""
        return render_call(reply)

    def caller_id(self) -> str | None:
        """Return the number calls are placed from (TWILIO_VOICE_FROM, else TWILIO_FROM)."""
        return self.settings.twilio_voice_number

    def caller(self, timeout: float = 10) -> TwilioCaller:
        """Return a caller through Twilio's Calls API."""
        settings = self.settings
        if not (settings.twilio_account_sid and settings.twilio_auth_token and self.caller_id()):
            raise SendError("Twilio voice is not configured here (TWILIO_ACCOUNT_SID, "
                            "TWILIO_AUTH_TOKEN, TWILIO_VOICE_FROM)", retryable=False)
        return TwilioCaller(settings.twilio_account_sid, settings.twilio_auth_token,
                            self.caller_id(), api_base=settings.twilio_api_base, timeout=timeout)

    def place_call(self, to_e164: str, *, answer_url: str, status_url: str) -> str:
        """Place a call with the SDK; return its CallSid, or raise SendError."""
        caller = self.caller()
        try:
            return caller.place(to_e164, answer_url=answer_url, status_url=status_url)
        finally:
            caller.close()

    def call_price(self, call_id: str) -> tuple[Decimal, str] | None:
        """Return a finished call's price (amount, currency), None until Twilio has set it."""
        caller = self.caller()
        try:
            return caller.price(call_id)
        finally:
            caller.close()
