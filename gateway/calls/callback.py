"""The call back to a mother whose own call was rejected (free for her): one queued call."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from gateway import phones
from gateway.calls.outbox import dispatch_after_commit, queue_call
from gateway.db import session_scope
from gateway.models import Contact
from gateway.services import Services
from gateway.sql import insert_ignore

log = logging.getLogger(__name__)


def call_back(services: Services, provider: str, inbound_call_id: str, phone_token: str,
              phone_hash: str, *, now: dt.datetime) -> int:
    """Queue the call back to the phone that called (once per call of hers); return its id."""
    phone = services.vault.decrypt(phone_token)
    with session_scope(services.sessionmaker, immediate=True) as db:
        insert_ignore(db, Contact, {"phone_hash": phone_hash,
                                    "phone_encrypted": services.vault.encrypt(phone)},
                      ["phone_hash"])
        contact = db.scalars(sa.select(Contact).where(Contact.phone_hash == phone_hash)).one()
        # No flow named: the call plays the flow a call starts, at her remembered centre.
        call_id, new = queue_call(db, contact_id=contact.id, center_id=contact.center_id,
                                  flow_id=None,
                                  dedupe_key=f"callback:{provider}:{inbound_call_id}",
                                  place_at=now)
        if new:
            dispatch_after_commit(db, services.queue, [call_id])
            log.info("call back %s to %s queued", call_id, phones.mask(phone))
    return call_id
