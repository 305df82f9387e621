"""`gateway invite`, `gateway staff` and `gateway messages list`, as staff run them."""

from __future__ import annotations

import datetime as dt
import json

import click
import pytest
from click.testing import CliRunner

from gateway.sms import send
from gateway.channels.base import LogSender
from gateway.cli import main
from gateway.cli.invite import staff
from tests.sms.support import add_contact, add_message, point_worker_at

BAMAKO_TODAY = dt.datetime.now(dt.timezone.utc).date()  # Africa/Bamako is UTC+0


@pytest.fixture(autouse=True)
def environment(monkeypatch, settings, services):
    """Point the command at the test's database and Redis, as a shell's environment would."""
    point_worker_at(monkeypatch, settings)


def run(*args: str, command: click.Command = main):
    return CliRunner().invoke(command, list(args))


def test_invite_prints_what_was_scheduled(services):
    result = run("invite", "--center", "07", "--phone", "76123456", "--at", "2030-01-02T10:00")

    assert result.exit_code == 0, result.output
    assert result.output == ("invitation 1 scheduled: +223******56 at CSCom de Banconi (07), "
                             "flow maternal_care, SMS at 2030-01-02 12:00 (Africa/Bamako)\n")
    assert "76123456" not in result.output
    assert len(services.queue.scheduled_job_registry) == 1


def test_an_evening_visit_is_invited_next_morning():
    result = run("invite", "--center", "07", "--phone", "+22376123456", "--at", "20:30")

    tomorrow = BAMAKO_TODAY + dt.timedelta(days=1)
    assert f"SMS at {tomorrow:%Y-%m-%d} 07:00 (Africa/Bamako)" in result.output


def test_invite_says_why_it_skipped(services):
    add_contact(services, opted_out=True)

    result = run("invite", "--center", "07", "--phone", "76123456")

    assert result.exit_code == 0
    assert result.output == ("invitation 1 skipped: +223******56 at CSCom de Banconi (07): "
                             "the contact opted out of SMS\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--center", "99", "--phone", "76123456"], "Error: centre '99' not found"),
    (["--center", "07", "--phone", "12"], "Error: not a valid phone number for ML"),
    (["--center", "07", "--phone", "76123456", "--flow", "x"], "Error: flow 'x' not found"),
    (["--center", "07", "--phone", "76123456", "--at", "tomorrow"],
     "Error: Invalid value for --at: expected HH:MM or an ISO date and time"),
])
def test_bad_arguments_get_one_clear_line(args, message):
    result = run("invite", *args)

    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_staff_add_and_list():
    added = run("add", "--center", "07", "--phone", "70000011", "--lang", "bm", command=staff)
    again = run("add", "--center", "07", "--phone", "70000011", command=staff)
    switched = run("add", "--center", "07", "--phone", "70000011", "--lang", "fr",
                   command=staff)
    listed = run("list", command=staff)

    assert added.output == "staff phone +223******11 added to centre 07 (bm)\n"
    assert again.output == "staff phone +223******11 already in centre 07 (bm)\n"
    assert switched.output == "staff phone +223******11 already in centre 07 (fr)\n"
    assert listed.output == "07\t+223******11\tfr\tstaff\n"
    missing = run("add", "--center", "99", "--phone", "70000011", command=staff)
    assert missing.exit_code == 1 and "centre '99' not found" in missing.output


def test_messages_list_shows_masked_numbers(services):
    sent = add_message(services, add_contact(services), "Merci")
    add_message(services, add_contact(services, "+22366123499"), "Bonjour")
    send.deliver(services, sent, sender=LogSender())

    table = run("messages", "list")
    as_json = run("messages", "list", "--format", "json")
    logged = run("messages", "list", "--status", "logged", "--format", "json")

    lines = table.output.splitlines()
    assert lines[0].split() == ["id", "to", "center", "purpose", "status", "segments",
                                "provider", "created", "sent"]
    assert lines[1].split()[:7] == ["2", "+223******99", "-", "reply", "queued", "1", "-"]
    assert lines[2].split()[:7] == ["1", "+223******56", "-", "reply", "logged", "1", "log"]
    rows = json.loads(as_json.output)
    assert [(r["id"], r["to"], r["status"], r["segments"]) for r in rows] == \
        [(2, "+223******99", "queued", 1), (1, "+223******56", "logged", 1)]
    assert [r["id"] for r in json.loads(logged.output)] == [1]
    for output in (table.output, as_json.output):
        assert "76123456" not in output and "66123499" not in output
        assert "Merci" not in output


def test_messages_list_when_there_are_none():
    assert run("messages", "list", "--status", "failed").output == \
        "no outbound messages with status failed\n"
    assert run("messages", "list", "--format", "json").output == "[]\n"
