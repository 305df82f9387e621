"""The send job's work: send one queued SMS at most once, then file what the provider said.

A message is sent at most once however often its job runs: a run that finds it no longer
`queued` does nothing, and a run only calls the provider after claiming the message in
Redis (one sender at a time) and in SQL (a compare-and-set on `attempts`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

import sqlalchemy as sa

from gateway.channels import registry
from gateway.channels.base import LogSender, SmsSender, mask_phone
from gateway.db import session_scope
from gateway.errors import PhoneTokenError, RecipientOptedOutError, SendError
from gateway.models import Contact, MessagePurpose, MessageStatus, OutboundMessage, utcnow
from gateway.services import Services
from gateway.sms.outbox import SEND_JOB, SEND_RETRY, after_final, after_sent
from gateway.sms.ratelimit import RateLimiter, RedisRateLimiter
from gateway.sms.senders import SEND_TIMEOUT, process_sender

log = logging.getLogger(__name__)

CLAIM_KEY = "kuma:sending:{message_id}"
# Longer than a send can take (connect + read timeouts, the SDK's own work), so that a
# claim is only ever taken over from a worker that died mid-send.
CLAIM_TTL = 5 * SEND_TIMEOUT
MAX_SLEEP = 2.0  # a longer wait for the rate limit gives the worker back (job rescheduled)
EARLY_TOLERANCE = dt.timedelta(seconds=1)



def limiter_for(services: Services) -> RedisRateLimiter:
    """Return the shared send-rate limiter (SMS_RATE_PER_SECOND per provider)."""
    return RedisRateLimiter(services.redis, rate=services.settings.sms_rate_per_second)


def deliver(services: Services, message_id: int, *, sender: SmsSender | None = None,
            limiter: RateLimiter | None = None, clock: Callable[[], dt.datetime] = utcnow,
            sleep: Callable[[float], None] = time.sleep,
            final_attempt: bool = False) -> MessageStatus | None:
    """Send message `message_id` unless sent, opted out or not due; return its status.

    A retryable SendError is re-raised (the message stays queued) unless `final_attempt`,
    when the message is marked failed and the error still raised for RQ's failed registry.
    """
    sender = sender or process_sender(services.settings)
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
            after_final(db, message)
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
    then = None
    with session_scope(services.sessionmaker) as db:
        message = db.get(OutboundMessage, message_id)
        message.provider = result.provider
        message.provider_message_id = result.message_id
        message.status = status
        message.sent_at = clock()
        message.error_code = None
        message.cost_estimate = result.cost or _estimate(result.provider, message.segments)
        then = after_sent(db, message)
    if then is not None:
        then(services.store)
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
        after_final(db, message)
        if opt_out:
            contact = db.get(Contact, message.contact_id)
            contact.opted_out_at = contact.opted_out_at or utcnow()
            phone_hash = contact.phone_hash
    if phone_hash is not None:
        services.store.set_opted_out(phone_hash, True)
    return status


def _estimate(provider: str, segments: int) -> str | None:
    # The provider's rough price, when its answer has none: "~" marks an estimate.
    price = registry.cost_per_segment(provider)
    if price is None:
        return None
    currency, amount = price
    return f"~{currency} {amount * max(segments, 1):.4f}"
