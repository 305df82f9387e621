"""Bearer tokens for the JSON API."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models.base import Base, UTCDateTime, utcnow


class ApiToken(Base):
    """An API token; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_used_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        """Whether the token may still be used."""
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiToken {self.name!r}>"
