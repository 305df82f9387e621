"""`gateway pdsa add|list`: Plan-Do-Study-Act cycles, as the dashboard marks them on charts."""

from __future__ import annotations

import datetime as dt
import getpass
import json

import click

from gateway.cli.common import database_session, echo_table


@click.group()
def pdsa() -> None:
    """Add and list PDSA cycles."""


@pdsa.command()
@click.option("--center", "center_code", metavar="CODE", required=True, help="The centre.")
@click.option("--title", required=True, help="What the change is, in a few words.")
@click.option("--start", required=True, metavar="YYYY-MM-DD", help="First day of the cycle.")
@click.option("--end", metavar="YYYY-MM-DD", help="Last day, if known.")
@click.option("--dimension", metavar="ID", help="The dimension, area or `overall` it aims at.")
@click.option("--baseline", type=click.Choice(["freeze", "split"]),
              help="freeze: test what follows against the median before; split: new phase.")
def add(center_code: str, title: str, start: str, end: str | None, dimension: str | None,
        baseline: str | None) -> None:
    """Add a cycle to a centre and print it."""
    from gateway.pdsa import check_fields, create_cycle

    with database_session() as (settings, session):
        fields = check_fields({"title": title, "started_on": start, "ended_on": end,
                               "dimension": dimension, "baseline": baseline},
                              _vocabulary(settings))
        cycle = create_cycle(session, center_code, fields, by=_who(),
                             today=dt.datetime.now(settings.tz).date())
        click.echo(f"PDSA cycle {cycle.id} added to {center_code}: {cycle.title} "
                   f"({cycle.status}, from {cycle.started_on}).")


@pdsa.command(name="list")
@click.option("--center", "center_code", metavar="CODE", help="Only this centre.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def list_(center_code: str | None, output: str) -> None:
    """List cycles by centre and start date."""
    from gateway.pdsa import center_by_code, cycle_dict, list_cycles

    with database_session() as (_, session):
        if center_code:
            center_by_code(session, center_code)
        cycles = [cycle_dict(c) for c in list_cycles(
            session, [center_code] if center_code else None)]
    if output == "json":
        click.echo(json.dumps(cycles, ensure_ascii=False, indent=2))
        return
    if not cycles:
        click.echo("No PDSA cycles. Add one with `gateway pdsa add --center CODE --title TEXT "
                   "--start YYYY-MM-DD`.")
        return
    echo_table(("id", "center", "start", "end", "status", "dimension", "baseline", "title"),
               [(c["id"], c["center"], c["started_on"], c["ended_on"] or "-", c["status"],
                 c["dimension"] or "-", c["baseline"] or "-", c["title"]) for c in cycles])


def _vocabulary(settings):
    """Return the dimensions of the flows on disk (no Redis needed to list them)."""
    from gateway.flow_library import check_files
    from gateway.i18n import engine_messages
    from gateway.pdsa import Vocabulary

    flows, _ = check_files([settings.flows_dir], engine_messages(),
                           ussd_limit=settings.ussd_max_chars)
    return Vocabulary.of(flows)


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in a bare container
        return "cli"
