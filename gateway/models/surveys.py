"""Survey sessions and their answers: the data every report is built from."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models.base import BigId, Base, StrEnumType, UTCDateTime, utcnow
from gateway.statuses import Channel, SessionStatus


class SurveySession(Base):
    """One mother's pass through one flow, pinned to the flow version it started on."""

    __tablename__ = "survey_sessions"
    __table_args__ = (sa.Index("ix_survey_sessions_week_center_id", "week", "center_id"),)

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    # "<channel>:<provider session id or ours>": a repeated webhook finds the same row.
    key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    flow_id: so.Mapped[str] = so.mapped_column(sa.String(100))
    flow_version: so.Mapped[str] = so.mapped_column(sa.String(64))
    channel: so.Mapped[Channel] = so.mapped_column(StrEnumType(Channel, 8))
    center_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("centers.id"))
    contact_id: so.Mapped[int] = so.mapped_column(BigId, sa.ForeignKey("contacts.id"),
                                                  index=True)
    language: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    status: so.Mapped[SessionStatus] = so.mapped_column(StrEnumType(SessionStatus, 16),
                                                        default=SessionStatus.ACTIVE)
    started_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    ended_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    # ISO week of started_at in the gateway's time zone (models.iso_week), for reports.
    week: so.Mapped[str] = so.mapped_column(sa.String(8))

    answers: so.Mapped[list[Answer]] = so.relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Answer.id")

    def __repr__(self) -> str:
        return f"<SurveySession {self.key} {self.status}>"


class Answer(Base):
    """One answer to one step; written once however often a webhook or job repeats."""

    __tablename__ = "answers"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "step_id"),
        sa.Index("ix_answers_week_center_id_dimension", "week", "center_id", "dimension"),
        # One centre's run chart over a year reads only that centre's answers.
        sa.Index("ix_answers_center_id_week", "center_id", "week"),
    )

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(
        BigId, sa.ForeignKey("survey_sessions.id", ondelete="CASCADE"))
    step_id: so.Mapped[str] = so.mapped_column(sa.String(100))
    raw: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    value: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    score: so.Mapped[float | None] = so.mapped_column(sa.Float)  # 0-100
    top_box: so.Mapped[bool | None]
    dimension: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    area: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    answered_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Copied from the session so that reports group answers without a join.
    center_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("centers.id"))
    week: so.Mapped[str] = so.mapped_column(sa.String(8))

    session: so.Mapped[SurveySession] = so.relationship(back_populates="answers")

    def __repr__(self) -> str:
        return f"<Answer {self.session_id}/{self.step_id}>"
