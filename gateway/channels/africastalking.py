"""Africa's Talking: USSD, incoming SMS, delivery reports, session notices, and sending.

Webhooks are `application/x-www-form-urlencoded` POSTs; parse them from any
`Mapping[str, str]` (a Werkzeug MultiDict or a dict). Field names and statuses follow
AT's documentation (developers.africastalking.com: USSD, SMS notifications).
`AfricasTalking` is the whole protocol as configured: its routes (`WEBHOOKS` and the
USSD endpoint), authentication, the rules of USSD's `text`, screens and sending.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from decimal import Decimal

import requests
from africastalking.Service import validate_phone
from africastalking.SMS import SMSService

from gateway.channels.base import (
    MAX_CODE, MAX_PHONE, MAX_REASON, MAX_SMS_TEXT, MAX_USSD_TEXT, DeliveryReport,
    InboundSms, MessageStatus, OptOutNotice, SendResult, UssdRequest, UssdSessionEnded, Webhook,
    WebhookRequest, int_field, mask_phone, status_field, text_field, time_field)
from gateway.errors import (AuthenticationError, ChannelRequestError, RecipientOptedOutError,
                            ReplyError, SendError)
from gateway.logmask import MASK
from gateway.settings import Settings

log = logging.getLogger(__name__)

PROVIDER = "africastalking"

# The whole USSD body, "CON "/"END " included, that AT passes on to the handset.
USSD_MAX_CHARS = 182

# Delivery report `status` values (SMS notifications, "Delivery reports"). "Sent",
# "Submitted" and "Buffered" are steps on the way; the other three are final. AT has
# also been seen to report "AbsentSubscriber" and "Expired" for numbers out of reach.
DELIVERY_STATUSES: dict[str, MessageStatus] = {
    "Sent": MessageStatus.SENT,
    "Submitted": MessageStatus.SENT,
    "Buffered": MessageStatus.SENT,
    "Success": MessageStatus.DELIVERED,
    "Rejected": MessageStatus.REJECTED,
    "Failed": MessageStatus.FAILED,
    "AbsentSubscriber": MessageStatus.UNDELIVERED,
    "Expired": MessageStatus.UNDELIVERED,
}

# `failureReason` values that mean the person does not want our messages (compared
# without case: AT's docs spell it both "UserInBlacklist" and "UserInBlackList").
OPT_OUT_REASONS = frozenset({"userinblacklist", "useroptedout", "sendernameblacklisted"})

# USSD session notification `status` → how the session ended.
SESSION_STATUSES = {"success": "completed", "incomplete": "incomplete", "failed": "failed"}

# Send response `statusCode` per recipient: 100 Processed, 101 Sent, 102 Queued.
SEND_OK: dict[int, MessageStatus] = {
    100: MessageStatus.QUEUED,
    101: MessageStatus.SENT,
    102: MessageStatus.QUEUED,
}

# Send failures per `statusCode`: (name, retryable). Retryable means the same request
# may succeed later with no change on our side: a top-up, a route or gateway coming back.
SEND_FAILURES: dict[int, tuple[str, bool]] = {
    401: ("RiskHold", False),
    402: ("InvalidSenderId", False),
    403: ("InvalidPhoneNumber", False),
    404: ("UnsupportedNumberType", False),
    405: ("InsufficientBalance", True),
    406: ("UserInBlacklist", False),
    407: ("CouldNotRoute", True),
    500: ("InternalServerError", True),
    501: ("GatewayError", True),
    502: ("RejectedByGateway", False),
}

_SERVICE_CODE = re.compile(r"^\*?[0-9]+(\*[0-9]+)*#?$")


# --- webhooks ---------------------------------------------------------------------------

def parse_ussd(form: Mapping[str, str]) -> UssdRequest:
    """Parse a USSD callback (sessionId, serviceCode, phoneNumber, networkCode, text)."""
    service_code = text_field(form, "serviceCode", max_length=MAX_CODE).strip()
    if not _SERVICE_CODE.match(service_code):
        raise ChannelRequestError(f"field 'serviceCode' is not a USSD code: {service_code!r}")
    return UssdRequest(
        session_id=text_field(form, "sessionId"),
        phone=text_field(form, "phoneNumber", max_length=MAX_PHONE),
        service_code=service_code,
        network_code=text_field(form, "networkCode", required=False, max_length=MAX_CODE),
        # Empty on the dial that opens the session; some simulators leave it out.
        text=text_field(form, "text", required=False, allow_empty=True,
                        max_length=MAX_USSD_TEXT, free_text=True) or "",
    )


def parse_sms(form: Mapping[str, str]) -> InboundSms:
    """Parse an incoming SMS callback (from, to, text, date, id, linkId)."""
    return InboundSms(
        provider=PROVIDER,
        message_id=text_field(form, "id"),
        phone=text_field(form, "from", max_length=MAX_PHONE),
        to=text_field(form, "to", max_length=MAX_PHONE),
        text=text_field(form, "text", allow_empty=True, max_length=MAX_SMS_TEXT,
                        free_text=True),
        received_at=time_field(form, "date"),
        link_id=text_field(form, "linkId", required=False),
    )


def parse_delivery(form: Mapping[str, str]) -> DeliveryReport:
    """Parse a delivery report (id, status, phoneNumber, networkCode, failureReason, retryCount)."""
    int_field(form, "retryCount")
    reason = text_field(form, "failureReason", required=False, max_length=MAX_REASON,
                        free_text=True)
    opted_out = reason is not None and reason.strip().lower() in OPT_OUT_REASONS
    return DeliveryReport(
        provider=PROVIDER,
        message_id=text_field(form, "id"),
        status=status_field(form, "status", DELIVERY_STATUSES),
        error_code=None,
        failure_reason=reason,
        opted_out=opted_out,
    )


def parse_ussd_event(form: Mapping[str, str]) -> UssdSessionEnded:
    """Parse a USSD session notification (sessionId, phoneNumber, status, durationInMillis…)."""
    raw_status = text_field(form, "status", max_length=MAX_CODE)
    status = SESSION_STATUSES.get(raw_status.strip().lower())
    if status is None:
        raise ChannelRequestError(f"field 'status' has an unknown session status {raw_status!r}")
    return UssdSessionEnded(
        session_id=text_field(form, "sessionId"),
        phone=text_field(form, "phoneNumber", max_length=MAX_PHONE),
        status=status,
        duration_ms=int_field(form, "durationInMillis"),
        error=text_field(form, "errorMessage", required=False, max_length=MAX_REASON,
                         free_text=True),
    )


def parse_optout(form: Mapping[str, str]) -> OptOutNotice:
    """Parse a bulk-SMS opt-out notification (senderId, phoneNumber)."""
    text_field(form, "senderId", required=False, max_length=MAX_CODE)
    return OptOutNotice(PROVIDER, text_field(form, "phoneNumber", max_length=MAX_PHONE))


def authenticate(token: str | None, source_ip: str | None, *, expected_token: str | None,
                 allowed_networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]
                 ) -> None:
    """Raise AuthenticationError unless a webhook has our token and comes from AT's networks."""
    check_token(token, expected_token)
    check_source(source_ip, allowed_networks)


