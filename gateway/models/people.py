"""People attached to a centre: summary recipients and staff who may invite mothers."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models.base import BigId, Base, StrEnumType, UTCDateTime, utcnow
from gateway.models.centers import Center
from gateway.models.contacts import Contact
from gateway.statuses import RecipientRole


class SummaryRecipient(Base):
    """Someone who receives a centre's weekly SMS summary, in their language."""

    __tablename__ = "summary_recipients"
    __table_args__ = (sa.UniqueConstraint("center_id", "contact_id", "role"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    center_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("centers.id"))
    contact_id: so.Mapped[int] = so.mapped_column(BigId, sa.ForeignKey("contacts.id"))
    role: so.Mapped[RecipientRole] = so.mapped_column(StrEnumType(RecipientRole, 16))
    language: so.Mapped[str] = so.mapped_column(sa.String(8))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    center: so.Mapped[Center] = so.relationship()
    contact: so.Mapped[Contact] = so.relationship()

    def __repr__(self) -> str:
        return f"<SummaryRecipient {self.center_id} {self.role}>"


class StaffPhone(Base):
    """A registered staff phone allowed to send `VISITE <number>` for its centre."""

    __tablename__ = "staff_phones"
    __table_args__ = (sa.UniqueConstraint("center_id", "contact_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    center_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("centers.id"))
    contact_id: so.Mapped[int] = so.mapped_column(BigId, sa.ForeignKey("contacts.id"),
                                                  index=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(32), default="staff")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    center: so.Mapped[Center] = so.relationship()
    contact: so.Mapped[Contact] = so.relationship()

    def __repr__(self) -> str:
        return f"<StaffPhone {self.center_id} {self.role}>"
