"""Normalised values every provider module produces, the protocol each one implements,
and helpers they share.

A provider module (africastalking.py, twilio.py, and for calls africastalking_voice.py and
twilio_voice.py) owns its whole protocol, as courier's
handlers do: its `WEBHOOKS` (routes, each with its parser and its answer), how a request
is authenticated, its status tables, sending (`sender`), and for a USSD aggregator the
rendering of a screen and the rules of its `text` field (`UssdProvider`). The web layer,
the runner and the sender use these protocols and know no provider by name; the list of
providers is `gateway.channels.registry`. Nothing here knows flows, storage or Redis.
Phone numbers pass through as the provider gave them: normalising is gateway.phones' job.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Literal, Protocol

from gateway import phones
from gateway.engine.voice import KeySpec
from gateway.errors import ChannelRequestError
# One enum for the whole gateway (the models store it); re-exported for channel users.
from gateway.statuses import CallOutcome, MessageStatus

log = logging.getLogger(__name__)

# Generous ceilings: a legitimate provider never comes close, a forged request that
# tries to fill memory or the database with one field is refused.
MAX_ID = 128
MAX_PHONE = 40
MAX_CODE = 40
MAX_USSD_TEXT = 2000
MAX_SMS_TEXT = 5000
MAX_REASON = 500

# Control characters (Unicode's Cc: C0, DEL, C1). PostgreSQL's text refuses NUL, and one
# NUL once stopped all filing: an identifier holding any is refused at the door, free
# text has them removed. Tabs and line breaks stay in free text: SMS may hold them, and
# every store takes them.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class UssdRequest:
    """One USSD request: AT sends the whole accumulated `text` ("1*2*5") each time."""

    session_id: str
    phone: str
    service_code: str
    network_code: str | None
    text: str


@dataclass(frozen=True)
class InboundSms:
    """An SMS a person sent to one of our numbers or short codes."""

    provider: str
    message_id: str
    phone: str
    to: str
    text: str
    received_at: datetime | None
    link_id: str | None


@dataclass(frozen=True)
class DeliveryReport:
    """A provider's news about an SMS we sent; `opted_out` means stop writing to them."""

    provider: str
    message_id: str
    status: MessageStatus
    error_code: str | None
    failure_reason: str | None
    opted_out: bool
    recipient: str | None = None  # the number it was sent to, when the report names it


@dataclass(frozen=True)
class OptOutNotice:
    """A provider's word that a number wants no more SMS (AT's opt-out callback)."""

    provider: str
    phone: str


@dataclass(frozen=True)
class UssdSessionEnded:
    """The provider's notice that a USSD session is over, however it ended."""

    session_id: str
    phone: str
    status: Literal["completed", "incomplete", "failed"]
    duration_ms: int | None
    error: str | None


@dataclass(frozen=True)
class CallEvent:
    """A provider's callback about a call, normalised."""

    provider: str
    call_id: str                 # the provider's call/session id
    phone: str                   # the mother's number as the provider gave it; "": withheld
    direction: Literal["inbound", "outbound"]
    active: bool                 # False: the end-of-call notification
    keys: str | None             # what she pressed for the last prompt; None: the call has
                                 # just connected (no prompt yet); "": the prompt timed out
    turn: int | None             # the turn counter Kuma put in the action URL (?turn=N), if any;
                                 # the web layer adds the query's `turn` to the parsed form
    outcome: CallOutcome | None  # when ended: completed, no_answer, busy, failed, rejected
    duration_s: int | None
    cost: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class VoiceSegment:
    """One thing she hears: a recording to play, or its text read aloud."""

    url: str | None              # a recording to Play (absolute URL under PUBLIC_URL/media/…)
    text: str                    # what it says; read aloud (Say) when url is None
    language: str                # fr | bm (Say only for languages the flow lets be read aloud)


@dataclass(frozen=True)
class CallReply:
    """What Kuma answers a call's callback: what to play, and which keys to wait for."""

    segments: tuple[VoiceSegment, ...]
    keys: KeySpec | None         # None: hang up after playing
    action_url: str | None       # where the provider posts the keys (carries ?turn=N)
    reject: bool = False         # an inbound call refused before it is answered (free for her)


