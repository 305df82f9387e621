"""`gateway centers import FILE.csv` and `gateway centers list`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click

from gateway.center_import import import_file, list_centers
from gateway.cli.common import echo_table, open_services, refuse_file
from gateway.db import session_scope
from gateway.errors import CenterImportError

COLUMNS = ("code", "name", "district", "ussd_extension", "sms_keyword")


@click.group()
def centers() -> None:
    """Import and list the health centres (CSComs)."""


@centers.command("import")
@click.argument("path", metavar="FILE.csv", type=click.Path(path_type=Path, dir_okay=False))
def import_(path: Path) -> None:
    """Create or update centres from a CSV (code,name,district,ussd_extension,sms_keyword)."""
    with open_services(load_flows=False) as services:
        try:
            result = import_file(services, path)
        except CenterImportError as error:
            refuse_file(error.errors)
    click.echo(f"{path}: {result.created} new, {result.updated} updated, "
               f"{result.unchanged} unchanged centre(s).")


@centers.command("list")
@click.option("--format", "output", type=click.Choice(["table", "csv", "json"]),
              default="table", show_default=True)
def list_(output: str) -> None:
    """List the centres, by code."""
    with open_services(load_flows=False) as services, \
            session_scope(services.sessionmaker) as db:
        rows = [[center.code, center.name, center.district, center.ussd_extension or "",
                 center.sms_keyword or ""] for center in list_centers(db)]
    if output == "json":
        click.echo(json.dumps([dict(zip(COLUMNS, row)) for row in rows], ensure_ascii=False,
                              indent=2))
    elif output == "csv":
        writer = csv.writer(click.get_text_stream("stdout"), lineterminator="\n")
        writer.writerows([COLUMNS, *rows])
    elif not rows:
        click.echo("No centres yet: import some with `gateway centers import FILE.csv`.")
    else:
        echo_table(("code", "name", "district", "ext", "keyword"), rows)
