"""Africa's Talking voice: the call's callbacks, AT voice XML, and placing calls.

AT posts every callback of a call to one URL, the number's callback URL (and a
`GetDigits` `callbackUrl`, which is the same route with `?turn=N`): `isActive=1` while the
call is on, with `dtmfDigits` after a `GetDigits`, and `isActive=0` once it is over, with
its duration, cost and `hangupCause` (developers.africastalking.com, Voice: "Handle calls",
"GetDigits", "Reject"; help.africastalking.com: "What are the parameters for Hang up
Cause"). Answers are AT voice XML. Calls are placed with the official SDK's
`VoiceService.call`; the call's callbacks then come to the number's callback URL.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape, quoteattr

import requests
from africastalking.Service import validate_phone
from africastalking.Voice import VoiceService

from gateway.channels import africastalking
from gateway.channels.base import (
    MAX_CODE, MAX_PHONE, Acknowledgement, CallEvent, CallOutcome, CallReply, VoiceSegment,
    Webhook, WebhookRequest, int_field, mask_phone, text_field)
from gateway.errors import ChannelRequestError, SendError
from gateway.logmask import MASK
from gateway.settings import Settings

log = logging.getLogger(__name__)

PROVIDER = africastalking.PROVIDER
VOICE_PATH = "voice"
CONTENT_TYPE = "application/xml"
MAX_DIGITS = 40
_DIGITS = re.compile(r"^[0-9*#]*$")

# `hangupCause` of the end-of-call notification → how the call ended. NORMAL_CLEARING is a
# call answered and ended; the others are calls that did not go through.
HANGUP_CAUSES: dict[str, CallOutcome] = {
    "NORMAL_CLEARING": CallOutcome.COMPLETED,
    "CALL_REJECTED": CallOutcome.REJECTED,
    "USER_BUSY": CallOutcome.BUSY,
    "NO_ANSWER": CallOutcome.NO_ANSWER,
    "NO_USER_RESPONSE": CallOutcome.NO_ANSWER,
    "ORIGINATOR_CANCEL": CallOutcome.NO_ANSWER,
    "SUBSCRIBER_ABSENT": CallOutcome.NO_ANSWER,
    "NORMAL_TEMPORARY_FAILURE": CallOutcome.FAILED,
    "RECOVERY_ON_TIMER_EXPIRE": CallOutcome.FAILED,
    "UNALLOCATED_NUMBER": CallOutcome.FAILED,
    "NETWORK_OUT_OF_ORDER": CallOutcome.FAILED,
    "LOSE_RACE": CallOutcome.FAILED,
    "UNSPECIFIED": CallOutcome.FAILED,
}
# The notification's `status` when it has no hangupCause (inbound calls, older accounts).
CALL_STATUSES: dict[str, CallOutcome] = {
    "success": CallOutcome.COMPLETED,
    "completed": CallOutcome.COMPLETED,
    "notanswered": CallOutcome.NO_ANSWER,
    "busy": CallOutcome.BUSY,
    "rejected": CallOutcome.REJECTED,
    "aborted": CallOutcome.FAILED,
    "failed": CallOutcome.FAILED,
}
# AT's `Say` voices by language; only languages a flow lets be read aloud are ever said.
SAY_VOICES = {"fr": "fr-FR-Standard-A"}


# --- callbacks ----------------------------------------------------------------------------

def parse_call(form: Mapping[str, str], *, our_number: str | None = None) -> CallEvent:
    """Parse a voice callback (isActive, sessionId, direction, callerNumber, dtmfDigits…)."""
    active = _flag(form, "isActive")
    direction = text_field(form, "direction", max_length=MAX_CODE).strip().lower()
    if direction not in ("inbound", "outbound"):
        raise ChannelRequestError(f"field 'direction' must be Inbound or Outbound, "
                                  f"not {direction!r}")
    caller = text_field(form, "callerNumber", max_length=MAX_PHONE).strip()
    destination = text_field(form, "destinationNumber", required=False,
                             max_length=MAX_PHONE)
    phone = caller
    # The docs call callerNumber "the phone user"; on some outbound notifications it is our
    # number and destinationNumber hers: take whichever one is not ours.
    if our_number and destination and caller == our_number:
        phone = destination.strip()
    turn = int_field(form, "turn")
    digits = text_field(form, "dtmfDigits", required=False, allow_empty=True,
                        max_length=MAX_DIGITS)
    if digits is not None and not _DIGITS.match(digits.strip()):
        raise ChannelRequestError(f"field 'dtmfDigits' holds keys no phone has: {digits!r}")
    keys = digits.strip() if digits is not None else ("" if turn is not None else None)
    return CallEvent(
        provider=PROVIDER,
        call_id=text_field(form, "sessionId"),
        phone=phone,
        direction=direction,  # type: ignore[arg-type]
        active=active,
        keys=keys if active else None,
        turn=turn,
        outcome=None if active else _outcome(form),
        duration_s=int_field(form, "durationInSeconds"),
        cost=_amount(form),
        currency=text_field(form, "currencyCode", required=False, max_length=8),
    )


def _flag(form: Mapping[str, str], name: str) -> bool:
    value = text_field(form, name, max_length=5).strip().lower()
    if value not in ("0", "1", "true", "false"):
        raise ChannelRequestError(f"field {name!r} must be 1 or 0, not {value!r}")
    return value in ("1", "true")


def _outcome(form: Mapping[str, str]) -> CallOutcome:
    cause = text_field(form, "hangupCause", required=False, max_length=MAX_CODE)
    if cause is not None:
        outcome = HANGUP_CAUSES.get(cause.strip().upper())
        if outcome is not None:
            return outcome
        # The call is over whatever the cause: refusing the notice would lose its cost.
        log.warning("unknown AT hangupCause %r: call taken as failed", cause)
        return CallOutcome.FAILED
    status = text_field(form, "status", required=False, max_length=MAX_CODE) \
        or text_field(form, "callSessionState", required=False, max_length=MAX_CODE)
    if status is not None and status.strip().lower() in CALL_STATUSES:
        return CALL_STATUSES[status.strip().lower()]
    duration = int_field(form, "durationInSeconds")
    return CallOutcome.COMPLETED if duration else CallOutcome.FAILED


def _amount(form: Mapping[str, str]) -> Decimal | None:
    value = text_field(form, "amount", required=False, max_length=20)
    if value is None or value.strip().lower() == "none":
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        raise ChannelRequestError(f"field 'amount' must be a number, not {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ChannelRequestError(f"field 'amount' must be a positive number, not {value!r}")
    return amount


# --- AT voice XML -------------------------------------------------------------------------

def render_call(reply: CallReply, *, token: str | None = None) -> Acknowledgement:
    """Return AT voice XML: `GetDigits` around the prompt, `Reject`, or the prompt alone.

    A `GetDigits` that gets no key moves on to the next action: a `Redirect` to the same
    turn, which arrives without `dtmfDigits` and so reads as "no key within the timeout".
    """
    if reply.reject:
        return _xml("<Reject/>")
    spoken = "".join(_segment(segment) for segment in reply.segments)
    if reply.keys is None or reply.action_url is None:
        return _xml(spoken)
    url = _with_token(reply.action_url, token)
    keys = reply.keys
    attributes = [f'timeout="{keys.timeout}"']
    if keys.finish_on_key:
        attributes.append(f"finishOnKey={quoteattr(keys.finish_on_key)}")
    if keys.digits:
        attributes.append(f'numDigits="{keys.digits}"')
    attributes.append(f"callbackUrl={quoteattr(url)}")
    return _xml(f"<GetDigits {' '.join(attributes)}>{spoken}</GetDigits>"
                f"<Redirect>{escape(url)}</Redirect>")


def _segment(segment: VoiceSegment) -> str:
    if segment.url:
        return f"<Play url={quoteattr(segment.url)}/>"
    voice = SAY_VOICES.get(segment.language)
    if voice is None:  # never a French voice reading Bambara
        return ""
    return f"<Say voice={quoteattr(voice)}>{escape(segment.text)}</Say>"


def _xml(body: str) -> Acknowledgement:
    return Acknowledgement(f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
                           CONTENT_TYPE)


def _with_token(url: str, token: str | None) -> str:
    if not token:
        return url
    return f"{url}{'&' if '?' in url else '?'}token={urllib.parse.quote(token, safe='')}"


# --- placing calls ------------------------------------------------------------------------

class _VoiceService(africastalking.SdkSession, VoiceService):
    """The SDK's voice service, its HTTP call made through our session with our timeout."""

    api_path = "/voice"


