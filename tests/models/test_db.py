"""Engines and sessions: SQLite set up for concurrent use, PostgreSQL URLs normalised."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway import db
from gateway.errors import SettingsError
from gateway.models import Center


@pytest.mark.parametrize(("given", "driver"), [
    ("postgres://kuma@db/kuma", "postgresql+psycopg"),
    ("postgresql://kuma@db/kuma", "postgresql+psycopg"),
    ("postgresql+psycopg://kuma@db/kuma", "postgresql+psycopg"),
    ("sqlite:///var/kuma.db", "sqlite"),
])
def test_urls_are_normalised(given: str, driver: str) -> None:
    assert db.normalize_url(given).drivername == driver


def test_a_bad_url_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL: cannot parse"):
        db.make_engine("not a url")


def test_sqlite_engine_creates_its_folder_and_sets_pragmas(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'deep' / 'var' / 'kuma.db'}")
    try:
        with engine.connect() as connection:
            pragma = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                      for name in ("journal_mode", "foreign_keys", "busy_timeout")}
    finally:
        engine.dispose()

    assert (tmp_path / "deep" / "var" / "kuma.db").is_file()
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1,
                      "busy_timeout": db.SQLITE_BUSY_TIMEOUT_MS}


def test_session_scope_commits(db_sessionmaker: so.sessionmaker[so.Session]) -> None:
    with db.session_scope(db_sessionmaker) as session:
        session.add(Center(code="07", name="CSCom de Sikoro"))

    with db.session_scope(db_sessionmaker) as session:
        assert session.scalars(sa.select(Center.name)).all() == ["CSCom de Sikoro"]


def test_session_scope_rolls_back_on_error(db_sessionmaker: so.sessionmaker[so.Session]) -> None:
    with pytest.raises(RuntimeError):
        with db.session_scope(db_sessionmaker) as session:
            session.add(Center(code="07", name="CSCom de Sikoro"))
            session.flush()
            raise RuntimeError("job failed")

    with db.session_scope(db_sessionmaker) as session:
        assert session.scalars(sa.select(Center)).all() == []


def test_savepoints_work(db_sessionmaker: so.sessionmaker[so.Session]) -> None:
    with db.session_scope(db_sessionmaker) as session:
        session.add(Center(code="01", name="A"))
        with pytest.raises(sa.exc.IntegrityError):
            with session.begin_nested():
                session.add(Center(code="01", name="duplicate"))
        session.add(Center(code="02", name="B"))

    with db.session_scope(db_sessionmaker) as session:
        assert session.scalars(sa.select(Center.code).order_by(Center.code)).all() == ["01", "02"]


def test_a_reader_does_not_block_a_writer(db_sessionmaker: so.sessionmaker[so.Session]) -> None:
    with db.session_scope(db_sessionmaker) as reader:
        assert reader.scalars(sa.select(Center)).all() == []
        with db.session_scope(db_sessionmaker) as writer:
            writer.add(Center(code="07", name="CSCom de Sikoro"))

    with db.session_scope(db_sessionmaker) as session:
        assert session.scalars(sa.select(Center.code)).all() == ["07"]


def test_concurrent_writers_wait_for_each_other(database_url: str) -> None:
    # Each thread reads then writes: on SQLite, without immediate=True, some would fail
    # with "database is locked" (their snapshot went stale while another wrote).
    engine = db.make_engine(database_url)
    sessions = db.make_sessionmaker(engine)
    errors: list[Exception] = []

    def write(number: int) -> None:
        try:
            for round_ in range(5):
                with db.session_scope(sessions, immediate=True) as session:
                    count = session.scalar(sa.select(sa.func.count()).select_from(Center))
                    session.add(Center(code=f"{number}-{round_}", name=f"n{count}"))
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with db.session_scope(sessions) as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Center)) == 30
    finally:
        engine.dispose()
