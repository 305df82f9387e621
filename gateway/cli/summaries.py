"""`gateway summaries send`: the weekly SMS summaries, by hand (the scheduler runs them too)."""

from __future__ import annotations

import json

import click

from gateway.cli.common import open_services


@click.group()
def summaries() -> None:
    """Weekly SMS summaries for each centre's chief midwife, head and ASACO."""


@summaries.command()
@click.option("--week", metavar="YYYY-Www", default=None,
              help="ISO week to summarise (default: the week that just ended).")
@click.option("--dry-run", is_flag=True, help="Compose and show the texts; queue nothing.")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def send(week: str | None, dry_run: bool, output: str) -> None:
    """Compose and queue the week's summaries; a summary already queued is never sent twice."""
    from gateway.summaries import send_summaries

    with open_services() as services:
        rows = send_summaries(services, week=week, dry_run=dry_run)
    if output == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No active summary recipients: add some with `gateway recipients add`.")
        return
    for row in rows:
        click.echo(f"{row['center']}  {row['week']}  {row['recipient']}  {row['language']}  "
                   f"{row['status']}  ({row['segments']} SMS)")
        click.echo(f"  {row['text']}")
    statuses = ", ".join(f"{sum(r['status'] == s for r in rows)} {s.replace('_', ' ')}"
                         for s in sorted({r["status"] for r in rows}))
    click.echo(f"{len(rows)} summaries: {statuses}.")
