"""The declarative base, the column types every model shares, and time helpers."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

# Stable constraint names, so that migrations can name what they alter or drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def iso_week(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """Return the ISO week ("YYYY-Www") of an aware `moment` as seen in time zone `tz`."""
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year:04d}-W{week:02d}"


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware (SQLite included)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; Kuma stores aware times")
        value = value.astimezone(dt.timezone.utc)
        # SQLite keeps text: drop the offset so that stored values sort and compare as UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class StrEnumType(sa.TypeDecorator):
    """A str enum stored as its plain value in a VARCHAR (no database enum to migrate)."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum_class: type[enum.StrEnum], length: int = 32) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        try:
            return self.enum_class(value).value
        except ValueError:
            allowed = ", ".join(member.value for member in self.enum_class)
            raise ValueError(f"{value!r} is not a {self.enum_class.__name__} "
                             f"(expected one of: {allowed})") from None

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else self.enum_class(value)


# Big tables get 64-bit ids on PostgreSQL; SQLite's rowid needs plain INTEGER.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(so.DeclarativeBase):
    """Base of every Kuma model."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Timestamps:
    """created_at and updated_at, set by Python in UTC."""

    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow,
                                                          onupdate=utcnow)
