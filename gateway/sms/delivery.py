"""Delivery reports: move an outbound SMS's status forward as the provider reports it."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from gateway.db import session_scope
from gateway.models import Contact, MessageStatus, OutboundMessage, utcnow
from gateway.services import Services

log = logging.getLogger(__name__)

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
