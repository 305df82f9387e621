"""`gateway db`: create, migrate and inspect the SQL schema."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import click

from gateway import db as database
from gateway.errors import KumaError
from gateway.settings import Settings

log = logging.getLogger(__name__)


@click.group()
def db() -> None:
    """Create or migrate the database schema."""
    # Alembic announces each of its plugins at INFO; only the migrations it runs matter.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@db.command()
@click.option("--revision", default="head", show_default=True,
              help="Alembic revision to migrate to.")
def upgrade(revision: str) -> None:
    """Create or migrate the schema of DATABASE_URL."""
    try:
        settings = Settings.from_env()
        database.upgrade(settings.database_url, revision)
        current = _revision_of(settings.database_url)
    except KumaError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"database at revision {current} "
               f"({database.normalize_url(settings.database_url).render_as_string()})")


@db.command()
def current() -> None:
    """Print the schema revision of DATABASE_URL."""
    try:
        revision = _revision_of(Settings.from_env().database_url)
    except KumaError as error:
        raise click.ClickException(str(error)) from None
    click.echo(revision or "empty (run `gateway db upgrade`)")


def _revision_of(url: str) -> str | None:
    engine = database.make_engine(url)
    try:
        return database.current_revision(engine)
    finally:
        engine.dispose()


@db.command()
@click.option("-m", "--message", required=True, help="What the revision changes.")
def revision(message: str) -> None:
    """Draft a new revision from the difference between the models and head (developers)."""
    from alembic import command

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'head.db'}"
        database.upgrade(url)
        command.revision(database.alembic_config(url), message=message, autogenerate=True)
