"""`gateway users add|list|remove|password` against the test's database."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from gateway.accounts import authenticate
from gateway.cli import main
from gateway.models import Center, User
from gateway.settings import Settings

SECRET = "a long enough secret"


@pytest.fixture
def gateway(settings: Settings, db_session):
    """Return a function running `gateway ARGS…` with `stdin` as standard input."""
    db_session.add(Center(code="CS03", name="Kati"))
    db_session.commit()
    env = {"DATABASE_URL": settings.database_url, "GATEWAY_SECRET_KEY": "test-secret",
           "KUMA_VAR_DIR": str(settings.var_dir)}

    def run(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=stdin, env=env)

    return run


def test_add_reads_the_password_from_stdin_and_keeps_only_a_hash(gateway, db_session,
                                                                caplog) -> None:
    caplog.set_level(logging.DEBUG)
    result = gateway("users", "add", "Amina", "--role", "team", "--center", "CS03",
                     "--lang", "bm", stdin=SECRET + "\n")
    assert result.exit_code == 0, result.output
    assert result.output == "Account 'amina' added (team of CS03, bm).\n"
    user = db_session.scalar(sa.select(User))
    assert user.password_hash.startswith("scrypt:") and SECRET not in user.password_hash
    assert authenticate(db_session, "amina", SECRET) is not None
    assert SECRET not in caplog.text


def test_on_a_terminal_the_password_is_asked_twice_hidden(gateway, monkeypatch) -> None:
    monkeypatch.setattr("gateway.cli.users._interactive", lambda: True)
    result = gateway("users", "add", "coord", "--role", "coordinator",
                     stdin=f"{SECRET}\nsomething else\n{SECRET}\n{SECRET}\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password: ") == 2 and "Repeat for confirmation" in result.output
    assert "do not match" in result.output
    assert SECRET not in result.output


@pytest.mark.parametrize("args, stdin, message", [
    (["--role", "team"], SECRET, "center: a team account needs its centre"),
    (["--role", "team", "--center", "XX"], SECRET, "no centre with code 'XX'"),
    (["--role", "coordinator", "--center", "CS03"], SECRET, "a coordinator sees every"),
    (["--role", "coordinator"], "short", "password: at least 10 characters"),
    (["--role", "coordinator"], "", "password: at least 10 characters"),
])
def test_add_refuses_with_one_clear_line(gateway, db_session, args, stdin, message) -> None:
    result = gateway("users", "add", "amina", *args, stdin=stdin + "\n")
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_add_refuses_a_taken_or_bad_username(gateway) -> None:
    gateway("users", "add", "amina", "--role", "coordinator", stdin=SECRET)
    taken = gateway("users", "add", "AMINA", "--role", "coordinator", stdin=SECRET)
    assert taken.exit_code == 1 and "an account named 'amina' exists" in taken.output
    bad = gateway("users", "add", "a b", "--role", "coordinator", stdin=SECRET)
    assert bad.exit_code == 1 and "username:" in bad.output


def test_list_password_and_remove(gateway, db_session) -> None:
    assert "No dashboard accounts" in gateway("users", "list").output
    gateway("users", "add", "coord", "--role", "coordinator", stdin=SECRET)
    gateway("users", "add", "kati", "--role", "team", "--center", "CS03", stdin=SECRET)
    listing = gateway("users", "list").output.splitlines()
    assert listing[0].split() == ["username", "role", "center", "language", "last", "login"]
    assert listing[1].split() == ["coord", "coordinator", "-", "fr", "-"]
    assert listing[2].split() == ["kati", "team", "CS03", "fr", "-"]

    changed = gateway("users", "password", "kati", stdin="another long secret\n")
    assert changed.exit_code == 0 and "Password of 'kati' changed." in changed.output
    db_session.expire_all()
    assert authenticate(db_session, "kati", "another long secret") is not None
    assert authenticate(db_session, "kati", SECRET) is None
    db_session.rollback()  # let go of SQLite's write lock (authenticate notes the login)

    assert gateway("users", "remove", "kati").output == "Account 'kati' removed.\n"
    missing = gateway("users", "remove", "kati")
    assert missing.exit_code == 1 and "no dashboard account named 'kati'" in missing.output
    nobody = gateway("users", "password", "kati", stdin=SECRET)
    assert nobody.exit_code == 1 and "no dashboard account named 'kati'" in nobody.output
