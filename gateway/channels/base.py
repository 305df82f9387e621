"""Normalised values every provider module produces, and helpers they share.

Provider modules (africastalking.py, twilio.py) turn webhooks into these frozen values
and send through the `SmsSender` protocol. Nothing here knows flows, storage or Redis.
Phone numbers pass through as the provider gave them: normalising is gateway.phones' job.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal, Protocol

from gateway import phones
from gateway.errors import ChannelRequestError
# One enum for the whole gateway (the models store it); re-exported for channel users.
from gateway.statuses import MessageStatus

log = logging.getLogger(__name__)

# Generous ceilings: a legitimate provider never comes close, a forged request that
# tries to fill memory or the database with one field is refused.
MAX_ID = 128
MAX_PHONE = 40
MAX_CODE = 40
MAX_USSD_TEXT = 2000
MAX_SMS_TEXT = 5000
MAX_REASON = 500


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


@dataclass(frozen=True)
class UssdSessionEnded:
    """The provider's notice that a USSD session is over, however it ended."""

    session_id: str
    phone: str
    status: Literal["completed", "incomplete", "failed"]
    duration_ms: int | None
    error: str | None


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


def mask_phone(phone: str | None) -> str:
    """Mask a phone number for logs: keep the country code and the last 2 digits."""
    return phones.mask(phone) if phone else "<none>"


def text_field(form: Mapping[str, str], name: str, *, required: bool = True,
               allow_empty: bool = False, max_length: int = MAX_ID) -> str | None:
    """Return form field `name` as a string, or raise ChannelRequestError naming it."""
    value = form.get(name)
    if value is None:
        if required:
            raise ChannelRequestError(f"field {name!r} is missing")
        return None
    if not isinstance(value, str):
        raise ChannelRequestError(f"field {name!r} must be text, not {type(value).__name__}")
    if len(value) > max_length:
        raise ChannelRequestError(f"field {name!r} is longer than {max_length} characters")
    if value.strip() == "" and not allow_empty:
        if required:
            raise ChannelRequestError(f"field {name!r} is empty")
        return None
    return value


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
    value = text_field(form, name, required=False, max_length=40)
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