HANGUP = CallReply((), None, None)


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it accepted an SMS."""

    provider: str
    message_id: str
    status: MessageStatus
    cost: str | None


class SmsSender(Protocol):
    """Sends one SMS; raises gateway.errors.SendError with `retryable` set."""

    def send(self, to_e164: str, text: str) -> SendResult:
        """Send `text` to one E.164 number."""
        ...  # pragma: no cover


class LogSender:
    """An SmsSender that sends nothing: one log line with the masked number (SMS_OUTBOX=log)."""

    provider = "log"

    def send(self, to_e164: str, text: str) -> SendResult:
        """Log that an SMS would have gone to `to_e164`, and return status `logged`."""
        message_id = f"log-{uuid.uuid4().hex}"
        log.info("SMS to %s not sent (outbox is the log): %d characters",
                 mask_phone(to_e164), len(text), extra={"message_id": message_id})
        return SendResult(self.provider, message_id, MessageStatus.LOGGED, None)

    def close(self) -> None:
        """Release nothing; here so that every sender can be closed alike."""


class WebhookRequest:
    """A provider's webhook as the web layer hands it over: plain mappings, read lazily."""

    __slots__ = ("query", "remote_addr", "_form", "_headers", "_url")

    def __init__(self, *, query: Mapping[str, str], remote_addr: str | None,
                 form: Callable[[], Mapping[str, str]], headers: Callable[[], Mapping[str, str]],
                 url: Callable[[], str]) -> None:
        self.query = query
        self.remote_addr = remote_addr
        self._form, self._headers, self._url = form, headers, url

    @property
    def form(self) -> Mapping[str, str]:
        """Return the posted form fields."""
        return self._form()

    @property
    def headers(self) -> Mapping[str, str]:
        """Return the request's headers."""
        return self._headers()

    @property
    def url(self) -> str:
        """Return the URL the request was made to, as this server saw it."""
        return self._url()


@dataclass(frozen=True)
class Acknowledgement:
    """What a webhook answers once its request is taken."""

    body: str
    content_type: str = "text/plain"


OK = Acknowledgement("ok\n")

# "voice": a call's webhook, answered with render_call(runner.handle_call(event));
# "call_status": the end-of-call notification on a route of its own, answered OK.
WebhookKind = Literal["sms", "delivery", "ussd_ended", "opt_out", "voice", "call_status"]


@dataclass(frozen=True)
class Webhook:
    """One route of a provider: POST /webhooks/<provider>/<path>, endpoint <provider>_<name>."""

    name: str
    path: str
    kind: WebhookKind
    parse: Callable[[Mapping[str, str]],
                    InboundSms | DeliveryReport | UssdSessionEnded | OptOutNotice | CallEvent]
    doc: str
    label: str  # as `gateway serve` lists it, for whoever configures the provider
    answer: Acknowledgement = OK


class WebhookProvider(Protocol):
    """What every provider has, SMS or voice: its name, routes, callbacks and authentication."""

    name: str
    title: str  # for people: "Africa's Talking"
    webhooks: tuple[Webhook, ...]

    def callbacks(self, base: str, *, masked: bool = True) -> list[tuple[str, str]]:
        """Return (label, URL) of every callback to configure, secrets masked unless not."""
        ...  # pragma: no cover

    def warning(self) -> str | None:
        """Return what is unsafe in this configuration, for `gateway serve` to say."""
        ...  # pragma: no cover

    def authenticate(self, request: WebhookRequest) -> None:
        """Raise AuthenticationError unless the request is the provider's."""
        ...  # pragma: no cover


class Provider(WebhookProvider, Protocol):
    """One provider, configured from Settings: its webhooks, authentication and sending."""

    cost_per_segment: tuple[str, Decimal] | None  # an estimate when its answer has none

    def sender(self, timeout: float) -> SmsSender:
        """Return a sender through this provider's API."""
        ...  # pragma: no cover


