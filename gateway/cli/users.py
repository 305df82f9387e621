"""`gateway users add|list|remove|password`: dashboard accounts.

The password is asked twice, hidden, on a terminal; from a pipe it is read as one line of
standard input (`printf '%s\\n' "$PW" | gateway users add …`). It is never echoed or logged.
"""

from __future__ import annotations

import sys

import click

from gateway.cli.common import database_session, echo_table


@click.group()
def users() -> None:
    """Add, list and remove dashboard accounts, and set their passwords."""


@users.command()
@click.argument("username")
@click.option("--role", type=click.Choice(["coordinator", "team"]), required=True,
              help="coordinator: every centre; team: one centre's change team.")
@click.option("--center", "center_code", metavar="CODE", help="The team's centre.")
@click.option("--lang", "language", type=click.Choice(["fr", "en", "bm"]), default="fr",
              show_default=True, help="Language of the dashboard for this account.")
def add(username: str, role: str, center_code: str | None, language: str) -> None:
    """Add the account USERNAME; its password is asked for (or read from stdin)."""
    from gateway.accounts import add_user

    password = read_password()
    with database_session() as (_, session):
        user = add_user(session, username, password, role=role, center_code=center_code,
                        language=language)
        where = f" of {user.center.code}" if user.center else ""
        click.echo(f"Account {user.username!r} added ({user.role}{where}, {user.language}).")


@users.command(name="list")
def list_() -> None:
    """List accounts: username, role, centre, language, last login."""
    from gateway.accounts import list_users

    with database_session() as (_, session):
        found = [(u.username, u.role, u.center.code if u.center else "-", u.language,
                  "-" if u.last_login_at is None else
                  u.last_login_at.strftime("%Y-%m-%d %H:%M UTC")) for u in list_users(session)]
    if not found:
        click.echo("No dashboard accounts. Add one with "
                   "`gateway users add NAME --role coordinator`.")
        return
    echo_table(("username", "role", "center", "language", "last login"), found)


@users.command()
@click.argument("username")
def remove(username: str) -> None:
    """Remove the account USERNAME; its open sessions end."""
    from gateway.accounts import remove_user

    with database_session() as (_, session):
        remove_user(session, username)
    click.echo(f"Account {username!r} removed.")


@users.command()
@click.argument("username")
def password(username: str) -> None:
    """Set a new password for USERNAME; its open sessions end."""
    from gateway.accounts import get_user, set_password

    with database_session() as (_, session):
        get_user(session, username)  # say "no such account" before asking for a password
    new = read_password()
    with database_session() as (_, session):
        set_password(session, username, new)
    click.echo(f"Password of {username!r} changed.")


def read_password() -> str:
    """Ask twice, hidden, on a terminal; else read one line from standard input."""
    from gateway.accounts import check_password_rules
    from gateway.errors import ArgumentError

    if _interactive():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        check_password_rules(password)
    except ArgumentError as error:
        raise click.ClickException(str(error)) from None
    return password


def _interactive() -> bool:
    return sys.stdin.isatty()
