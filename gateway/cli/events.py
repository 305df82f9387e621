"""`gateway events dead list|retry|drop`: session records the flusher set aside."""

from __future__ import annotations

import json

import click

from gateway import deadletter
from gateway.cli.common import echo_table, open_services

COLUMNS = ("id", "failed_at", "channel", "flow", "session", "events", "reason")


@click.group()
def events() -> None:
    """Session events on their way from the webhooks to SQL."""


@events.group()
def dead() -> None:
    """Records that could not be filed (the others were)."""


@dead.command("list")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def list_(output: str) -> None:
    """List the records set aside, oldest first, with masked numbers and the reason."""
    with open_services(load_flows=False) as services:
        rows = [letter.summary() for letter in deadletter.letters(services.redis)]
    if output == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no dead letters: every session event was filed")
        return
    echo_table(COLUMNS, [[_cell(row[name]) for name in COLUMNS] for row in rows])


@dead.command()
@click.argument("ids", nargs=-1)
def retry(ids: tuple[str, ...]) -> None:
    """File the records IDS again (all of them if none is named); exit 1 if any still fails."""
    from gateway.filing import file_records

    with open_services(load_flows=False) as services:
        outcome = deadletter.retry(services.redis,
                                   lambda records: file_records(services, records), list(ids))
    for letter_id, reason in outcome.items():
        click.echo(f"{letter_id}: " + ("filed" if reason is None else f"still fails: {reason}"))
    if any(reason is not None for reason in outcome.values()):
        raise SystemExit(1)
    if not outcome:
        click.echo("no dead letters")


@dead.command("drop")
@click.argument("ids", nargs=-1, required=True)
def drop(ids: tuple[str, ...]) -> None:
    """Discard the records IDS for good."""
    with open_services(load_flows=False) as services:
        dropped = deadletter.drop(services.redis, list(ids))
    click.echo(f"dropped {dropped} dead letter(s)")


def _cell(value: object) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)