def check_token(given: str | None, expected: str | None) -> None:
    """Raise AuthenticationError unless `given` equals the configured webhook token.

    With no token configured (`expected` None or empty) every request passes: the
    settings decide whether running without one is allowed.
    """
    if not expected:
        return
    if not given:
        raise AuthenticationError("webhook token is missing")
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise AuthenticationError("webhook token is wrong")


def check_source(ip: str | None,
                 networks: Iterable[str | ipaddress.IPv4Network | ipaddress.IPv6Network]) -> None:
    """Raise AuthenticationError unless `ip` is in one of `networks` (none given: any)."""
    allowed = [net if isinstance(net, (ipaddress.IPv4Network, ipaddress.IPv6Network))
               else ipaddress.ip_network(net, strict=False) for net in networks]
    if not allowed:
        return
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        raise AuthenticationError(f"source address {ip!r} is not an IP address") from None
    if not any(address in net for net in allowed):
        # Behind a reverse proxy every request comes from the proxy: say so, or a whole
        # deployment refuses AT with a message that hides why.
        hint = ("; behind a reverse proxy, restrict AT's ranges in the proxy and leave "
                "AT_ALLOWED_NETWORKS empty") if address.is_loopback or address.is_private else ""
        raise AuthenticationError(
            f"source address {address} is not in the allowed networks{hint}")


