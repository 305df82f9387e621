"""The place-call job's work: place one queued call at most once per attempt."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from gateway.channels import registry
from gateway.channels.base import VoiceProvider, mask_phone
from gateway.db import session_scope
from gateway.errors import PhoneTokenError, SendError
from gateway.invitations import outside_quiet_hours
from gateway.models import Call, CallStatus, Center, Contact
from gateway.services import Services
from gateway.calls.outbox import PLACE_JOB, dispatch
from gateway.sms.ratelimit import RateLimiter, RedisRateLimiter

log = logging.getLogger(__name__)

EARLY_TOLERANCE = dt.timedelta(seconds=1)
RATE_KEY = "voice:{provider}"  # beside the SMS buckets: kuma:send-rate:voice:<provider>
CALL_BACK = "callback:"        # dedupe keys of call backs: she called, so quiet hours do not hold


def limiter_for(services: Services) -> RedisRateLimiter:
    """Return the shared call-rate limiter (VOICE_CALLS_PER_SECOND per provider)."""
    return RedisRateLimiter(services.redis, rate=services.settings.voice_calls_per_second)


def place(services: Services, call_id: int, *, now: dt.datetime,
          provider: VoiceProvider | None = None,
          limiter: RateLimiter | None = None) -> CallStatus | None:
    """Place call `call_id` if it is queued and due; return its status afterwards."""
    settings = services.settings
    name = provider.name if provider else settings.voice_provider
    with session_scope(services.sessionmaker, immediate=True) as db:
        call = db.scalars(sa.select(Call).where(Call.id == call_id).with_for_update()).first()
        if call is None:
            log.warning("call %s not found; nothing placed", call_id)
            return None
        if call.status != CallStatus.QUEUED:
            return call.status
        due = _due(services, call, now)
        if due > now + EARLY_TOLERANCE:
            call.next_attempt_at = due
            db.flush()
            services.queue.enqueue_at(due, PLACE_JOB, call_id)
            return call.status
        contact = db.get(Contact, call.contact_id)
        if call.invitation_id is not None and (
                contact.opted_out or services.store.is_opted_out(contact.phone_hash)):
            return _give_up(call, "opted_out")
        if name is None:
            return _give_up(call, "no voice provider (set VOICE_PROVIDER)")
        wait = (limiter or limiter_for(services)).reserve(RATE_KEY.format(provider=name))
        if wait > 0:
            services.queue.enqueue_in(dt.timedelta(seconds=wait), PLACE_JOB, call_id)
            return call.status
        # Claimed: a second run of this job finds it ringing and places nothing.
        call.status, call.provider = CallStatus.RINGING, name
        call.attempts += 1
        call.placed_at = now
        token, phone_hash = contact.phone_encrypted, contact.phone_hash
        center = db.get(Center, call.center_id) if call.center_id else None
        if call.flow_id:
            # What her answering starts: this centre's survey, as an SMS invitation's reply.
            services.store.remember_invitation(phone_hash, center=center.code if center else "",
                                               flow=call.flow_id)
    try:
        phone = services.vault.decrypt(token)
    except PhoneTokenError as error:
        return _failed(services, call_id, f"phone unreadable: {error}")
    provider = provider or registry.voice_provider(settings, name)
    base = settings.public_url or ""
    try:
        provider_call_id = provider.place_call(
            phone, answer_url=f"{base}/webhooks/{name}/voice",
            status_url=f"{base}/webhooks/{name}/voice/status")
    except SendError as error:
        log.warning("call %s to %s not placed: %s", call_id, mask_phone(phone), error)
        return _not_placed(services, call_id, error, now)
    with session_scope(services.sessionmaker) as db:
        call = db.get(Call, call_id)
        call.provider_call_id = provider_call_id
        return call.status


def _due(services: Services, call: Call, now: dt.datetime) -> dt.datetime:
    due = max(call.next_attempt_at or now, now)
    if (call.dedupe_key or "").startswith(CALL_BACK):
        return due
    settings = services.settings
    return outside_quiet_hours(due, settings.quiet_window, settings.tz)


def _give_up(call: Call, reason: str) -> CallStatus:
    call.status, call.error = CallStatus.FAILED, reason
    log.info("call %s not placed: %s", call.id, reason)
    return call.status


def _failed(services: Services, call_id: int, reason: str) -> CallStatus:
    with session_scope(services.sessionmaker) as db:
        call = db.get(Call, call_id)
        call.status, call.error = CallStatus.FAILED, reason[:200]
        return call.status


def _not_placed(services: Services, call_id: int, error: SendError,
                now: dt.datetime) -> CallStatus:
    """Queue the call again after VOICE_RETRY_MINUTES when that may help and tries are left."""
    settings = services.settings
    with session_scope(services.sessionmaker) as db:
        call = db.get(Call, call_id)
        call.error = str(error)[:200]
        if error.retryable and call.attempts < settings.voice_max_attempts:
            call.status = CallStatus.QUEUED
            call.next_attempt_at = now + dt.timedelta(minutes=settings.voice_retry_minutes)
            at = call.next_attempt_at
        else:
            call.status, at = CallStatus.FAILED, None
        status = call.status
    if at is not None:
        dispatch(services.queue, [call_id], at=at)
    return status
