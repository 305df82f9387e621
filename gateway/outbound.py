"""Outbound SMS leave here: the send job, delivery reports, and the shared send rate.

`send_message(message_id)` is the RQ job `gateway.outbox.dispatch` enqueues after commit;
`record_delivery(...)` is the job the delivery-report webhooks enqueue. Both build their
services with `for_worker()` and do their work in a function that takes `services`
(`deliver`, `apply_delivery`), which tests call directly too.

A message is sent at most once however often its job runs: a run that finds it no longer
`queued` does nothing, and a run only calls the provider after claiming the message in
Redis (one sender at a time) and in SQL (a compare-and-set on `attempts`).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable
from decimal import Decimal

import redis
import rq
import sqlalchemy as sa

from gateway import invitations
from gateway.channels.africastalking import AfricasTalkingSender
from gateway.channels.base import LogSender, SmsSender, mask_phone
from gateway.channels.ratelimit import RateLimiter
from gateway.channels.twilio import TwilioSender
from gateway.db import session_scope
from gateway.errors import PhoneTokenError, RecipientOptedOutError, SendError
from gateway.models import Contact, MessagePurpose, MessageStatus, OutboundMessage, utcnow
from gateway.services import Services, for_worker
from gateway.settings import Settings

log = logging.getLogger(__name__)

SEND_JOB = "gateway.outbound.send_message"
SEND_RETRY = rq.Retry(max=5, interval=[10, 60, 300, 900, 3600])
SEND_TIMEOUT = 10  # seconds a provider may take per socket wait (see channels)

CLAIM_KEY = "kuma:sending:{message_id}"
# Longer than a send can take (connect + read timeouts, the SDK's own work), so that a
# claim is only ever taken over from a worker that died mid-send.
CLAIM_TTL = 5 * SEND_TIMEOUT
RATE_KEY = "kuma:send-rate:{provider}"
MAX_SLEEP = 2.0  # a longer wait for the rate limit gives the worker back (job rescheduled)
EARLY_TOLERANCE = dt.timedelta(seconds=1)

# How far a status has come; a report never moves a message back (a late `sent` after
# `delivered`). A carrier may deliver after a first failure report, so delivered ranks
# above the failures; opted_out is our own final word.
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.FAILED: 2,
    MessageStatus.UNDELIVERED: 2,
    MessageStatus.REJECTED: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.OPTED_OUT: 4,
    MessageStatus.LOGGED: 4,
    MessageStatus.DRY_RUN: 4,
}

# Rough prices per segment, used when the provider's answer has none (Twilio's price
# arrives later). For budgeting only: "~" marks an estimate.
COST_PER_SEGMENT = {
    "africastalking": ("XOF", Decimal("15")),
    "twilio": ("USD", Decimal("0.2")),
}


# --- senders and the rate limit ----------------------------------------------------------

def sender_for(settings: Settings, *, timeout: float = SEND_TIMEOUT) -> SmsSender:
    """Return the sender SMS_OUTBOX and SMS_PROVIDER ask for."""
    if settings.sms_outbox == "log" or settings.sms_provider is None:
        return LogSender()
    if settings.sms_provider == "africastalking":
        return AfricasTalkingSender(settings.at_username, settings.at_api_key,
                                    settings.at_sender, api_base=settings.at_api_base,
                                    timeout=timeout)
    callback = f"{settings.public_url}/webhooks/twilio/status" if settings.public_url else None
    return TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token,
                        settings.twilio_from, api_base=settings.twilio_api_base,
                        timeout=timeout, status_callback=callback)


@functools.lru_cache(maxsize=2)
def _process_sender(settings: Settings) -> SmsSender:
    # One sender per worker process: its HTTP connections are pooled across jobs.
    return sender_for(settings)


# Token bucket (gateway.channels.ratelimit.TokenBucket.take), applied atomically for every
# worker. KEYS[1]: the provider's bucket; ARGV: rate, burst, now, ttl.
_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2])
if updated ~= nil and now > updated then
  tokens = math.min(burst, tokens + (now - updated) * rate)
end
if updated == nil or now > updated then updated = now end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens),
           'updated', string.format('%.6f', updated))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return string.format('%.6f', wait)
"""


