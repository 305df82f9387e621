"""`gateway tokens create|list|revoke`: bearer tokens for the JSON API."""

from __future__ import annotations

import click

from gateway.cli.common import database_session, echo_table


@click.group()
def tokens() -> None:
    """Create, list and revoke API tokens."""


@tokens.command()
@click.argument("name")
def create(name: str) -> None:
    """Create a token called NAME and print it, once: only its hash is kept."""
    from gateway.api_tokens import create_token

    with database_session() as (_, session):
        token = create_token(session, name)
    click.echo(token)
    click.echo(f"API token {name!r} created. Copy it now: it cannot be shown again. "
               "Send it as `Authorization: Bearer <token>`.", err=True)


@tokens.command(name="list")
def list_() -> None:
    """List tokens: name, created, last used, and whether revoked."""
    from gateway.api_tokens import list_tokens

    with database_session() as (_, session):
        found = list_tokens(session)
    if not found:
        click.echo("No API tokens. Create one with `gateway tokens create NAME`.")
        return
    echo_table(("name", "created", "last used", "status"), [
        (token.name, _when(token.created_at), _when(token.last_used_at),
         "active" if token.active else f"revoked {_when(token.revoked_at)}")
        for token in found])


@tokens.command()
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke the active token called NAME; requests with it get 401 from now on."""
    from gateway.api_tokens import revoke_token

    with database_session() as (_, session):
        count = revoke_token(session, name)
    click.echo(f"API token {name!r} revoked" + (f" ({count} tokens)" if count > 1 else "") + ".")


def _when(moment) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
