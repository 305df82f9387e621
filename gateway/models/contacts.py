"""Phones that answered surveys or receive summaries."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models.base import BigId, Base, Timestamps, UTCDateTime


class Contact(Timestamps, Base):
    """A phone number, encrypted at rest and looked up by its keyed hash (gateway.phones)."""

    __tablename__ = "contacts"

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    phone_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    phone_encrypted: so.Mapped[str] = so.mapped_column(sa.Text)
    language: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    # The centre this contact last gave feedback on or was invited by.
    center_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("centers.id"))
    opted_out_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    @property
    def opted_out(self) -> bool:
        """Whether this contact asked for no more SMS."""
        return self.opted_out_at is not None

    def __repr__(self) -> str:
        return f"<Contact {self.id}>"
