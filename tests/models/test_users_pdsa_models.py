"""The users table and the PDSA enums: the database itself refuses a team without a centre."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.models import User
from gateway.statuses import PdsaBaseline, PdsaDecision, PdsaStatus, UserRole
from tests.models.test_models import documented_values


@pytest.mark.parametrize("enum_class", [UserRole, PdsaStatus, PdsaDecision, PdsaBaseline])
def test_new_enums_match_the_internals_contract(enum_class) -> None:
    assert [member.value for member in enum_class] == documented_values(enum_class.__name__)


def test_a_team_account_without_a_centre_is_refused_by_the_database(
        db_session: so.Session) -> None:
    db_session.add(User(username="kati", password_hash="x", role=UserRole.TEAM))
    with pytest.raises(sa.exc.IntegrityError):
        db_session.commit()
    db_session.rollback()


def test_usernames_are_unique(db_session: so.Session) -> None:
    db_session.add(User(username="coord", password_hash="x", role=UserRole.COORDINATOR))
    db_session.commit()
    db_session.add(User(username="coord", password_hash="y", role=UserRole.COORDINATOR))
    with pytest.raises(sa.exc.IntegrityError):
        db_session.commit()
    db_session.rollback()
