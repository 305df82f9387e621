"""SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite


def _insert(db: so.Session):
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert


def insert_ignore(db: so.Session, model: type, values: dict[str, Any],
                  conflict_columns: list[str]) -> bool:
    """Insert a row unless one with the same unique columns exists; True if inserted."""
    # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT DO NOTHING.
    statement = (_insert(db)(model).values(**values)
                 .on_conflict_do_nothing(index_elements=conflict_columns)
                 .returning(*model.__table__.primary_key.columns))
    return db.execute(statement).first() is not None


def insert_many_ignore(db: so.Session, model: type, rows: list[dict[str, Any]],
                       conflict_columns: list[str]) -> None:
    """Insert many rows, skipping those whose unique columns exist already."""
    if not rows:
        return
    # One compiled statement executed for many rows (psycopg pipelines them to
    # PostgreSQL); the table, not the ORM class: no per-row bookkeeping. Measured slower:
    # multi-row VALUES ("insertmanyvalues") and one INSERT … SELECT FROM unnest(arrays).
    statement = _insert(db)(model.__table__).on_conflict_do_nothing(
        index_elements=conflict_columns)
    db.execute(statement, rows)
