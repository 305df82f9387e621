"""`gateway flows validate` and `gateway flows simulate`."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from gateway.engine import gsm
from gateway.engine.definition import Flow
from gateway.engine.session import Environment, Trigger, resume, start
from gateway.flow_library import check_files


@click.group()
def flows() -> None:
    """Check survey flows and try them as a phone would."""


def _settings():
    from gateway.settings import Settings

    return Settings.from_env()


def _messages():
    from gateway.i18n import engine_messages

    return engine_messages()


@flows.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--ussd-limit", type=int, default=None,
              help="Characters a USSD screen holds, CON/END included (default: "
                   "USSD_MAX_CHARS, 182).")
def validate(paths: tuple[Path, ...], ussd_limit: int | None) -> None:
    """Check flow files (default: the flows folder); print `file:line: message` for each problem."""
    settings = _settings()
    ussd_limit = ussd_limit or settings.ussd_max_chars
    targets = list(paths) or [settings.flows_dir]
    found, errors = check_files(targets, _messages(), ussd_limit=ussd_limit)
    for error in errors:
        click.echo(str(error), err=True)
    for flow in found:
        click.echo(f"ok  {flow.path}  ({flow.id}, version {flow.version}, "
                   f"{len(flow.steps)} steps)")
    if errors:
        click.echo(f"{len(errors)} problem(s) found.", err=True)
        sys.exit(1)


@flows.command()
@click.argument("flow_ref", metavar="FLOW")
@click.option("--channel", type=click.Choice(["ussd", "sms"]), default="ussd", show_default=True)
@click.option("--lang", type=click.Choice(["fr", "bm"]), default=None,
              help="Her language, as if already known (default: the flow asks).")
@click.option("--center", default=None, help="Centre code, as if known from the code dialled.")
@click.option("--inputs", default=None,
              help="Answers separated by --separator, run without asking, e.g. '1*2*5'.")
@click.option("--separator", default="*", show_default=True)
@click.option("--ussd-limit", type=int, default=None,
              help="Characters a USSD screen holds (default: USSD_MAX_CHARS, 182).")
def simulate(flow_ref: str, channel: str, lang: str | None, center: str | None,
             inputs: str | None, separator: str, ussd_limit: int | None) -> None:
    """Take a survey in the terminal, shown exactly as a phone shows it."""
    settings = _settings()
    ussd_limit = ussd_limit or settings.ussd_max_chars
    flow = _find_flow(flow_ref, settings.flows_dir, ussd_limit)
    env = Environment(now=datetime.now(timezone.utc), messages=_messages(),
                      ussd_limit=ussd_limit)
    scripted = inputs.split(separator) if inputs is not None else None
    turn = start(flow, Trigger(channel, language=lang, center=center), env)
    click.echo(f"{flow.id} {flow.version} on {channel}"
               + (f", language {lang}" if lang else "") + (f", centre {center}" if center else ""))
    while True:
        for event in turn.events:
            if event["type"] == "answer_given":
                click.echo(f"      = {event['step']}: {event['value']}"
                           + (f" (score {event['score']:g})" if event["score"] is not None
                              else ""))
            elif event["type"] == "session_ended":
                click.echo(f"      = session {event['status']}")
        _show(turn.reply.text, turn.reply.final, channel, ussd_limit)
        if turn.reply.final:
            return
        if scripted is not None:
            if not scripted:
                click.echo("(no more inputs: the session is left open)")
                return
            typed = scripted.pop(0)
            click.echo(f"> {typed}")
        else:
            try:
                typed = input("> ")
            except EOFError:
                click.echo("\n(session left open)")
                return
        turn = resume(flow, turn.state, typed, env)


def _find_flow(flow_ref: str, flows_dir: Path, ussd_limit: int) -> Flow:
    path = Path(flow_ref)
    if not path.exists():
        path = flows_dir / f"{flow_ref}.yaml"
    found, errors = check_files([path], _messages(), ussd_limit=ussd_limit)
    if errors:
        for error in errors:
            click.echo(str(error), err=True)
        sys.exit(1)
    return found[0]


def _show(text: str, final: bool, channel: str, ussd_limit: int) -> None:
    if channel == "ussd":
        body = ("END " if final else "CON ") + text
        footer = f"{'END' if final else 'CON'}, {len(body)}/{ussd_limit} characters"
    else:
        count = gsm.count(text)
        footer = (f"SMS, {count.characters} characters, {count.segments} "
                  f"{count.encoding} segment{'s' if count.segments > 1 else ''}")
    width = max([len(line) for line in text.splitlines()] + [len(footer) + 4, 20])
    click.echo("+" + "-" * (width + 2) + "+")
    for line in text.splitlines() or [""]:
        click.echo(f"| {line.ljust(width)} |")
    click.echo(f"+-- {footer} " + "-" * max(width - len(footer) - 2, 0) + "+")
