"""Outbound calls are written to the database first, then placed by a job after commit."""

from __future__ import annotations

import datetime as dt
import logging

import rq
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.db import after_commit
from gateway.models import Call, CallStatus
from gateway.sql import insert_ignore

log = logging.getLogger(__name__)

PLACE_JOB = "gateway.jobs.place_call"


def queue_call(db: so.Session, *, contact_id: int, center_id: int | None, flow_id: str | None,
               invitation_id: int | None = None, dedupe_key: str | None = None,
               place_at: dt.datetime | None = None) -> tuple[int, bool]:
    """Add a queued call; return (its id, True if new): an existing dedupe_key wins."""
    values = dict(contact_id=contact_id, center_id=center_id, flow_id=flow_id,
                  invitation_id=invitation_id, status=CallStatus.QUEUED, attempts=0,
                  next_attempt_at=place_at, dedupe_key=dedupe_key)
    if dedupe_key is None:
        call = Call(**values)
        db.add(call)
        db.flush()
        return call.id, True
    inserted = insert_ignore(db, Call, values, ["dedupe_key"])
    return db.scalar(sa.select(Call.id).where(Call.dedupe_key == dedupe_key)), inserted


def dispatch_after_commit(db: so.Session, queue: rq.Queue, call_ids: list[int], *,
                          at: dt.datetime | None = None) -> None:
    """Enqueue the calls' jobs once `db` commits; forget them if it rolls back."""
    call_ids = list(call_ids)
    after_commit(db, lambda: dispatch(queue, call_ids, at=at))


def dispatch(queue: rq.Queue, call_ids: list[int], *, at: dt.datetime | None = None) -> None:
    """Enqueue the job of each call (at `at` when given); call after commit."""
    for call_id in call_ids:
        if at is not None:
            queue.enqueue_at(at, PLACE_JOB, call_id)
        else:
            queue.enqueue_call(PLACE_JOB, args=(call_id,))
