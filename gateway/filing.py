"""File a batch of session records into SQL: a few statements per batch, not per answer.

A record is one turn of one session: its context (session key, phone hash and encrypted
number, flow, centre…), its engine events, and an SMS reply if any. Contacts, sessions and
answers are inserted with insert-or-ignore on their unique keys, many rows per statement,
and updates land on the same values however often a record is filed: filing a batch twice
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.db import session_scope
from gateway.engine import events as ev
from gateway.models import (Answer, Center, Contact, MessagePurpose, SessionStatus,
                            SurveySession, iso_week)
from gateway.phones import mask_numbers_in_text
from gateway.sms import outbox
from gateway.sql import insert_many_ignore

log = logging.getLogger(__name__)

# A status that ends a session for good; a later 'abandoned' notice does not undo it.
FINAL = {SessionStatus.COMPLETED, SessionStatus.OPTED_OUT, SessionStatus.DECLINED}
ROWS_PER_STATEMENT = 500


def file_records(services: Any, records: list[dict[str, Any]]) -> None:
    """File records in one transaction; SMS replies are queued for sending after commit."""
    with session_scope(services.sessionmaker, immediate=True) as db:
        batch = _Batch(db, services)
        batch.preload(records)
        for record in records:
            batch.file(record)
        batch.finish()


class _Batch:
    """One transaction's worth of records."""

    def __init__(self, db: so.Session, services: Any) -> None:
        self.db, self.services = db, services
        self.contacts: dict[str, Contact] = {}
        self.sessions: dict[str, SurveySession] = {}
        self.centers: dict[str, int | None] = {}
        self.answers: dict[tuple[int, str], dict[str, Any]] = {}
        self.recenter: set[int] = set()

    def file(self, record: dict[str, Any]) -> None:
        """Apply one record's events, and queue its SMS reply if it has one."""
        context, reply = record["context"], record.get("reply")
        contact = self.contacts[context["phone_hash"]]
        session = None if context.get("no_session") else self.sessions[context["key"]]
        for event in record["events"]:
            self.apply(event, contact, session)
        if not (reply and reply.get("text")):
            return
        self.flush_answers()  # replies are rare (SMS); keep their order with the answers
        message_id, new = outbox.queue_message(
            self.db, contact_id=contact.id, body=reply["text"],
            purpose=MessagePurpose(reply.get("purpose", "reply")),
            center_id=session.center_id if session else None, dedupe_key=reply.get("dedupe_key"))
        if new:
            outbox.dispatch_after_commit(self.db, self.services.queue, [message_id])

    # --- rows ---------------------------------------------------------------------------

    def preload(self, records: list[dict[str, Any]]) -> None:
        """Insert and fetch every contact and session of the batch, many rows at a time."""
        contexts = [record["context"] for record in records]
        first_contact = {c["phone_hash"]: c for c in reversed(contexts)}
        insert_many_ignore(self.db, Contact, [
            {"phone_hash": c["phone_hash"], "phone_encrypted": c["phone_token"],
             "language": c.get("language")} for c in first_contact.values()], ["phone_hash"])
        for chunk in _chunks(list(first_contact), ROWS_PER_STATEMENT):
            for contact in self.db.scalars(sa.select(Contact).where(
                    Contact.phone_hash.in_(chunk))):
                self.contacts[contact.phone_hash] = contact
        first_session = {c["key"]: c for c in reversed(contexts) if not c.get("no_session")}
        for code in {c.get("center") for c in first_session.values()} - {None}:
            self.center_id(code)
        tz = self.services.settings.tz
        rows = []
        for key, context in first_session.items():
            started = dt.datetime.fromisoformat(context["started_at"])
            rows.append({
                "key": key, "flow_id": context["flow_id"],
                "flow_version": context["flow_version"], "channel": context["channel"],
                "center_id": self.center_id(context.get("center")),
                "contact_id": self.contacts[context["phone_hash"]].id,
                "language": context.get("language"), "status": SessionStatus.ACTIVE,
                "started_at": started, "week": iso_week(started, tz)})
        insert_many_ignore(self.db, SurveySession, rows, ["key"])
        for chunk in _chunks(list(first_session), ROWS_PER_STATEMENT):
            for session in self.db.scalars(sa.select(SurveySession).where(
                    SurveySession.key.in_(chunk))):
                self.sessions[session.key] = session

    def center_id(self, code: str | None) -> int | None:
        if not code:
            return None
        if code not in self.centers:
            self.centers[code] = self.db.scalar(sa.select(Center.id).where(Center.code == code))
        return self.centers[code]

    # --- events -------------------------------------------------------------------------

    def apply(self, event: dict[str, Any], contact: Contact,
              session: SurveySession | None) -> None:
        kind = event["type"]
        at = dt.datetime.fromisoformat(event["at"])
        if kind == ev.OPTED_OUT:
            contact.opted_out_at = contact.opted_out_at or at
        elif kind == ev.OPTED_IN:
            contact.opted_out_at = None
        elif session is None:
            return
        elif kind == ev.LANGUAGE_CHOSEN:
            session.language = contact.language = event["language"]
        elif kind == ev.CENTER_IDENTIFIED:
            session.center_id = contact.center_id = self.center_id(event["center"])
            self.recenter.add(session.id)
        elif kind == ev.ANSWER_GIVEN:
            self.answer(event, session, at)
        elif kind == ev.SESSION_ENDED:
            if session.status not in FINAL:
                session.status, session.ended_at = SessionStatus(event["status"]), at
        elif kind == ev.SESSION_RESUMED:
            if session.status not in FINAL:
                session.status, session.ended_at = SessionStatus.ACTIVE, None
        if session is not None and session.center_id and contact.center_id is None:
            contact.center_id = session.center_id

    def answer(self, event: dict[str, Any], session: SurveySession, at: dt.datetime) -> None:
        raw, value = event["raw"], event["value"]
        if event.get("score") is None and event.get("dimension") is None:
            # Free text may hold a phone number (hers or someone else's): mask it first.
            raw, value = mask_numbers_in_text(raw), mask_numbers_in_text(value)
        self.answers.setdefault((session.id, event["step"]), {
            "session_id": session.id, "step_id": event["step"], "raw": raw, "value": value,
            "score": event.get("score"), "top_box": event.get("top_box"),
            "dimension": event.get("dimension"), "area": event.get("area"), "answered_at": at,
            "_session": session})

    def flush_answers(self) -> None:
        """Insert the answers gathered so far, with their session's centre and week."""
        rows = []
        for row in self.answers.values():
            session = row.pop("_session")
            rows.append({**row, "center_id": session.center_id, "week": session.week})
        self.answers.clear()
        insert_many_ignore(self.db, Answer, rows, ["session_id", "step_id"])

    def finish(self) -> None:
        """Write what is left: answers, then centres learnt after earlier answers."""
        self.flush_answers()
        for session in self.sessions.values():
            if session.id in self.recenter:
                self.db.execute(sa.update(Answer).where(Answer.session_id == session.id)
                                .values(center_id=session.center_id))


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]
