"""Build survey sessions and answers with known figures, straight through the models."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import sqlalchemy.orm as so

from gateway.models import Answer, Center, Contact, SessionStatus, SurveySession, iso_week

AREA_OF = {"respect": "patient_experience", "waiting": "patient_experience",
           "hygiene": "clinical_quality", "anc_counselling": "clinical_quality",
           "fees": "revenue_cost_recovery"}
_serial = itertools.count(1)


@dataclasses.dataclass
class Dataset:
    """A handle to add centres, sessions and answers to one database session."""

    db: so.Session

    def center(self, code: str, name: str | None = None, **fields) -> Center:
        center = Center(code=code, name=name or f"CSCom {code}", **fields)
        self.db.add(center)
        self.db.flush()
        return center

    def session(self, center: Center | None, week: str | None, answers: dict[str, tuple],
                status: SessionStatus = SessionStatus.COMPLETED, *, channel: str = "ussd",
                started: dt.datetime | None = None, tz: dt.tzinfo = dt.timezone.utc,
                ) -> SurveySession:
        """Add a session with answers {step: (score, top_box)} (dimension = step id).

        Started on the Tuesday of `week` at 10:00 UTC, or at `started` (its week then
        taken in `tz`, as filing does).
        """
        n = next(_serial)
        contact = Contact(phone_hash=f"hash{n:060d}", phone_encrypted="x")
        self.db.add(contact)
        self.db.flush()
        if started is None:
            monday = dt.date.fromisocalendar(int(week[:4]), int(week[-2:]), 2)
            started = dt.datetime.combine(monday, dt.time(10), dt.timezone.utc)
        week = week or iso_week(started, tz)
        session = SurveySession(key=f"{channel}:test-{n}", flow_id="maternal_care",
                                flow_version="v1", channel=channel, status=status,
                                center_id=center.id if center else None, contact_id=contact.id,
                                started_at=started, week=week)
        self.db.add(session)
        self.db.flush()
        for step, (score, top_box) in answers.items():
            dimension = None if step == "consent" else step
            self.db.add(Answer(session_id=session.id, step_id=step, raw="1", value="v",
                               score=score, top_box=top_box, dimension=dimension,
                               area=AREA_OF.get(step), answered_at=started,
                               center_id=session.center_id, week=week))
        self.db.flush()
        return session