class UssdProvider(Provider, Protocol):
    """A USSD aggregator: its endpoint, the rules of its `text` field, its screens."""

    ussd_path: str
    ussd_endpoint: str

    def parse_ussd(self, form: Mapping[str, str]) -> UssdRequest:
        """Parse one USSD request, or raise ChannelRequestError naming the field."""
        ...  # pragma: no cover

    def new_input(self, previous_text: str | None, text: str) -> str | None:
        """Return what she typed since `previous_text`; None on a repeated request."""
        ...  # pragma: no cover

    def follows(self, answered: str, text: str) -> bool:
        """Whether `text` is the request after (or a repeat of) the one that got `answered`."""
        ...  # pragma: no cover

    def center_extension(self, request: UssdRequest) -> str | None:
        """Return the centre extension a session's first request dialled, if any."""
        ...  # pragma: no cover

    def render(self, text: str, final: bool) -> str:
        """Return the response body of a screen; raise ReplyError if it does not fit."""
        ...  # pragma: no cover


class VoiceProvider(WebhookProvider, Protocol):
    """Calls through one provider: its routes (kinds "voice", "call_status"), XML, placing calls.

    Listed in `registry.VOICE_PROVIDERS`, apart from the SMS providers: a voice provider
    sends no SMS. Its routes are POST /webhooks/<name>/<path> like the others'.
    """

    def parse_call(self, form: Mapping[str, str]) -> CallEvent:
        """Parse one call callback, or raise ChannelRequestError naming the field."""
        ...  # pragma: no cover

    def render_call(self, reply: CallReply) -> Acknowledgement:
        """Return the provider's answer to a call callback (AT voice XML, TwiML)."""
        ...  # pragma: no cover

    def place_call(self, to_e164: str, *, answer_url: str, status_url: str) -> str:
        """Place a call through the provider's SDK; return its call id, or raise SendError."""
        ...  # pragma: no cover


def mask_phone(phone: str | None) -> str:
    """Mask a phone number for logs: keep the country code and the last 2 digits."""
    return phones.mask(phone) if phone else "<none>"


def text_field(form: Mapping[str, str], name: str, *, required: bool = True,
               allow_empty: bool = False, max_length: int = MAX_ID,
               free_text: bool = False) -> str | None:
    """Return form field `name` as a string, or raise ChannelRequestError naming it.

    Every provider parser reads its fields here, so control characters meet one rule on
    every endpoint: in an identifier (the default) they are a 400 naming the field; in
    `free_text` (what a person typed, a provider's reason) they are removed.
    """
    value = form.get(name)
    if value is None:
        if required:
            raise ChannelRequestError(f"field {name!r} is missing")
        return None
    if not isinstance(value, str):
        raise ChannelRequestError(f"field {name!r} must be text, not {type(value).__name__}")
    if len(value) > max_length:
        raise ChannelRequestError(f"field {name!r} is longer than {max_length} characters")
    if free_text:
        value = clean_text(value)
    elif _CONTROL.search(value):
        raise ChannelRequestError(f"field {name!r} holds a control character")
    if value.strip() == "" and not allow_empty:
        if required:
            raise ChannelRequestError(f"field {name!r} is empty")
        return None
    return value


def clean_text(text: str) -> str:
    """Remove control characters from free text, keeping tabs and line breaks."""
    return _CONTROL_IN_TEXT.sub("", text)


def int_field(form: Mapping[str, str], name: str) -> int | None:
    """Return optional form field `name` as a non-negative int, or raise naming it."""
    value = text_field(form, name, required=False, max_length=20)
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        raise ChannelRequestError(f"field {name!r} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ChannelRequestError(f"field {name!r} must not be negative")
    return number


def time_field(form: Mapping[str, str], name: str) -> datetime | None:
    """Return optional form field `name` as an aware UTC datetime, or raise naming it."""
    # Free text: a control character makes it unreadable (ignored), not the request a 400.
    value = text_field(form, name, required=False, max_length=40, free_text=True)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        # Informative only: refusing the request would refuse her message on every retry.
        log.warning("field %r is not a date and time: ignored", name)
        return None
    # Providers send UTC; a naive value is read as UTC rather than the server's zone.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def status_field(form: Mapping[str, str], name: str,
                 table: Mapping[str, MessageStatus]) -> MessageStatus:
    """Map required status field `name` through a provider's table, or raise naming it."""
    value = text_field(form, name, max_length=MAX_CODE)
    assert value is not None
    # Providers' documented spellings vary in case ("UserInBlacklist"/"UserInBlackList").
    lookup = {key.lower(): status for key, status in table.items()}
    status = lookup.get(value.strip().lower())
    if status is None:
        raise ChannelRequestError(f"field {name!r} has an unknown status {value!r}")
    return status