class RedisRateLimiter:
    """A RateLimiter shared by every worker: one token bucket per provider in Redis."""

    def __init__(self, redis_client: redis.Redis, *, rate: float, burst: float | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, not {rate}")
        self.redis = redis_client
        self.rate = rate
        self.burst = max(1.0, rate if burst is None else burst)
        # Redis's clock by default: workers on several machines then agree on "now".
        self._clock = clock or self._redis_time
        self._take = redis_client.register_script(_TAKE)

    def _redis_time(self) -> float:
        seconds, micros = self.redis.time()
        return seconds + micros / 1e6

    def reserve(self, provider: str) -> float:
        """Reserve one send for `provider`; return the seconds to wait first (0: go now)."""
        ttl = int(self.burst / self.rate) + 60
        wait = self._take(keys=[RATE_KEY.format(provider=provider)],
                          args=[self.rate, self.burst, f"{self._clock():.6f}", ttl])
        return float(wait)


def limiter_for(services: Services) -> RedisRateLimiter:
    """Return the shared send-rate limiter (SMS_RATE_PER_SECOND per provider)."""
    return RedisRateLimiter(services.redis, rate=services.settings.sms_rate_per_second)


# --- the send job ------------------------------------------------------------------------

def send_message(message_id: int) -> None:
    """Send one queued outbound SMS (RQ job; retried with backoff when retryable)."""
    services = for_worker()
    job = rq.get_current_job()
    # retries_left is None without a Retry, 0 on the last try: then a failure is final.
    deliver(services, message_id, sender=_process_sender(services.settings),
            final_attempt=job is not None and not job.retries_left)


def deliver(services: Services, message_id: int, *, sender: SmsSender | None = None,
            limiter: RateLimiter | None = None, clock: Callable[[], dt.datetime] = utcnow,
            sleep: Callable[[float], None] = time.sleep,
            final_attempt: bool = False) -> MessageStatus | None:
    """Send message `message_id` unless sent, opted out or not due; return its status.

    A retryable SendError is re-raised (the message stays queued) unless `final_attempt`,
    when the message is marked failed and the error still raised for RQ's failed registry.
    """
    sender = sender or _process_sender(services.settings)
    with session_scope(services.sessionmaker) as db:
        message = db.get(OutboundMessage, message_id)
        if message is None:
            log.warning("outbound message %s not found; nothing sent", message_id)
            return None
        if message.status != MessageStatus.QUEUED:
            log.info("outbound message %s is already %s; not sent again", message_id,
                     message.status.value)
            return message.status
        contact = db.get(Contact, message.contact_id)
        if message.send_after is not None and message.send_after > clock() + EARLY_TOLERANCE:
            services.queue.enqueue_at(message.send_after, SEND_JOB, message_id, retry=SEND_RETRY)
            log.info("outbound message %s is due at %s; rescheduled", message_id,
                     message.send_after.isoformat())
            return message.status
        if message.purpose != MessagePurpose.NOTICE and (
                contact.opted_out or services.store.is_opted_out(contact.phone_hash)):
            message.status = MessageStatus.OPTED_OUT
            invitations.on_message_final(db, message)
            log.info("outbound message %s not sent: the contact opted out", message_id)
            return message.status
        attempts, token = message.attempts, contact.phone_encrypted

    wait = 0.0
    if sender.provider != LogSender.provider:  # the log costs nothing and has no cap
        wait = _wait_turn(limiter or limiter_for(services), sender.provider, sleep)
    if wait > 0:
        services.queue.enqueue_in(dt.timedelta(seconds=wait), SEND_JOB, message_id,
                                  retry=SEND_RETRY)
        log.info("outbound message %s waits %.1f s for the %s send rate", message_id, wait,
                 sender.provider)
        return MessageStatus.QUEUED
    if not _claim(services, message_id, attempts):
        return None
    try:
        return _send(services, message_id, token, sender, clock, final_attempt)
    finally:
        services.redis.delete(CLAIM_KEY.format(message_id=message_id))


def _wait_turn(limiter: RateLimiter, provider: str, sleep: Callable[[float], None]) -> float:
    """Reserve a send, sleeping through short waits; return the wait left (0: go now)."""
    for _ in range(5):
        wait = limiter.reserve(provider)
        if wait <= 0 or wait > MAX_SLEEP:
            return max(wait, 0.0)
        sleep(wait)
    return limiter.reserve(provider)


def _claim(services: Services, message_id: int, attempts: int) -> bool:
    """Make this run the message's only sender; False when another run has it."""
    key = CLAIM_KEY.format(message_id=message_id)
    if not services.redis.set(key, "1", nx=True, ex=CLAIM_TTL):
        log.info("outbound message %s is being sent by another worker", message_id)
        return False
    with session_scope(services.sessionmaker) as db:
        claimed = db.execute(
            sa.update(OutboundMessage)
            .where(OutboundMessage.id == message_id,
                   OutboundMessage.status == MessageStatus.QUEUED,
                   OutboundMessage.attempts == attempts)
            .values(attempts=attempts + 1)).rowcount
    if not claimed:
        services.redis.delete(key)
        log.info("outbound message %s changed since it was read; not sent", message_id)
    return bool(claimed)


def _send(services: Services, message_id: int, token: str, sender: SmsSender,
          clock: Callable[[], dt.datetime], final_attempt: bool) -> MessageStatus:
    """Call the provider and file what it said."""
    with session_scope(services.sessionmaker) as db:
        body = db.scalar(sa.select(OutboundMessage.body).where(OutboundMessage.id == message_id))
    try:
        phone = services.vault.decrypt(token)
    except PhoneTokenError:
        log.error("outbound message %s: the contact's number cannot be decrypted", message_id)
        return _file_failure(services, message_id, MessageStatus.FAILED, "phone-token")
    try:
        result = sender.send(phone, body)
    except RecipientOptedOutError as error:
        log.info("outbound message %s to %s refused: the recipient opted out (%s)",
                 message_id, mask_phone(phone), error.provider_code)
        return _file_failure(services, message_id, MessageStatus.OPTED_OUT,
                             error.provider_code, opt_out=True)
    except SendError as error:
        if error.retryable and not final_attempt:
            log.warning("outbound message %s: %s; will retry", message_id, error)
            raise
        status = _failure_status(error)
        log.warning("outbound message %s %s: %s", message_id, status.value, error)
        _file_failure(services, message_id, status, error.provider_code or "error")
        if error.retryable:
            raise  # out of retries: into RQ's failed registry, where people look
        return status
    status = MessageStatus.SENT if result.status == MessageStatus.QUEUED else result.status
    marker = None
    with session_scope(services.sessionmaker) as db:
        message = db.get(OutboundMessage, message_id)
        message.provider = result.provider
        message.provider_message_id = result.message_id
        message.status = status
        message.sent_at = clock()
        message.error_code = None
        message.cost_estimate = result.cost or _estimate(result.provider, message.segments)
        marker = invitations.on_message_sent(db, message)
    if marker is not None:
        invitations.remember_invitation(services, *marker)
    log.info("outbound message %s %s via %s as %s", message_id, status.value, result.provider,
             result.message_id)
    return status


def _failure_status(error: SendError) -> MessageStatus:
    # A refusal with the provider's own code is a rejection; ours (HTTP, unreadable) a failure.
    code = error.provider_code or ""
    return MessageStatus.REJECTED if code and not code.startswith("HTTP") else MessageStatus.FAILED


def _file_failure(services: Services, message_id: int, status: MessageStatus,
                  error_code: str | None, *, opt_out: bool = False) -> MessageStatus:
    phone_hash = None
    with session_scope(services.sessionmaker) as db:
        message = db.get(OutboundMessage, message_id)
        message.status = status
        message.error_code = (error_code or "")[:32] or None
        invitations.on_message_final(db, message)
        if opt_out:
            contact = db.get(Contact, message.contact_id)
            contact.opted_out_at = contact.opted_out_at or utcnow()
            phone_hash = contact.phone_hash
    if phone_hash is not None:
        services.store.set_opted_out(phone_hash, True)
    return status


def _estimate(provider: str, segments: int) -> str | None:
    price = COST_PER_SEGMENT.get(provider)
    if price is None:
        return None
    currency, amount = price
    return f"~{currency} {amount * max(segments, 1):.4f}"


# --- delivery reports ---------------------------------------------------------------------

def record_delivery(provider: str, message_id: str, status: str, error_code: str | None,
                    failure_reason: str | None, opted_out: bool) -> None:
    """File a provider's delivery report (RQ job enqueued by the webhooks)."""
    apply_delivery(for_worker(), provider, message_id, status, error_code, failure_reason,
                   opted_out)


def apply_delivery(services: Services, provider: str, message_id: str, status: str,
                   error_code: str | None, failure_reason: str | None,
                   opted_out: bool) -> MessageStatus | None:
    """Move the reported message's status forward (never back); return its status."""
    reported = MessageStatus(status)
    phone_hash = None
    with session_scope(services.sessionmaker) as db:
        message = db.scalars(
            sa.select(OutboundMessage)
            .where(OutboundMessage.provider == provider,
                   OutboundMessage.provider_message_id == message_id)
            .with_for_update()).first()
        if message is None:
            log.warning("delivery report from %s for unknown message %s ignored", provider,
                        message_id)
            return None
        if opted_out:
            contact = db.get(Contact, message.contact_id)
            contact.opted_out_at = contact.opted_out_at or utcnow()
            phone_hash = contact.phone_hash
            if reported != MessageStatus.DELIVERED:
                reported = MessageStatus.OPTED_OUT
        if STATUS_RANK[reported] > STATUS_RANK[message.status]:
            message.status = reported
            if error_code or failure_reason:
                message.error_code = (error_code or failure_reason)[:32]
        else:
            log.info("delivery report %s for message %s ignored: it is already %s",
                     reported.value, message.id, message.status.value)
        final = message.status
    if phone_hash is not None:
        services.store.set_opted_out(phone_hash, True)
    return final
