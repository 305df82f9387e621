"""`gateway report scores`: scores per centre, week and dimension, as a table, CSV or JSON."""

from __future__ import annotations

import logging

import click
import sqlalchemy as sa

from gateway.cli.common import database_session
from gateway.errors import KumaError

log = logging.getLogger(__name__)


@click.group()
def report() -> None:
    """Read scores per centre, week and dimension."""


@report.command()
@click.option("--center", "centers", multiple=True, metavar="CODE",
              help="Only this centre (repeat for several). Default: every centre.")
@click.option("--from", "week_from", metavar="YYYY-Www",
              help="First week. Default: the --to week.")
@click.option("--to", "week_to", metavar="YYYY-Www",
              help="Last week, included. Default: the current week.")
@click.option("--format", "output", type=click.Choice(["table", "csv", "json"]),
              default="table", show_default=True,
              help="csv: UTF-8 with BOM, ';' and decimal comma, for French spreadsheets.")
@click.option("--min-respondents", type=click.IntRange(min=1), default=None,
              help="Fewest respondents to show figures. Default: MIN_RESPONDENTS.")
def scores(centers: tuple[str, ...], week_from: str | None, week_to: str | None, output: str,
           min_respondents: int | None) -> None:
    """Print scores per centre, week and dimension (the current week included)."""
    from gateway.models import Center, utcnow
    from reports import exports
    from reports.scores import check_range, compute_scores
    from reports.weeks import default_range

    with database_session() as (settings, session):
        week_from, week_to = default_range(week_from, week_to, now=utcnow(), tz=settings.tz)
        threshold = min_respondents or settings.min_respondents
        if centers:
            known = set(session.scalars(sa.select(Center.code).where(Center.code.in_(centers))))
            unknown = [code for code in centers if code not in known]
            if unknown:
                raise click.UsageError(f"--center: no centre with code {', '.join(unknown)} "
                                       "(see `gateway centers list`)")
        try:
            check_range(week_from, week_to, names=("--from", "--to"))
        except KumaError as error:
            raise click.UsageError(str(error)) from None
        rows = compute_scores(session, centers=list(centers) or None, week_from=week_from,
                              week_to=week_to, min_respondents=threshold)
    if output == "json":
        click.echo(exports.to_json(rows))
    elif output == "csv":
        # Bytes, so that the BOM and accents survive whatever the terminal's encoding is.
        click.echo(exports.to_csv(rows).encode("utf-8"), nl=False)
    elif rows:
        click.echo(exports.to_table(rows, min_respondents=threshold))
    else:
        span = week_from if week_from == week_to else f"{week_from} to {week_to}"
        click.echo(f"No scored answers for {span}.")
