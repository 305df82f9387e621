"""Outbound SMS: replies, weekly summaries, invitations and notices."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models.base import BigId, Base, StrEnumType, Timestamps, UTCDateTime
from gateway.statuses import MessagePurpose, MessageStatus


class OutboundMessage(Timestamps, Base):
    """One SMS to one contact, from queued to the provider's last status report."""

    __tablename__ = "outbound_messages"
    __table_args__ = (sa.Index("ix_outbound_messages_status_send_after", "status", "send_after"),)

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    contact_id: so.Mapped[int] = so.mapped_column(BigId, sa.ForeignKey("contacts.id"),
                                                  index=True)
    center_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("centers.id"))
    purpose: so.Mapped[MessagePurpose] = so.mapped_column(StrEnumType(MessagePurpose, 16))
    provider: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    provider_message_id: so.Mapped[str | None] = so.mapped_column(sa.String(100), index=True)
    status: so.Mapped[MessageStatus] = so.mapped_column(StrEnumType(MessageStatus, 16),
                                                        default=MessageStatus.QUEUED)
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    segments: so.Mapped[int] = so.mapped_column(default=1)
    encoding: so.Mapped[str] = so.mapped_column(sa.String(8), default="gsm7")  # or "ucs2"
    # As the provider reports it, currency included ("XOF 25.0000"): no float rounding.
    cost_estimate: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    error_code: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    # e.g. "summary:<center>:<week>:<recipient id>": a retried job cannot send twice.
    dedupe_key: so.Mapped[str | None] = so.mapped_column(sa.String(200), unique=True)
    send_after: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    sent_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    attempts: so.Mapped[int] = so.mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<OutboundMessage {self.id} {self.purpose} {self.status}>"