def place_call(service: VoiceService, caller_id: str, to_e164: str) -> str:
    """Ask AT to call `to_e164` from `caller_id`; return the call's sessionId or raise SendError."""
    masked = mask_phone(to_e164)
    if not validate_phone(to_e164):
        raise SendError(f"Africa's Talking: {masked} is not an E.164 number", retryable=False,
                        provider_code="InvalidPhoneNumber")
    try:
        answer = service.call(caller_id, [to_e164])
    except requests.RequestException as exc:
        raise SendError(f"Africa's Talking unreachable: {type(exc).__name__}",
                        retryable=True) from exc
    except africastalking._HttpError as exc:
        raise SendError(f"Africa's Talking answered HTTP {exc.status}: {exc.text[:200]}",
                        retryable=exc.status >= 500 or exc.status == 429,
                        provider_code=f"HTTP {exc.status}") from None
    try:
        entry = answer["entries"][0]  # type: ignore[index]
    except (TypeError, KeyError, IndexError):
        reason = answer.get("errorMessage") if isinstance(answer, dict) else str(answer)[:200]
        raise SendError(f"Africa's Talking did not place the call to {masked}: {reason}",
                        retryable=False) from None
    status = str(entry.get("status", ""))
    session_id = entry.get("sessionId")
    if status != "Queued" or not session_id or session_id == "None":
        raise SendError(f"Africa's Talking did not place the call to {masked}: {status}",
                        retryable=False, provider_code=status or None)
    log.info("call to %s queued by Africa's Talking as %s", masked, session_id)
    return str(session_id)


