"""SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignore(db: so.Session, model: type, values: dict[str, Any],
                  conflict_columns: list[str]) -> bool:
    """Insert a row unless one with the same unique columns exists; True if inserted."""
    dialect = db.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT DO NOTHING.
    statement = (builder(model).values(**values)
                 .on_conflict_do_nothing(index_elements=conflict_columns)
                 .returning(*model.__table__.primary_key.columns))
    return db.execute(statement).first() is not None
