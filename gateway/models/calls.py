"""Outbound survey calls: invitations by call and call backs to mothers who called."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models.base import BigId, Base, StrEnumType, Timestamps, UTCDateTime
from gateway.statuses import CallStatus


class Call(Timestamps, Base):
    """One call Kuma places to one contact, from queued to the provider's end-of-call notice."""

    __tablename__ = "calls"
    __table_args__ = (sa.Index("ix_calls_status_next_attempt_at", "status", "next_attempt_at"),
                      sa.UniqueConstraint("provider", "provider_call_id"))

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    provider: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    provider_call_id: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    contact_id: so.Mapped[int] = so.mapped_column(BigId, sa.ForeignKey("contacts.id"),
                                                  index=True)
    center_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("centers.id"))
    flow_id: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    invitation_id: so.Mapped[int | None] = so.mapped_column(
        BigId, sa.ForeignKey("invitations.id"), index=True)
    status: so.Mapped[CallStatus] = so.mapped_column(StrEnumType(CallStatus, 16),
                                                     default=CallStatus.QUEUED)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    placed_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    ended_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    duration_s: so.Mapped[int | None] = so.mapped_column()
    cost: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(12, 4))
    currency: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    error: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    # e.g. "invitation:<id>", "callback:<provider>:<call id>": a retried job cannot call twice.
    dedupe_key: so.Mapped[str | None] = so.mapped_column(sa.String(200), unique=True)

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.status} attempt {self.attempts}>"