# --- the provider -------------------------------------------------------------------------

WEBHOOKS = (
    Webhook("voice", VOICE_PATH, "voice", lambda form: parse_call(form),
            "Answer an AT voice callback with AT voice XML (and take the end-of-call notice).",
            "voice callback (the number's callback URL)"),
)


class AfricasTalkingVoice:
    """Africa's Talking voice as Settings configure it: the callback, its XML, placing calls."""

    name = PROVIDER
    title = "Africa's Talking voice"
    webhooks = WEBHOOKS

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def callbacks(self, base: str, *, masked: bool = True) -> list[tuple[str, str]]:
        """Return the voice number's callback URL, with the token (masked, or escaped)."""
        token = self.settings.at_webhook_token
        query = f"?token={MASK if masked else urllib.parse.quote(token, safe='')}" if token else ""
        return [(hook.label, f"{base}/webhooks/{PROVIDER}/{hook.path}{query}")
                for hook in WEBHOOKS]

    def warning(self) -> str | None:
        """Say so when a voice number takes calls whose callbacks are not authenticated."""
        if self.settings.at_voice_number and not self.settings.at_webhook_token:
            return "AT_WEBHOOK_TOKEN is not set: Africa's Talking voice callbacks are not " \
                   "authenticated"
        return None

    def authenticate(self, request: WebhookRequest) -> None:
        """Raise AuthenticationError unless the request has our token and comes from AT."""
        africastalking.authenticate(request.query.get("token"), request.remote_addr,
                                    expected_token=self.settings.at_webhook_token,
                                    allowed_networks=self.settings.at_allowed_networks)

    def parse_call(self, form: Mapping[str, str]) -> CallEvent:
        """Parse one voice callback; the mother is whichever number is not ours."""
        return parse_call(form, our_number=self.settings.at_voice_number)

    def render_call(self, reply: CallReply) -> Acknowledgement:
        """Return AT voice XML, the action URL carrying our token."""
        return render_call(reply, token=self.settings.at_webhook_token)

    def place_call(self, to_e164: str, *, answer_url: str, status_url: str) -> str:
        """Place a call from AT_VOICE_NUMBER; AT posts its callbacks to the number's URL."""
        settings = self.settings
        if not (settings.at_configured and settings.at_voice_number):
            raise SendError("Africa's Talking voice needs AT_USERNAME, AT_API_KEY and "
                            "AT_VOICE_NUMBER", retryable=False)
        service = _VoiceService(settings.at_username, settings.at_api_key,
                                api_base=settings.at_api_base, timeout=10)
        try:
            return place_call(service, settings.at_voice_number, to_e164)
        finally:
            service._session.close()
