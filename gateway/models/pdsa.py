"""Plan-Do-Study-Act cycles, marked on run charts."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models.base import Base, StrEnumType, Timestamps
from gateway.models.centers import Center
from gateway.statuses import PdsaBaseline, PdsaDecision, PdsaStatus


class PdsaCycle(Timestamps, Base):
    """A change a centre's team tried, what it expected, what it learnt, and who wrote it."""

    __tablename__ = "pdsa_cycles"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    center_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("centers.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    change: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    area: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    dimension: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    prediction: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    started_on: so.Mapped[dt.date]
    ended_on: so.Mapped[dt.date | None]
    plan_notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    do_notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    study_notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    act_notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    decision: so.Mapped[PdsaDecision | None] = so.mapped_column(StrEnumType(PdsaDecision, 16))
    status: so.Mapped[PdsaStatus] = so.mapped_column(StrEnumType(PdsaStatus, 16),
                                                     default=PdsaStatus.PLANNED)
    baseline: so.Mapped[PdsaBaseline | None] = so.mapped_column(StrEnumType(PdsaBaseline, 16))
    # A username, or `token:NAME` for the API, or `cli:USER` for the command line.
    created_by: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    updated_by: so.Mapped[str] = so.mapped_column(sa.String(120), default="")

    center: so.Mapped[Center] = so.relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<PdsaCycle {self.id} {self.title!r}>"
