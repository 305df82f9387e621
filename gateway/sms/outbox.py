"""Outbound SMS are written to the database first, then sent by a job after commit.

`queue_message` adds the row inside the caller's transaction (a `dedupe_key` makes a
second copy impossible: a summary per centre, week and recipient, a reply per inbound SMS);
`dispatch_after_commit` enqueues the send jobs once that transaction has committed.
What a message's purpose owes after it is sent or given up (an invitation marked sent) is
its owner's `FollowUp`, registered here with `follow_up` when its module is imported: the
outbox never imports it, and `gateway.jobs` imports every owner, so a worker knows them all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Protocol

import rq
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.db import after_commit
from gateway.engine import gsm
from gateway.models import MessagePurpose, MessageStatus, OutboundMessage
from gateway.sql import insert_ignore
from gateway.session_store import SessionStore

log = logging.getLogger(__name__)

SEND_JOB = "gateway.jobs.send_message"
SEND_RETRY = rq.Retry(max=5, interval=[10, 60, 300, 900, 3600])

# What to do in Redis once the transaction that marked a message sent has committed.
AfterCommit = Callable[[SessionStore], None]


class FollowUp(Protocol):
    """What the owner of a message purpose does when one of its messages is settled."""

    def sent(self, db: so.Session, message: OutboundMessage) -> AfterCommit | None:
        """Record that `message` was sent; return what to do after commit, if anything."""
        ...  # pragma: no cover

    def final(self, db: so.Session, message: OutboundMessage) -> None:
        """Record that `message` will not be sent (opted out, failed)."""
        ...  # pragma: no cover


_FOLLOW_UPS: dict[MessagePurpose, FollowUp] = {}


def follow_up(purpose: MessagePurpose, handler: FollowUp) -> None:
    """Register what the owner of `purpose` does when one of its messages is settled."""
    _FOLLOW_UPS[purpose] = handler


def after_sent(db: so.Session, message: OutboundMessage) -> AfterCommit | None:
    """Run the follow-up of a sent message's purpose; return its after-commit step."""
    handler = _FOLLOW_UPS.get(message.purpose)
    return handler.sent(db, message) if handler else None


def after_final(db: so.Session, message: OutboundMessage) -> None:
    """Run the follow-up of a message that will not be sent."""
    handler = _FOLLOW_UPS.get(message.purpose)
    if handler:
        handler.final(db, message)


def queue_message(db: so.Session, *, contact_id: int, body: str, purpose: MessagePurpose | str,
                  center_id: int | None = None, dedupe_key: str | None = None,
                  send_after: dt.datetime | None = None,
                  status: MessageStatus = MessageStatus.QUEUED) -> tuple[int, bool]:
    """Add an outbound SMS; return (its id, True if new) — an existing dedupe_key wins."""
    count = gsm.count(body)
    values = dict(contact_id=contact_id, center_id=center_id, purpose=MessagePurpose(purpose),
                  status=status, body=body, segments=count.segments,
                  encoding="gsm7" if count.encoding == "GSM-7" else "ucs2",
                  dedupe_key=dedupe_key, send_after=send_after)
    if dedupe_key is None:
        message = OutboundMessage(**values)
        db.add(message)
        db.flush()
        return message.id, True
    inserted = insert_ignore(db, OutboundMessage, values, ["dedupe_key"])
    found = db.scalar(sa.select(OutboundMessage.id).where(OutboundMessage.dedupe_key == dedupe_key))
    return found, inserted


def dispatch_after_commit(db: so.Session, queue: rq.Queue, message_ids: list[int], *,
                          at: dt.datetime | None = None) -> None:
    """Enqueue the messages' send jobs once `db` commits; forget them if it rolls back."""
    message_ids = list(message_ids)
    after_commit(db, lambda: dispatch(queue, message_ids, at=at))


def dispatch(queue: rq.Queue, message_ids: list[int], *, at: dt.datetime | None = None) -> None:
    """Enqueue the send job of each message (at `at` when given); call after commit."""
    for message_id in message_ids:
        if at is not None:
            queue.enqueue_at(at, SEND_JOB, message_id, retry=SEND_RETRY)
        else:
            queue.enqueue_call(SEND_JOB, args=(message_id,), retry=SEND_RETRY)


STALE_AFTER = dt.timedelta(minutes=10)


def redispatch_stale(db: so.Session, queue: rq.Queue, *, now: dt.datetime) -> int:
    """Queue again the send of messages still queued long after they were due.

    Their send job was lost: Redis failed between the commit and the enqueue, or a worker
    died mid-send. Sending stays at most once: the send job claims a message first.
    """
    cutoff = now - STALE_AFTER
    stale = db.scalars(sa.select(OutboundMessage.id).where(
        OutboundMessage.status == MessageStatus.QUEUED,
        OutboundMessage.updated_at < cutoff,
        sa.or_(OutboundMessage.send_after.is_(None), OutboundMessage.send_after < cutoff),
    ).order_by(OutboundMessage.id).limit(1000)).all()
    if stale:
        log.warning("%d outbound SMS were still queued after %s: queueing them again",
                    len(stale), STALE_AFTER)
        dispatch(queue, list(stale))
    return len(stale)
