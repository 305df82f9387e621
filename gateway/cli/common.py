"""What the commands share: services or a database session, with errors as one clean line,
a file's problems listed when it was refused, and tables printed in aligned columns."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import NoReturn

import click
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.errors import KumaError
from gateway.services import Services
from gateway.settings import Settings, ensure_secret_key

log = logging.getLogger(__name__)


@contextlib.contextmanager
def open_services(*, load_flows: bool = True) -> Iterator[Services]:
    """Build the services from the environment; turn Kuma's and SQL errors into CLI errors.

    Commands that do not run surveys pass `load_flows=False`: a broken flow must not block
    an import or a listing.
    """
    try:
        services = Services.build(ensure_secret_key(Settings.from_env()), load_flows=load_flows)
    except KumaError as error:
        raise click.ClickException(str(error)) from None
    try:
        yield services
    except KumaError as error:
        raise click.ClickException(str(error)) from None
    except sa.exc.SQLAlchemyError as error:
        raise click.ClickException(database_problem(error)) from None
    finally:
        services.close()


@contextlib.contextmanager
def database_session() -> Iterator[tuple[Settings, so.Session]]:
    """Yield the settings and a database session; turn Kuma's and SQL errors into messages.

    Reports and tokens need the database only, so no Redis is started or joined here.
    """
    from gateway import db

    try:
        settings = ensure_secret_key(Settings.from_env())
        engine = db.make_engine(settings.database_url)
    except KumaError as error:
        raise click.ClickException(str(error)) from None
    try:
        with db.session_scope(db.make_sessionmaker(engine)) as session:
            yield settings, session
    except KumaError as error:
        raise click.ClickException(str(error)) from None
    except sa.exc.SQLAlchemyError as error:
        log.debug("database error", exc_info=True)
        raise click.ClickException(
            f"database error ({type(error.orig or error).__name__}); is the schema "
            "up to date? run `gateway db upgrade`") from None
    finally:
        engine.dispose()


def database_problem(error: sa.exc.SQLAlchemyError) -> str:
    """Say in one line what went wrong with the database, and the usual cure."""
    first = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return f"database error: {first} (has `gateway db upgrade` been run?)"


def refuse_file(problems: Sequence[str]) -> NoReturn:
    """Print each problem of a refused file, then exit 1: nothing was imported."""
    for line in problems:
        click.echo(line, err=True)
    click.echo(f"{len(problems)} problem(s) found; nothing was imported.", err=True)
    sys.exit(1)


def echo_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print `rows` under `header` in left-aligned columns two spaces apart."""
    table = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
