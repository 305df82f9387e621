"""Dashboard accounts: coordinators see every centre, a change team its own."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models.base import Base, StrEnumType, Timestamps, UTCDateTime
from gateway.models.centers import Center
from gateway.statuses import UserRole


class User(Timestamps, Base):
    """Someone who logs in to the dashboard; only a scrypt hash of the password is kept."""

    __tablename__ = "users"
    __table_args__ = (
        # A team member belongs to one centre; a coordinator to none in particular.
        sa.CheckConstraint("role <> 'team' OR center_id IS NOT NULL", name="team_has_center"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[UserRole] = so.mapped_column(StrEnumType(UserRole, 16))
    center_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("centers.id"), index=True)
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="fr")
    last_login_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    center: so.Mapped[Center | None] = so.relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
