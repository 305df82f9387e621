"""Engines, sessions and schema upgrades for SQLite (the default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.errors import SettingsError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
_AFTER_COMMIT = "kuma_after_commit"


def normalize_url(database_url: str) -> sa.URL:
    """Parse `database_url`, pointing every PostgreSQL spelling at the psycopg 3 driver."""
    try:
        url = sa.make_url(database_url)
    except sa.exc.ArgumentError:
        raise SettingsError(f"DATABASE_URL: cannot parse {database_url!r}") from None
    if url.drivername in ("postgres", "postgresql", "postgres+psycopg"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(database_url: str, **options) -> sa.Engine:
    """Create an engine; SQLite gets its folder, WAL, foreign keys and a busy timeout."""
    url = normalize_url(database_url)
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, **options)
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, **options)
    sa.event.listen(engine, "connect", _configure_sqlite)
    sa.event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection, connection_record) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(connection: sa.Connection) -> None:
    # Plain BEGIN by default, so that readers never block anyone (WAL). IMMEDIATE, asked
    # for by session_scope(immediate=True), takes the write lock up front: writers that
    # read first then queue on busy_timeout instead of failing with "database is locked".
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_sessionmaker(engine: sa.Engine) -> so.sessionmaker[so.Session]:
    """Return a session factory whose objects stay readable after commit."""
    return so.sessionmaker(engine, expire_on_commit=False)


def after_commit(session: so.Session, action: Callable[[], None]) -> None:
    """Run `action` once `session` commits; forget it if `session` rolls back."""
    pending = session.info.get(_AFTER_COMMIT)
    if pending is None:
        pending = session.info[_AFTER_COMMIT] = []
        sa.event.listen(session, "after_commit", _run_after_commit)
        sa.event.listen(session, "after_rollback", _drop_after_commit)
    pending.append(action)


def _run_after_commit(session: so.Session) -> None:
    pending, session.info[_AFTER_COMMIT] = session.info.get(_AFTER_COMMIT) or [], []
    for action in pending:
        action()


def _drop_after_commit(session: so.Session) -> None:
    session.info[_AFTER_COMMIT] = []


@contextlib.contextmanager
def session_scope(sessionmaker: so.sessionmaker[so.Session], *,
                  immediate: bool = False) -> Iterator[so.Session]:
    """Yield a session; commit when the block ends, roll back if it raises.

    `immediate` is for blocks that read then write when writers may run side by side: on
    SQLite it takes the write lock at the start (no effect on PostgreSQL).
    """
    session = sessionmaker()
    try:
        if immediate:
            session.connection(execution_options={"sqlite_immediate": True})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(database_url: str):
    """Build the Alembic configuration in code, so upgrades work from any folder."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not a main option: configparser would choke on a '%' in a URL.
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Create or migrate the schema of `database_url` to `revision` (default: the newest)."""
    from alembic import command

    if not MIGRATIONS_DIR.is_dir():
        raise SettingsError(f"migrations folder not found at {MIGRATIONS_DIR}")
    command.upgrade(alembic_config(database_url), revision)


def current_revision(engine: sa.Engine) -> str | None:
    """Return the schema revision stored in the database, or None if it has none."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
