"""Twilio: incoming SMS, status callbacks, signatures, TwiML replies, and sending.

Webhooks are signed form POSTs (header X-Twilio-Signature); field names and statuses
follow Twilio's Messaging docs ("Messaging webhooks", "Message resource"). `Twilio` is
the whole protocol as configured: its routes (`WEBHOOKS`), signatures and sending.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from gateway.channels.base import (
    MAX_ID, MAX_PHONE, MAX_REASON, MAX_SMS_TEXT, Acknowledgement, DeliveryReport, InboundSms,
    MessageStatus, SendResult, Webhook, WebhookRequest, mask_phone, status_field, text_field)
from gateway.errors import (AuthenticationError, ChannelRequestError, RecipientOptedOutError,
                            SendError)
from gateway.settings import Settings

log = logging.getLogger(__name__)

PROVIDER = "twilio"
API_HOST = "https://api.twilio.com"

# Message resource `status` (also a status callback's `MessageStatus`) → ours.
# "receiving"/"received" belong to inbound messages and never reach a status callback.
STATUSES: dict[str, MessageStatus] = {
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "queued": MessageStatus.QUEUED,
    "sending": MessageStatus.QUEUED,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "partially_delivered": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}

OPT_OUT_CODE = "21610"

# Error codes seen in status callbacks and API errors, worded for the messages list.
ERROR_REASONS = {
    "21211": "invalid 'To' phone number",
    "21408": "permission to send to this region is not enabled",
    "21610": "recipient unsubscribed (replied STOP)",
    "21612": "cannot route to this number",
    "21614": "'To' number is not a mobile number",
    "30003": "unreachable destination handset",
    "30004": "message blocked",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "filtered by the carrier",
    "30008": "unknown error",
}

# API error codes worth retrying: rate limits and queue overflow.
RETRYABLE_CODES = frozenset({20429, 30001, 14107})


# --- webhooks ---------------------------------------------------------------------------

def parse_sms(form: Mapping[str, str]) -> InboundSms:
    """Parse an incoming-message webhook (MessageSid, From, To, Body, …)."""
    return InboundSms(
        provider=PROVIDER,
        message_id=_message_sid(form),
        phone=text_field(form, "From", max_length=MAX_PHONE),
        to=text_field(form, "To", max_length=MAX_PHONE),
        # A media message may come with no Body at all (NumMedia=2, MediaUrl0=…): its
        # text is empty, and she gets the re-prompt as for any unreadable answer.
        text=text_field(form, "Body", required=False, allow_empty=True,
                        max_length=MAX_SMS_TEXT, free_text=True) or "",
        received_at=None,
        link_id=None,
    )


def parse_status(form: Mapping[str, str]) -> DeliveryReport:
    """Parse a status callback (MessageSid, MessageStatus, ErrorCode, …)."""
    error_code = text_field(form, "ErrorCode", required=False, max_length=10)
    if error_code is not None:
        error_code = error_code.strip()
        if not error_code.isdigit():
            raise ChannelRequestError(f"field 'ErrorCode' must be a number, not {error_code!r}")
    reason = text_field(form, "ErrorMessage", required=False, max_length=MAX_REASON,
                        free_text=True)
    return DeliveryReport(
        provider=PROVIDER,
        message_id=_message_sid(form),
        status=status_field(form, "MessageStatus", STATUSES),
        error_code=error_code,
        failure_reason=reason or ERROR_REASONS.get(error_code or ""),
        opted_out=error_code == OPT_OUT_CODE,
        # Only an opt-out needs the number: it is opted out even if the message is unknown.
        recipient=(text_field(form, "To", required=False, max_length=MAX_PHONE)
                   if error_code == OPT_OUT_CODE else None),
    )


def _message_sid(form: Mapping[str, str]) -> str:
    # SmsSid is the older name Twilio still sends next to MessageSid.
    if form.get("MessageSid") is None and form.get("SmsSid") is not None:
        return text_field(form, "SmsSid", max_length=MAX_ID)
    return text_field(form, "MessageSid", max_length=MAX_ID)


def check_signature(auth_token: str, url: str, form: Mapping[str, str],
                    signature: str | None, *, settings_header: str | None = None) -> None:
    """Raise AuthenticationError unless `signature` is Twilio's for `url` and `form`.

    `settings_header` is X-Twilio-Webhooks-Signature-Settings, which names the algorithm
    when the webhook is signed with a shared key instead of the auth token.
    """
    if not signature:
        raise AuthenticationError("X-Twilio-Signature header is missing")
    validator = RequestValidator(auth_token)
    if not validator.validate(url, form, signature, get_signature_algorithm(settings_header)):
        raise AuthenticationError(f"X-Twilio-Signature does not match the request to {url}")


def public_url(request_url: str, headers: Mapping[str, str], *, trust_forwarded: bool,
               public_base: str | None) -> str:
    """Rebuild the URL Twilio requested (and signed) when a reverse proxy stands between.

    A configured `public_base` ("https://kuma.example.org/gw") wins; otherwise, only
    when the proxy is trusted, X-Forwarded-Proto and X-Forwarded-Host replace the scheme
    and host. Path and query always come from `request_url`.
    """
    parts = urlsplit(request_url)
    if public_base:
        base = urlsplit(public_base.rstrip("/"))
        return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))
    if not trust_forwarded:
        return request_url
    scheme = _first_header(headers, "X-Forwarded-Proto") or parts.scheme
    host = _first_header(headers, "X-Forwarded-Host") or parts.netloc
    return urlunsplit((scheme, host, parts.path, parts.query, ""))


def _first_header(headers: Mapping[str, str], name: str) -> str | None:
    # A chain of proxies appends: "https, http"; the first is what the client used.
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted and value:
            return value.split(",")[0].strip() or None
    return None


def render_twiml(messages: Iterable[str] = ()) -> str:
    """Return a TwiML <Response> that replies with each of `messages` (none: empty)."""
    response = MessagingResponse()
    for text in messages:
        response.message(text)
    return str(response)


# --- sending ----------------------------------------------------------------------------

class RebasedHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, sending what it builds for api.twilio.com to another base.

    Used for a loopback stand-in in tests, or a regional proxy; the SDK still builds the
    request (path, form, auth, headers).
    """

    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._api_base = api_base.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(API_HOST):
            url = self._api_base + url[len(API_HOST):]
        return super().request(method, url, *args, **kwargs)


