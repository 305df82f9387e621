"""Invitations to an SMS survey after a visit."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models.base import BigId, Base, StrEnumType, UTCDateTime, utcnow
from gateway.statuses import InvitationStatus


class Invitation(Base):
    """A mother invited to answer `flow_id` about her visit to a centre."""

    __tablename__ = "invitations"
    __table_args__ = (sa.Index("ix_invitations_status_send_at", "status", "send_at"),)

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    center_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("centers.id"))
    contact_id: so.Mapped[int] = so.mapped_column(BigId, sa.ForeignKey("contacts.id"),
                                                  index=True)
    flow_id: so.Mapped[str] = so.mapped_column(sa.String(100))
    visit_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)
    send_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)
    status: so.Mapped[InvitationStatus] = so.mapped_column(
        StrEnumType(InvitationStatus, 16), default=InvitationStatus.SCHEDULED)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    message_id: so.Mapped[int | None] = so.mapped_column(
        BigId, sa.ForeignKey("outbound_messages.id"))

    def __repr__(self) -> str:
        return f"<Invitation {self.id} {self.status}>"
