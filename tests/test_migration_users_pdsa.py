"""Migration 0003 adds dashboard accounts and the PDSA fields, keeping cycles already filed."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from gateway import db
from tests.test_migrations import empty_database_url  # noqa: F401 (fixture)


def _cycle_rows(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(
            "SELECT title, started_on, notes FROM pdsa_cycles ORDER BY id")))


def test_0003_keeps_existing_cycles_up_and_down(empty_database_url: str) -> None:  # noqa: F811
    config = db.alembic_config(empty_database_url)
    command.upgrade(config, "0002")
    engine = db.make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO centers (code, name, district, created_at, updated_at) "
                "VALUES ('BKS', 'Banankabougou', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            connection.execute(sa.text(
                "INSERT INTO pdsa_cycles (center_id, title, started_on, notes) "
                "SELECT id, 'Accueil', '2026-10-05', 'old' FROM centers"))
        before = _cycle_rows(engine)

        command.upgrade(config, "0003")
        with engine.connect() as connection:
            status, change = connection.execute(sa.text(
                "SELECT status, change FROM pdsa_cycles")).one()
        assert (status, change) == ("running", "")
        assert "users" in sa.inspect(engine).get_table_names()
        assert _cycle_rows(engine) == before

        command.downgrade(config, "0002")
        assert "users" not in sa.inspect(engine).get_table_names()
        assert "status" not in {c["name"] for c in sa.inspect(engine).get_columns("pdsa_cycles")}
        assert _cycle_rows(engine) == before
    finally:
        engine.dispose()