# --- USSD input -------------------------------------------------------------------------

def new_input(previous_text: str | None, text: str) -> str | None:
    """Return the one new input in `text`, given the session's previous `text`; None on a retry.

    `previous_text` None means this is the session's first request: `text` is returned
    whole ("" when the person has only dialled). The previous text is used as a prefix,
    never split, so a free-text answer holding `*` comes back intact.
    """
    if previous_text is None:
        return text
    if text == previous_text:
        return None
    if previous_text == "":
        return text
    if text.startswith(previous_text + "*"):
        return text[len(previous_text) + 1:]
    # Not an extension of what we saw: an aggregator that sends only the latest input,
    # or a request we missed. The last part is the best guess at what was just typed.
    log.warning("USSD text does not extend the previous one; taking its last part")
    return text.rsplit("*", 1)[-1]


def split_service_code(service_code: str, text: str, *,
                       base_codes: Iterable[str] = ()) -> tuple[str, str | None, str]:
    """Split a dialled code into (base code, centre extension or None, remaining text).

    Call it on a session's first request. The extension comes either in `service_code`
    ("*384*123*07#") or, with the base code there, as the first part of `text` ("07").
    Without `base_codes`, a code of more than two parts is read as base + extension.
    """
    body = service_code.strip().strip("#").lstrip("*")
    parts = body.split("*") if body else []
    bases = sorted((b.strip().strip("#").lstrip("*") for b in base_codes), key=len, reverse=True)
    base_len = None
    for base in bases:
        if body == base or body.startswith(base + "*"):
            base_len = len(base.split("*"))
            break
    if base_len is None:
        if bases or not parts:
            # A code that is none of ours: nothing to split.
            return service_code.strip(), None, text
        base_len = min(len(parts), 2)
    base_code = "*" + "*".join(parts[:base_len]) + "#"
    # Parts after the base, in the code or (when the aggregator moved them) in the text.
    extra = parts[base_len:] + ([text] if text else [])
    if not extra:
        return base_code, None, ""
    first, _, rest = "*".join(extra).partition("*")
    return base_code, first, rest


def follows(answered: str, text: str) -> bool:
    """Whether `text` is the request after (or a repeat of) the one that got `answered`.

    AT's text grows by one `*`-separated input per screen. A free-text answer holding `*`
    fails this test too: the turn then reads the state first, which is merely slower.
    """
    return text == answered or text.rpartition("*")[0] == answered


def render_ussd(text: str, final: bool) -> str:
    """Return the USSD response body: "END text" when `final`, else "CON text"."""
    body = ("END " if final else "CON ") + text
    if len(body) > USSD_MAX_CHARS:
        raise ReplyError(f"USSD reply is {len(body)} characters; at most {USSD_MAX_CHARS} fit")
    return body


# --- sending ----------------------------------------------------------------------------

class _HttpError(Exception):
    """A non-2xx answer from AT's API, with its status kept (the SDK drops it)."""

    def __init__(self, status: int, text: str) -> None:
        self.status = status
        self.text = text
        super().__init__(f"HTTP {status}: {text[:200]}")


