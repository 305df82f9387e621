"""Alembic environment: Kuma's models are the target, gateway.db makes the engine.

`gateway.db.upgrade(url)` passes the URL in `config.attributes["database_url"]`; a caller
that already holds a connection may pass it as `config.attributes["connection"]`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

import gateway.models
from gateway.db import make_engine, normalize_url

config = context.config
target_metadata = gateway.models.Base.metadata


def database_url() -> str:
    """Return the URL given by the caller, or by an alembic.ini if one is used."""
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: use `gateway db upgrade` or gateway.db.upgrade()")
    return url


def run_offline() -> None:
    """Write the SQL to stdout instead of running it."""
    context.configure(url=normalize_url(database_url()), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on a live connection."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def render_item(kind: str, item, autogen_context):
    """Draft revisions with plain SQLAlchemy types, so they never import gateway code."""
    if kind == "type" and isinstance(item, sa.TypeDecorator):
        return f"sa.{item.impl_instance!r}"
    return False


def _run(connection) -> None:
    # Batch mode lets later migrations alter SQLite tables (it copies and renames them).
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
