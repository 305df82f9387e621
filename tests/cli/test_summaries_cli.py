"""`gateway recipients add|remove|list` and `gateway summaries send`, as coordinators run them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway import db as database
from gateway.cli import main
from gateway.models import Contact, OutboundMessage, SummaryRecipient
from gateway.settings import Settings
from tests.reports.dataset import Dataset

WEEK = "2026-W47"


@pytest.fixture
def gateway_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Point the CLI at this test's database and Redis, with centre 07 and ten answers."""
    for name, value in {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
                        "GATEWAY_SECRET_KEY": settings.secret_key, "SMS_OUTBOX": "log",
                        "KUMA_VAR_DIR": str(settings.var_dir),
                        "AT_USSD_BASE_CODES": "*384*123#"}.items():
        monkeypatch.setenv(name, value)
    engine = database.make_engine(settings.database_url)
    with database.session_scope(database.make_sessionmaker(engine)) as db:
        data = Dataset(db)
        center = data.center("07", "CSCom de Banconi", ussd_extension="07")
        for _ in range(10):
            data.session(center, WEEK, {"respect": (100.0, True), "waiting": (50.0, False)})
    yield settings
    engine.dispose()


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def stored(settings: Settings, model) -> list:
    engine = database.make_engine(settings.database_url)
    try:
        with database.session_scope(database.make_sessionmaker(engine)) as db:
            return list(db.scalars(sa.select(model)))
    finally:
        engine.dispose()


def test_add_recipient_prints_a_masked_number_and_re_adding_updates_language(gateway_env):
    added = run("recipients", "add", "--center", "07", "--phone", "76 12 34 56", "--lang", "fr",
                "--role", "chief_midwife")
    assert added.exit_code == 0, added.output
    assert added.output == "added +223******56 as chief_midwife of 07 (fr)\n"
    again = run("recipients", "add", "--center", "07", "--phone", "+22376123456", "--lang", "bm",
                "--role", "chief_midwife")
    assert again.output == "updated +223******56 as chief_midwife of 07 (bm)\n"
    recipients = stored(gateway_env, SummaryRecipient)
    assert [(r.language, r.role.value, r.active) for r in recipients] == [
        ("bm", "chief_midwife", True)]
    contact = stored(gateway_env, Contact)[0]
    assert "76123456" not in contact.phone_encrypted  # encrypted at rest


def test_list_recipients_in_a_table_and_in_json(gateway_env):
    assert "No summary recipients yet" in run("recipients", "list").output
    run("recipients", "add", "--center", "07", "--phone", "76123456", "--lang", "fr",
        "--role", "head")
    table = run("recipients", "list").output.splitlines()
    assert table[0].split() == ["center", "role", "language", "phone", "active", "opted_out"]
    assert table[1].split() == ["07", "head", "fr", "+223******56", "yes", "no"]
    rows = json.loads(run("recipients", "list", "--format", "json").output)
    assert rows == [{"center": "07", "role": "head", "language": "fr", "phone": "+223******56",
                     "active": True, "opted_out": False}]


@pytest.mark.parametrize("args, message", [
    (["--center", "99", "--phone", "76123456"], "no centre with code '99'"),
    (["--center", "07", "--phone", "123"], "phone number"),
])
def test_add_recipient_errors_are_one_clear_line(gateway_env, args, message):
    result = run("recipients", "add", *args, "--lang", "fr", "--role", "asaco")
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert stored(gateway_env, SummaryRecipient) == []


def test_add_recipient_rejects_unknown_language_and_role(gateway_env):
    result = run("recipients", "add", "--center", "07", "--phone", "76123456", "--lang", "en",
                 "--role", "asaco")
    assert result.exit_code == 2 and "'en' is not one of 'fr', 'bm'" in result.output


def test_summaries_dry_run_then_send_then_already_sent(gateway_env):
    run("recipients", "add", "--center", "07", "--phone", "76123456", "--lang", "fr",
        "--role", "chief_midwife")
    dry = json.loads(run("summaries", "send", "--week", WEEK, "--dry-run", "--format",
                         "json").output)
    assert dry == [{"center": "07", "week": WEEK, "recipient": "+223******56", "language": "fr",
                    "text": dry[0]["text"], "segments": 2, "status": "dry_run"}]
    assert dry[0]["text"].startswith("CSCom de Banconi, semaine 47 (16-22 nov.) : "
                                     "10 répondantes (+10 en une semaine). Score global 75/100.")
    assert stored(gateway_env, OutboundMessage) == []

    sent = run("summaries", "send", "--week", WEEK)
    assert sent.exit_code == 0, sent.output
    lines = sent.output.splitlines()
    assert lines[0] == f"07  {WEEK}  +223******56  fr  sent  (2 SMS)"
    assert lines[1] == "  " + dry[0]["text"]
    assert lines[-1] == "1 summaries: 1 sent."
    assert [m.body for m in stored(gateway_env, OutboundMessage)] == [dry[0]["text"]]

    again = json.loads(run("summaries", "send", "--week", WEEK, "--format", "json").output)
    assert [r["status"] for r in again] == ["already_sent"]
    assert len(stored(gateway_env, OutboundMessage)) == 1


def test_summaries_bad_week_is_a_clear_error(gateway_env):
    result = run("summaries", "send", "--week", "2026-W60")
    assert result.exit_code == 1
    assert "Error: week: '2026-W60' is not a week of 2026" in result.output


def test_summaries_without_recipients_says_how_to_add_them(gateway_env):
    assert "gateway recipients add" in run("summaries", "send", "--dry-run").output


def test_remove_recipient_stops_her_summaries_and_add_brings_them_back(gateway_env):
    run("recipients", "add", "--center", "07", "--phone", "76123456", "--lang", "fr",
        "--role", "chief_midwife")
    run("recipients", "add", "--center", "07", "--phone", "76123456", "--lang", "fr",
        "--role", "head")
    removed = run("recipients", "remove", "--center", "07", "--phone", "+223 76 12 34 56")
    assert removed.exit_code == 0, removed.output
    assert removed.output == ("removed +223******56 as chief_midwife, head of 07: "
                              "no more summaries\n")
    assert [r.active for r in stored(gateway_env, SummaryRecipient)] == [False, False]
    assert run("summaries", "send", "--week", WEEK).output.startswith(
        "No active summary recipients")
    assert stored(gateway_env, OutboundMessage) == []

    again = run("recipients", "add", "--center", "07", "--phone", "76123456", "--lang", "bm",
                "--role", "head")
    assert again.output == "updated +223******56 as head of 07 (bm)\n"
    run("summaries", "send", "--week", WEEK)
    assert len(stored(gateway_env, OutboundMessage)) == 1  # the head only


@pytest.mark.parametrize("args, message", [
    (["--center", "99", "--phone", "76123456"], "no centre with code '99'"),
    (["--center", "07", "--phone", "123"], "phone number"),
    (["--center", "07", "--phone", "76000000"], "+223******00 receives no summaries of 07"),
    (["--center", "07", "--phone", "76123456", "--role", "asaco"],
     "receives no summaries of 07 as asaco"),
])
def test_remove_recipient_errors_are_one_clear_line(gateway_env, args, message):
    run("recipients", "add", "--center", "07", "--phone", "76123456", "--lang", "fr",
        "--role", "chief_midwife")
    result = run("recipients", "remove", *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert [r.active for r in stored(gateway_env, SummaryRecipient)] == [True]
