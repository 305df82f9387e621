"""`gateway flows validate`, `gateway flows simulate` and `gateway flows script`."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from gateway import recordings
from gateway.engine import gsm, voice
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
        findings = recordings.check(flow, _messages())
        for problem in findings.errors + findings.warnings:
            click.echo(str(problem), err=True)
        errors += findings.errors
        if not findings.errors:
            click.echo(f"ok  {flow.path}  ({flow.id}, version {flow.version}, "
                       f"{len(flow.steps)} steps)")
    if errors:
        click.echo(f"{len(errors)} problem(s) found.", err=True)
        sys.exit(1)


@flows.command()
@click.argument("flow_ref", metavar="FLOW")
@click.option("--channel", type=click.Choice(["ussd", "sms", "voice"]), default="ussd",
              show_default=True)
@click.option("--lang", type=click.Choice(["fr", "bm"]), default=None,
              help="Her language, as if already known (default: the flow asks).")
@click.option("--center", default=None, help="Centre code, as if known from the code dialled.")
@click.option("--inputs", default=None,
              help="Answers separated by --separator, run without asking, e.g. '1*2*5' "
                   "(voice: '1,,*,2' where an empty answer is no key within the timeout).")
@click.option("--separator", default=None,
              help="Between scripted answers (default: '*'; on voice ',', as * is a key).")
@click.option("--ussd-limit", type=int, default=None,
              help="Characters a USSD screen holds (default: USSD_MAX_CHARS, 182).")
def simulate(flow_ref: str, channel: str, lang: str | None, center: str | None,
             inputs: str | None, separator: str | None, ussd_limit: int | None) -> None:
    """Take a survey in the terminal, shown exactly as a phone shows it (or heard, on voice)."""
    settings = _settings()
    ussd_limit = ussd_limit or settings.ussd_max_chars
    flow = _find_flow(flow_ref, settings.flows_dir, ussd_limit)
    env = Environment(now=datetime.now(timezone.utc), messages=_messages(),
                      ussd_limit=ussd_limit)
    separator = separator or ("," if channel == "voice" else "*")
    scripted = inputs.split(separator) if inputs is not None else None
    if channel == "voice":
        _simulate_call(flow, env, Trigger("voice", language=lang, center=center), scripted)
        return
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


@flows.command()
@click.argument("flow_ref", metavar="FLOW")
@click.option("--lang", type=click.Choice(["fr", "bm"]), required=True,
              help="The language to record.")
def script(flow_ref: str, lang: str) -> None:
    """Print the recording script of a voice flow: each file to record and its exact text."""
    settings = _settings()
    flow = _find_flow(flow_ref, settings.flows_dir, settings.ussd_max_chars)
    _require_voice(flow, lang)
    root = recordings.folder(flow)
    segments = voice.script(flow, lang, _messages())
    own = [s for s in segments if not s.file.startswith(voice.GATEWAY + "/")]
    shared = [s for s in segments if s.file.startswith(voice.GATEWAY + "/")]
    click.echo(f"Recording script of {flow.id} ({flow.version}) in {lang}: "
               f"{len(segments)} recordings under {root}/")
    click.echo("Record each as WAV, 16-bit PCM, mono, 8000 Hz; read the text exactly.")
    for title, part in ((f"This flow's questions ({flow.id}/{lang}/)", own),
                        (f"The gateway's own phrases, shared by every voice flow "
                         f"({voice.GATEWAY}/{lang}/)", shared)):
        click.echo(f"\n{title}")
        for number, segment in enumerate(part, 1):
            found = recordings.problem(root / segment.file)
            mark = "" if found is None else f"  [{found}]"
            click.echo(f"{number:3}. {segment.file}{mark}\n     {segment.text}")


def _require_voice(flow: Flow, lang: str | None) -> None:
    if "voice" not in flow.channels:
        click.echo(f"{flow.path}: flow '{flow.id}' is not offered on voice: add voice to its "
                   "'channels'", err=True)
        sys.exit(1)
    if lang is not None and lang not in flow.voice.languages:
        click.echo(f"{flow.path}: flow '{flow.id}' is offered on voice in "
                   f"{', '.join(flow.voice.languages)} only, not {lang}", err=True)
        sys.exit(1)


def _simulate_call(flow: Flow, env: Environment, trigger: Trigger,
                   scripted: list[str] | None) -> None:
    """Run a call in the terminal: what she hears, segment by segment; keys as input."""
    _require_voice(flow, trigger.language)
    root = recordings.folder(flow)
    turn = voice.start(flow, trigger, env)
    click.echo(f"{flow.id} {flow.version} on voice"
               + (f", language {trigger.language}" if trigger.language else "")
               + (f", centre {trigger.center}" if trigger.center else "")
               + "\nkeys: digits, * to repeat, # after a number, an empty line for no key")
    while True:
        _echo_events(turn.events)
        _hear(flow, turn.prompt, root)
        if turn.prompt.final:
            return
        if scripted is not None:
            if not scripted:
                click.echo("(no more keys: the call is left open)")
                return
            keys = scripted.pop(0)
            click.echo(f"> {keys}" if keys else "> (no key)")
        else:
            try:
                keys = input("> ")
            except EOFError:
                click.echo("\n(call left open)")
                return
        turn = voice.resume(flow, turn.state, keys, env)


def _echo_events(events: list[dict]) -> None:
    for event in events:
        if event["type"] == "answer_given":
            click.echo(f"      = {event['step']}: {event['value']}"
                       + (f" (score {event['score']:g})" if event["score"] is not None else ""))
        elif event["type"] == "session_ended":
            click.echo(f"      = session {event['status']}")


def _hear(flow: Flow, prompt: voice.VoicePrompt, root: Path) -> None:
    for segment in prompt.segments:
        found = recordings.problem(root / segment.file)
        if found is None:
            mark = "play"
        elif found == "is missing" and segment.language in flow.voice.read_aloud:
            mark = "MISSING, read aloud"
        else:
            mark = "MISSING, silence" if found == "is missing" else "UNPLAYABLE"
        click.echo(f"  [{mark}] {segment.file}\n      {segment.text}")
    keys = prompt.keys
    if keys is None:
        click.echo("  (the call ends)")
        return
    wanted = (f"{keys.digits} key{'s' if keys.digits > 1 else ''}" if keys.digits
              else f"digits ended by {keys.finish_on_key}")
    click.echo(f"  (waits {keys.timeout} s for {wanted}; * repeats)")
