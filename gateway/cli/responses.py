"""`gateway responses import FILE.csv --flow FLOW`: answers collected before Kuma."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.baseline import ImportSummary, import_file
from gateway.cli.common import echo_table, open_services, refuse_file
from gateway.errors import ResponseImportError


@click.group()
def responses() -> None:
    """Import answers collected before Kuma, on paper or with ODK/KoboToolbox."""


@responses.command("import")
@click.argument("path", metavar="FILE.csv", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--flow", "flow_id", required=True, metavar="FLOW",
              help="The flow whose steps the file answers (its id, e.g. maternal_care).")
def import_(path: Path, flow_id: str) -> None:
    """File a CSV of answers (center,date,respondent,step,value) as sessions of FLOW.

    One line per answer: the centre's code, the local date (YYYY-MM-DD), an id grouping one
    mother's answers within the file, the flow's step id, and the option's value as written
    in the flow (or the number or text she gave; empty: not answered). Commas or
    semicolons. Each respondent becomes one completed session on channel `imported`,
    scored by the flow as a live answer would be.

    The file is checked whole first: one bad line and nothing is imported, every problem
    named as FILE:line. Importing the same file again changes nothing; a file with more
    lines adds only those. An import never changes an answer imported before: a value that
    differs for the same centre, date, respondent and step is refused, naming its line.
    """
    with open_services() as services:
        flow = services.flows.live(flow_id)
        if flow is None:
            known = ", ".join(sorted(services.flows.flows)) or "none"
            raise click.ClickException(f"no flow {flow_id!r} (flows: {known})")
        try:
            summary = import_file(services, path, flow)
        except ResponseImportError as error:
            refuse_file(error.errors)
    _echo_summary(path, summary)


def _echo_summary(path: Path, summary: ImportSummary) -> None:
    blank = f" ({summary.blank} blank, skipped)" if summary.blank else ""
    click.echo(f"{path}: {summary.rows} line(s) read{blank}, {summary.respondents} "
               f"respondent(s): {summary.created} new session(s), {summary.present} already "
               f"present, {summary.answers_added} answer(s) added.")
    echo_table(("centre", "resp.", "new", "present", "weeks"), [
        (line.center, line.respondents, line.created, line.present,
         line.first_week if line.first_week == line.last_week
         else f"{line.first_week}–{line.last_week}")
        for line in summary.centers])
