"""Health centres (CSComs)."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models.base import Base, Timestamps


class Center(Timestamps, Base):
    """A community health centre, found by its code, USSD extension or SMS keyword."""

    __tablename__ = "centers"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    district: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    # Strings, not numbers: "07" and "7" are different extensions.
    ussd_extension: so.Mapped[str | None] = so.mapped_column(sa.String(16), unique=True)
    sms_keyword: so.Mapped[str | None] = so.mapped_column(sa.String(32))

    def __repr__(self) -> str:
        return f"<Center {self.code}>"