class TwilioSender:
    """Send SMS through Twilio's Messages API with the official SDK's Client."""

    provider = PROVIDER

    def __init__(self, account_sid: str, auth_token: str, from_: str, *,
                 api_base: str | None = None, timeout: float = 10,
                 status_callback: str | None = None) -> None:
        if api_base:
            self._http = RebasedHttpClient(api_base, timeout)
        else:
            self._http = TwilioHttpClient(timeout=timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._from = from_
        self._status_callback = status_callback

    def send(self, to_e164: str, text: str) -> SendResult:
        """Send `text` to `to_e164`; raise SendError (retryable or not) on failure."""
        masked = mask_phone(to_e164)
        sender = {"from_": self._from}
        # A Messaging Service SID ("MG…") sends from its own pool of numbers.
        if self._from.startswith("MG"):
            sender = {"messaging_service_sid": self._from}
        try:
            message = self._client.messages.create(
                to=to_e164, body=text, status_callback=self._status_callback, **sender)
        except TwilioRestException as exc:
            raise _send_error(exc, masked) from None
        except requests.RequestException as exc:
            raise SendError(f"Twilio unreachable: {type(exc).__name__}", retryable=True) from exc
        status = STATUSES.get(message.status or "", MessageStatus.QUEUED)
        cost = f"{message.price} {message.price_unit}" if message.price else None
        log.info("SMS to %s accepted by Twilio as %s (%s)", masked, message.sid, status.value,
                 extra={"message_id": message.sid})
        return SendResult(PROVIDER, message.sid, status, cost)

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        if self._http.session is not None:
            self._http.session.close()


def _send_error(exc: TwilioRestException, masked: str) -> SendError:
    """Translate an API error into SendError, retryable for rate limits and 5xx."""
    code = str(exc.code) if exc.code is not None else None
    reason = ERROR_REASONS.get(code or "", exc.msg or "error")
    message = f"Twilio refused the SMS to {masked}: HTTP {exc.status}, {code}: {reason}"
    if code == OPT_OUT_CODE:
        return RecipientOptedOutError(message, provider_code=code)
    retryable = exc.status >= 500 or exc.status == 429 or exc.code in RETRYABLE_CODES
    return SendError(message, retryable=retryable, provider_code=code or f"HTTP {exc.status}")


# --- the provider -----------------------------------------------------------------------

WEBHOOKS = (
    Webhook("sms", "sms", "sms", parse_sms,
            "Take an incoming Twilio SMS; answer with empty TwiML (the reply is sent by a job).",
            "incoming SMS (A message comes in)", Acknowledgement(render_twiml(), "text/xml")),
    Webhook("status", "status", "delivery", parse_status, "Take a Twilio status callback.",
            "status callback"),
)


class Twilio:
    """Twilio as Settings configure it: signed webhooks and sending."""

    name = PROVIDER
    title = "Twilio"
    webhooks = WEBHOOKS
    cost_per_segment = ("USD", Decimal("0.2"))  # the price arrives later, in the callback

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def callbacks(self, base: str, *, masked: bool = True) -> list[tuple[str, str]]:
        """Return (label, URL) of every callback; Twilio signs them, no token needed."""
        return [(hook.label, f"{base}/webhooks/{PROVIDER}/{hook.path}") for hook in WEBHOOKS]

    def warning(self) -> str | None:
        """Nothing to say: an unsigned request is refused."""
        return None

    def authenticate(self, request: WebhookRequest) -> None:
        """Raise AuthenticationError unless Twilio signed the request."""
        settings = self.settings
        if not settings.twilio_auth_token:
            raise AuthenticationError("Twilio is not configured here (TWILIO_AUTH_TOKEN unset)")
        headers = request.headers
        url = public_url(request.url, headers, trust_forwarded=settings.twilio_trust_forwarded,
                         public_base=settings.public_url)
        # The form as it came, every value of a repeated key: the SDK's validator signs
        # them all (it reads a MultiDict's getlist).
        check_signature(settings.twilio_auth_token, url, request.form,
                        headers.get("X-Twilio-Signature"),
                        settings_header=headers.get("X-Twilio-Webhooks-Signature-Settings"))

    def sender(self, timeout: float) -> TwilioSender:
        """Return a sender through Twilio's Messages API, with status callbacks if public."""
        settings = self.settings
        callback = (f"{settings.public_url}/webhooks/{PROVIDER}/status" if settings.public_url
                    else None)
        return TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token,
                            settings.twilio_from, api_base=settings.twilio_api_base,
                            timeout=timeout, status_callback=callback)
