"""RQ entry points for survey sessions: plain values in, rows out, idempotent.

A job may run twice (a worker killed mid-job, a retry after a lost connection): every
write is an insert-or-ignore on a unique key or an update that lands on the same value,
so the second run changes nothing. Exceptions reach RQ and its failed registry.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway import ingest, outbox
from gateway.db import session_scope
from gateway.models import (Answer, Center, Contact, MessagePurpose, SessionStatus,
                            SurveySession, iso_week)
from gateway.phones import mask_numbers_in_text
from gateway.services import Services, for_worker
from gateway.sql import insert_ignore

log = logging.getLogger(__name__)

# A status that ends a session for good; a later 'abandoned' notice does not undo it.
FINAL = {SessionStatus.COMPLETED, SessionStatus.OPTED_OUT, SessionStatus.DECLINED}
FREE_TEXT_TYPES = ("text",)


def file_records(services: Services, records: list[dict[str, Any]]) -> list[int]:
    """File a batch of session records (context, events, reply) in one transaction.

    Returns the ids of the new outbound SMS, which are queued for sending after commit.
    """
    to_send: list[int] = []
    with session_scope(services.sessionmaker, immediate=True) as db:
        contacts: dict[str, Contact] = {}
        sessions: dict[str, SurveySession] = {}
        for record in records:
            context, reply = record["context"], record.get("reply")
            contact = contacts.get(context["phone_hash"]) or _contact(db, context)
            contacts[context["phone_hash"]] = contact
            session = None
            if not context.get("no_session"):
                session = sessions.get(context["key"]) or _session(db, services, context,
                                                                   contact)
                sessions[context["key"]] = session
            for event in record["events"]:
                _apply(db, event, contact, session, services)
            if reply and reply.get("text"):
                message_id, new = outbox.queue_message(
                    db, contact_id=contact.id, body=reply["text"],
                    purpose=MessagePurpose(reply.get("purpose", "reply")),
                    center_id=session.center_id if session else None,
                    dedupe_key=reply.get("dedupe_key"))
                if new:
                    to_send.append(message_id)
    outbox.dispatch(services.queue, to_send)
    return to_send


def _contact(db: so.Session, context: dict[str, Any]) -> Contact:
    insert_ignore(db, Contact, {"phone_hash": context["phone_hash"],
                                "phone_encrypted": context["phone_token"],
                                "language": context.get("language")}, ["phone_hash"])
    return db.scalars(sa.select(Contact).where(Contact.phone_hash == context["phone_hash"])).one()


def _center_id(db: so.Session, code: str | None) -> int | None:
    if not code:
        return None
    return db.scalar(sa.select(Center.id).where(Center.code == code))


def _session(db: so.Session, services: Services, context: dict[str, Any],
             contact: Contact) -> SurveySession:
    started = dt.datetime.fromisoformat(context["started_at"])
    insert_ignore(db, SurveySession, {
        "key": context["key"], "flow_id": context["flow_id"],
        "flow_version": context["flow_version"], "channel": context["channel"],
        "center_id": _center_id(db, context.get("center")), "contact_id": contact.id,
        "language": context.get("language"), "status": SessionStatus.ACTIVE,
        "started_at": started, "week": iso_week(started, services.settings.tz)}, ["key"])
    return db.scalars(sa.select(SurveySession).where(SurveySession.key == context["key"])).one()


def _apply(db: so.Session, event: dict[str, Any], contact: Contact,
           session: SurveySession | None, services: Services) -> None:
    kind = event["type"]
    at = dt.datetime.fromisoformat(event["at"])
    if kind == "opted_out":
        contact.opted_out_at = contact.opted_out_at or at
    elif kind == "opted_in":
        contact.opted_out_at = None
    elif session is None:
        return
    elif kind == "language_chosen":
        session.language = contact.language = event["language"]
    elif kind == "center_identified":
        center_id = _center_id(db, event["center"])
        session.center_id = contact.center_id = center_id
        db.execute(sa.update(Answer).where(Answer.session_id == session.id)
                   .values(center_id=center_id))
    elif kind == "answer_given":
        _answer(db, event, session, at)
    elif kind == "session_ended":
        status = SessionStatus(event["status"])
        if session.status not in FINAL:
            session.status = status
            session.ended_at = at
    elif kind == "session_resumed":
        if session.status not in FINAL:
            session.status, session.ended_at = SessionStatus.ACTIVE, None
    if session is not None and session.center_id and contact.center_id is None:
        contact.center_id = session.center_id


def _answer(db: so.Session, event: dict[str, Any], session: SurveySession,
            at: dt.datetime) -> None:
    raw, value = event["raw"], event["value"]
    if event.get("score") is None and event.get("dimension") is None:
        # Free text may hold a phone number (hers or someone else's): mask before storing.
        raw, value = mask_numbers_in_text(raw), mask_numbers_in_text(value)
    insert_ignore(db, Answer, {
        "session_id": session.id, "step_id": event["step"], "raw": raw, "value": value,
        "score": event.get("score"), "top_box": event.get("top_box"),
        "dimension": event.get("dimension"), "area": event.get("area"), "answered_at": at,
        "center_id": session.center_id, "week": session.week}, ["session_id", "step_id"])


def sweep_sessions() -> dict[str, int]:
    """Mark sessions whose state has lapsed in Redis (USSD abandoned, SMS expired).

    Also makes sure waiting events get filed, should a webhook have died between saving
    them and queueing their flush.
    """
    services = for_worker()
    if ingest.waiting(services.redis):
        ingest.kick(services.redis, services.queue)
    return sweep(services, now=dt.datetime.now(dt.timezone.utc))


def sweep(services: Services, *, now: dt.datetime) -> dict[str, int]:
    """Do sweep_sessions' work at `now`; return how many sessions of each channel it ended."""
    settings = services.settings
    ussd_cutoff = now - dt.timedelta(seconds=settings.ussd_session_ttl
                                     + settings.ussd_resume_window + 60)
    ended = {"ussd": 0, "sms": 0}
    with session_scope(services.sessionmaker, immediate=True) as db:
        ended["ussd"] = db.execute(
            sa.update(SurveySession)
            .where(SurveySession.status == SessionStatus.ACTIVE,
                   SurveySession.channel == "ussd", SurveySession.started_at < ussd_cutoff)
            .values(status=SessionStatus.ABANDONED, ended_at=now)).rowcount
        flow_ids = db.scalars(sa.select(SurveySession.flow_id).distinct().where(
            SurveySession.status == SessionStatus.ACTIVE, SurveySession.channel == "sms")).all()
        for flow_id in flow_ids:
            flow = services.flows.live(flow_id)
            hours = flow.sms.expiry_hours if flow else 48
            ended["sms"] += db.execute(
                sa.update(SurveySession)
                .where(SurveySession.status == SessionStatus.ACTIVE,
                       SurveySession.channel == "sms", SurveySession.flow_id == flow_id,
                       SurveySession.started_at < now - dt.timedelta(hours=hours))
                .values(status=SessionStatus.EXPIRED, ended_at=now)).rowcount
    if any(ended.values()):
        log.info("swept sessions: %d USSD abandoned, %d SMS expired", ended["ussd"],
                 ended["sms"])
    return ended