class SdkSession:
    """An SDK service whose one HTTP seam, `_make_request`, goes through our session.

    The SDK builds the URL, headers and form; `_make_request` is its one HTTP seam. Ours
    keeps the status code of a failure (the SDK's exception has only the body) and pools
    connections, and its (connect, read) timeout means a provider that stops answering
    cannot hold a worker: each wait on the socket ends after `timeout` seconds. RQ's job
    timeout bounds the whole job. A subclass names the service's path under `api_base`.
    """

    api_path: str

    def __init__(self, username: str, api_key: str, *, api_base: str | None,
                 timeout: float) -> None:
        super().__init__(username, api_key)
        if api_base:
            self._baseUrl = api_base.rstrip("/") + self.api_path
        self._timeout = (min(3.05, timeout), timeout)
        self._session = requests.Session()

    def _make_request(self, url, method, headers, data, params, callback=None,
                      timeout=None):
        response = self._session.request(method, url, headers=headers, data=data,
                                         params=params, timeout=self._timeout)
        if not 200 <= response.status_code < 300:
            raise _HttpError(response.status_code, response.text)
        try:
            return response.json()
        except ValueError:
            return response.text


class _SMSService(SdkSession, SMSService):
    """The SDK's SMS service, its HTTP call made through our session with our timeout."""

    api_path = "/version1"

    def close(self) -> None:
        self._session.close()


class AfricasTalkingSender:
    """Send SMS through Africa's Talking's bulk SMS API with the official SDK."""

    provider = PROVIDER

    def __init__(self, username: str, api_key: str, sender: str | None, *,
                 api_base: str | None = None, timeout: float = 10) -> None:
        self._service = _SMSService(username, api_key, api_base=api_base, timeout=timeout)
        self._sender = sender or None

    def send(self, to_e164: str, text: str) -> SendResult:
        """Send `text` to `to_e164`; raise SendError (retryable or not) on failure."""
        masked = mask_phone(to_e164)
        # The same check the SDK makes, done first so that its ValueError cannot be
        # confused with another one.
        if not validate_phone(to_e164):
            raise SendError(f"Africa's Talking: {masked} is not an E.164 number",
                            retryable=False, provider_code="InvalidPhoneNumber")
        try:
            answer = self._service.send(text, [to_e164], sender_id=self._sender)
        except requests.RequestException as exc:
            raise SendError(f"Africa's Talking unreachable: {type(exc).__name__}",
                            retryable=True) from exc
        except _HttpError as exc:
            retryable = exc.status >= 500 or exc.status == 429
            raise SendError(f"Africa's Talking answered HTTP {exc.status}: {exc.text[:200]}",
                            retryable=retryable, provider_code=f"HTTP {exc.status}") from None
        result = _send_result(answer, masked)
        log.info("SMS to %s accepted by Africa's Talking as %s (%s)", masked,
                 result.message_id, result.status.value, extra={"message_id": result.message_id})
        return result

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        self._service.close()


def _send_result(answer: object, masked: str) -> SendResult:
    """Read the one recipient of a send response into a SendResult, or raise SendError."""
    try:
        data = answer["SMSMessageData"]  # type: ignore[index]
        recipients = data["Recipients"]
    except (TypeError, KeyError):
        # The request reached AT and may have been sent: retrying could send it twice.
        raise SendError(f"Africa's Talking gave an unreadable answer: {str(answer)[:200]}",
                        retryable=False) from None
    if not recipients:
        # AT refuses the whole request this way, e.g. Message "InvalidSenderId".
        reason = str(data.get("Message", "no recipient accepted"))
        raise SendError(f"Africa's Talking refused the SMS to {masked}: {reason}",
                        retryable=False, provider_code=reason)
    first = recipients[0]
    try:
        code = int(first.get("statusCode"))
    except (TypeError, ValueError):
        code = None
    name = str(first.get("status", ""))
    if code in SEND_OK and first.get("messageId"):
        return SendResult(PROVIDER, str(first["messageId"]), SEND_OK[code],
                          first.get("cost") or None)
    known, retryable = SEND_FAILURES.get(code, (name or "unknown", False))
    message = f"Africa's Talking refused the SMS to {masked}: {code} {name or known}"
    if code == 406:
        raise RecipientOptedOutError(message, provider_code=str(code))
    raise SendError(message, retryable=retryable, provider_code=str(code))


# --- the provider -----------------------------------------------------------------------

