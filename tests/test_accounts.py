"""Dashboard accounts: scrypt hashes, the password check, and the login it notes."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy.orm as so

from gateway.accounts import (PASSWORD_MAX, add_user, authenticate, normalize_username,
                              password_stamp, set_password)
from gateway.errors import ArgumentError
from gateway.models import Center

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.timezone.utc)


@pytest.fixture
def coord(db_session: so.Session):
    db_session.add(Center(code="BKS", name="Banankabougou"))
    return add_user(db_session, "coord", "a long password", role="coordinator")


def test_only_a_salted_scrypt_hash_is_kept(db_session: so.Session, coord) -> None:
    other = add_user(db_session, "other", "a long password", role="coordinator")
    assert coord.password_hash.startswith("scrypt:")
    assert "a long password" not in coord.password_hash
    assert coord.password_hash != other.password_hash


def test_authenticate_notes_the_login_and_refuses_wrong_passwords(db_session, coord) -> None:
    assert authenticate(db_session, "coord", "a long passworD") is None
    assert authenticate(db_session, "nobody", "a long password") is None
    assert authenticate(db_session, "coord", "x" * (PASSWORD_MAX + 1)) is None
    assert coord.last_login_at is None
    assert authenticate(db_session, " Coord", "a long password", now=NOW) is coord
    assert coord.last_login_at == NOW


def test_a_new_password_changes_the_session_stamp(db_session, coord) -> None:
    before = password_stamp(coord)
    set_password(db_session, "coord", "another long password")
    assert password_stamp(coord) != before
    with pytest.raises(ArgumentError, match="password: at least 10 characters"):
        set_password(db_session, "coord", "short")


@pytest.mark.parametrize("name", ["a", "has space", "é-accent", "x" * 65, "-lead", ""])
def test_usernames_are_plain_and_short(name: str) -> None:
    with pytest.raises(ArgumentError, match="username:"):
        normalize_username(name)


def test_a_language_outside_the_dashboard_is_refused(db_session, coord) -> None:
    with pytest.raises(ArgumentError, match="language: expected one of fr, en, bm"):
        add_user(db_session, "amina", "a long password", role="coordinator", language="de")
