"""Plan-Do-Study-Act cycles, marked on run charts."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models.base import Base


class PdsaCycle(Base):
    """A change a centre's team tried, and when."""

    __tablename__ = "pdsa_cycles"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    center_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("centers.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    dimension: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    started_on: so.Mapped[dt.date]
    ended_on: so.Mapped[dt.date | None]
    notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    def __repr__(self) -> str:
        return f"<PdsaCycle {self.id} {self.title!r}>"
