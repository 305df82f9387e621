"""The Alembic migrations build exactly the schema the models describe, on SQLite and
PostgreSQL, and `gateway db upgrade` runs them from any folder."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner

from gateway import db
from gateway.cli import main
from gateway.models import Base
from tests.conftest import (TEST_DATABASE_URL, create_schema, drop_schema, is_postgresql,
                            private_schema_url)

# The newest migration in migrations/versions.
HEAD = "0004"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'empty.db'}"
        return
    if not is_postgresql(TEST_DATABASE_URL):
        pytest.skip("KUMA_TEST_DATABASE_URL is not a PostgreSQL URL")
    schema = f"kuma_migrations_{secrets.token_hex(4)}"
    create_schema(TEST_DATABASE_URL, schema)
    try:
        yield private_schema_url(TEST_DATABASE_URL, schema)
    finally:
        drop_schema(TEST_DATABASE_URL, schema)


def differences(engine: sa.Engine) -> list:
    """Return what Alembic would change to make the database match the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_upgrade_builds_the_models_schema(empty_database_url: str) -> None:
    db.upgrade(empty_database_url)
    engine = db.make_engine(empty_database_url)
    try:
        assert differences(engine) == []
        assert db.current_revision(engine) == HEAD
        assert set(sa.inspect(engine).get_table_names()) == (
            set(Base.metadata.tables) | {"alembic_version"})
    finally:
        engine.dispose()


def test_upgrade_twice_changes_nothing_and_downgrade_empties(empty_database_url: str) -> None:
    db.upgrade(empty_database_url)
    db.upgrade(empty_database_url)
    engine = db.make_engine(empty_database_url)
    try:
        command.downgrade(db.alembic_config(empty_database_url), "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        assert db.current_revision(engine) is None
    finally:
        engine.dispose()


def test_cli_upgrade_works_from_any_folder(empty_database_url: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("DATABASE_URL", empty_database_url)

    result = CliRunner().invoke(main, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert f"database at revision {HEAD}" in result.output
    engine = db.make_engine(empty_database_url)
    try:
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_cli_upgrade_reports_bad_settings_without_traceback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://somewhere/kuma")

    result = CliRunner().invoke(main, ["db", "upgrade"])

    assert result.exit_code == 1
    assert "DATABASE_URL: expected a sqlite:// or postgresql:// URL" in result.output
    assert "Traceback" not in result.output


def test_default_database_is_a_sqlite_file_in_var(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "kuma.db").is_file()


def test_comparison_sees_a_missing_schema(empty_database_url: str) -> None:
    engine = db.make_engine(empty_database_url)
    try:
        added = {diff[1].name for diff in differences(engine) if diff[0] == "add_table"}
    finally:
        engine.dispose()
    assert added == set(Base.metadata.tables)