WEBHOOKS = (
    Webhook("ussd_events", "ussd/events", "ussd_ended", parse_ussd_event,
            "Take AT's notice that a USSD session ended (Success, Incomplete or Failed).",
            "USSD end-of-session events"),
    Webhook("sms", "sms", "sms", parse_sms,
            "Take an incoming SMS; the reply goes out as an outbound SMS from the worker.",
            "incoming SMS"),
    Webhook("delivery", "delivery", "delivery", parse_delivery, "Take an AT delivery report.",
            "SMS delivery reports"),
    Webhook("optout", "optout", "opt_out", parse_optout,
            "Take AT's notice that a number opted out of bulk SMS; opt the contact out.",
            "bulk SMS opt-out notifications"),
)


NO_TOKEN = ("AT_WEBHOOK_TOKEN is not set: Africa's Talking callbacks are refused (403); set "
            "it, then copy the callback URLs from `gateway webhooks urls`")


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address((address or "").strip()).is_loopback
    except ValueError:
        return False


class AfricasTalking:
    """Africa's Talking as Settings configure it: webhooks, USSD and sending."""

    name = PROVIDER
    title = "Africa's Talking"
    webhooks = WEBHOOKS
    ussd_path = "/webhooks/africastalking/ussd"
    ussd_endpoint = "webhooks.africastalking_ussd"  # its name in metrics and logs
    cost_per_segment = ("XOF", Decimal("15"))

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def callbacks(self, base: str, *, masked: bool = True) -> list[tuple[str, str]]:
        """Return (label, URL) of every callback, with the token if set (masked, or escaped)."""
        token = self.settings.at_webhook_token
        # Percent-encoded whole: a token with + / = must reach us as it is, not as a space.
        query = f"?token={MASK if masked else urllib.parse.quote(token, safe='')}" if token else ""
        return [("USSD callback", f"{base}{self.ussd_path}{query}"),
                *((hook.label, f"{base}/webhooks/{PROVIDER}/{hook.path}{query}")
                  for hook in WEBHOOKS)]

    def warning(self) -> str | None:
        """Say so when AT's callbacks are not authenticated, or refused for want of a token."""
        if self.settings.at_webhook_token:
            return None
        if self.settings.at_webhook_open_on_loopback:
            return ("AT_WEBHOOK_TOKEN is not set: Africa's Talking callbacks from this machine "
                    "are not authenticated")
        return NO_TOKEN

    def authenticate(self, request: WebhookRequest) -> None:
        """Raise AuthenticationError unless the request has our token and comes from AT."""
        settings = self.settings
        if not settings.at_webhook_token and not (
                settings.at_webhook_open_on_loopback and _is_loopback(request.remote_addr)):
            log.warning("%s", NO_TOKEN)
            raise AuthenticationError("AT_WEBHOOK_TOKEN is not set")
        authenticate(request.query.get("token"), request.remote_addr,
                     expected_token=settings.at_webhook_token,
                     allowed_networks=settings.at_allowed_networks)

    def parse_ussd(self, form: Mapping[str, str]) -> UssdRequest:
        """Parse one USSD request."""
        return parse_ussd(form)

    def new_input(self, previous_text: str | None, text: str) -> str | None:
        """Return what she typed since `previous_text`; None on a repeated request."""
        return new_input(previous_text, text)

    def follows(self, answered: str, text: str) -> bool:
        """Whether `text` is the request after (or a repeat of) the one that got `answered`."""
        return follows(answered, text)

    def center_extension(self, request: UssdRequest) -> str | None:
        """Return the centre extension the first request dialled (`*384*123*07#`), if any."""
        _, extension, _ = split_service_code(request.service_code, request.text,
                                             base_codes=self.settings.at_ussd_base_codes)
        return extension

    def render(self, text: str, final: bool) -> str:
        """Return the screen's body, `CON `/`END ` first; ReplyError past 182 characters."""
        return render_ussd(text, final)

    def sender(self, timeout: float) -> AfricasTalkingSender:
        """Return a sender through AT's bulk SMS API."""
        settings = self.settings
        return AfricasTalkingSender(settings.at_username, settings.at_api_key,
                                    settings.at_sender, api_base=settings.at_api_base,
                                    timeout=timeout)
