"""`gateway report scores` and `gateway tokens`, as a coordinator runs them."""

from __future__ import annotations

import csv
import io
import json
import zoneinfo
from pathlib import Path

import pytest
import sqlalchemy.orm as so
from click.testing import CliRunner, Result

from gateway.api_tokens import verify_token
from gateway.cli import main
from gateway.models import utcnow
from reports.scores import current_week, previous_week
from tests.reports.dataset import Dataset
from tests.reports.test_scores import TOP, build



@pytest.fixture
def this_week() -> str:
    """The week the CLI calls current, taken when the test runs (not when it is imported)."""
    return current_week(utcnow(), zoneinfo.ZoneInfo("Africa/Bamako"))


@pytest.fixture
def run(database_url: str, tmp_path: Path):
    def invoke(*args: str) -> Result:
        env = {"DATABASE_URL": database_url, "GATEWAY_SECRET_KEY": "test-secret",
               "KUMA_VAR_DIR": str(tmp_path)}
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return invoke


@pytest.fixture
def filled(db_session: so.Session, this_week: str) -> so.Session:
    build(db_session)
    data = Dataset(db_session)
    kati = data.center("KATI")
    for _ in range(12):
        data.session(kati, this_week, {"respect": TOP})
    data.session(kati, previous_week(this_week), {"respect": TOP})
    db_session.commit()
    return db_session


def test_default_is_the_current_week_as_a_table(run, filled: so.Session,
                                                this_week: str) -> None:
    result = run("report", "scores")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["centre", "week", "dimension", "level", "resp.", "mean",
                                "top", "box", "95%", "CI"]
    assert [line.split()[:5] for line in lines[1:]] == [
        ["KATI", this_week, "respect", "dimension", "12"],
        ["KATI", this_week, "patient_experience", "area", "12"],
        ["KATI", this_week, "overall", "overall", "12"]]
    assert lines[1].split()[5:] == ["100.0", "100.0", "75.8–100.0"]


def test_suppressed_rows_say_too_few_responses(run, filled: so.Session) -> None:
    result = run("report", "scores", "--center", "CS01", "--from", "2025-W10", "--to",
                 "2025-W10")
    assert result.exit_code == 0, result.output
    waiting = next(line for line in result.stdout.splitlines() if " waiting " in line)
    assert waiting.split() == ["CS01", "2025-W10", "waiting", "dimension", "5", "too", "few",
                               "responses", "(<", "10)"]
    assert "CS02" not in result.stdout


def test_json_is_the_contract_list(run, filled: so.Session) -> None:
    result = run("report", "scores", "--from", "2025-W10", "--to", "2025-W11", "--format",
                 "json", "--center", "CS01")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {(row["week"], row["dimension"]) for row in rows} >= {
        ("2025-W10", "respect"), ("2025-W10", "overall"), ("2025-W11", "overall")}
    respect = next(row for row in rows if row["dimension"] == "respect"
                   and row["week"] == "2025-W10")
    assert (respect["mean"], respect["ci_low"], respect["ci_high"]) == (80.0, 49.0, 94.3)


def test_csv_starts_with_a_bom_and_parses(run, filled: so.Session) -> None:
    result = run("report", "scores", "--from", "2025-W10", "--to", "2025-W10", "--format",
                 "csv", "--center", "CS01")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbfcenter;week;dimension;")
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"),
                                           newline=""), delimiter=";"))
    respect = next(row for row in rows if row["dimension"] == "respect")
    assert (respect["mean"], respect["ci_low"], respect["suppressed"]) == ("80,0", "49,0",
                                                                           "false")


def test_an_empty_week_says_so(run, filled: so.Session) -> None:
    result = run("report", "scores", "--from", "2020-W01", "--to", "2020-W02")
    assert result.exit_code == 0
    assert result.stdout == "No scored answers for 2020-W01 to 2020-W02.\n"


@pytest.mark.parametrize("args, message", [
    (["--from", "2025-13"], "--from: '2025-13' is not an ISO week; expected YYYY-Www"),
    (["--from", "2025-W11", "--to", "2025-W10"], "--from: 2025-W11 is after --to 2025-W10"),
    (["--center", "NOPE"], "--center: no centre with code NOPE"),
    (["--to", "2026-W54"], "--to: '2026-W54' is not a week of 2026 (it has 53 ISO weeks)"),
    (["--channel", "fax"], "'fax' is not one of 'ussd', 'sms', 'voice', 'imported'"),
])
def test_bad_options_get_a_clear_error(run, filled: so.Session, args: list[str],
                                       message: str) -> None:
    result = run("report", "scores", *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_channel_keeps_only_that_channels_mothers(run, db_session: so.Session) -> None:
    data = Dataset(db_session)
    kati = data.center("KATI")
    for _ in range(3):
        data.session(kati, "2025-W10", {"respect": TOP}, channel="sms")
        data.session(kati, "2025-W10", {"respect": (0.0, False)}, channel="ussd")
    db_session.commit()

    def overall(*args: str) -> dict:
        result = run("report", "scores", "--from", "2025-W10", "--to", "2025-W10",
                     "--format", "json", "--min-respondents", "3", *args)
        assert result.exit_code == 0, result.output
        return next(row for row in json.loads(result.stdout) if row["dimension"] == "overall")

    assert (overall()["respondents"], overall()["mean"]) == (6, 50.0)
    assert (overall("--channel", "sms")["respondents"], overall("--channel", "sms")["mean"]) \
        == (3, 100.0)
    assert overall("--channel", "ussd")["mean"] == 0.0


def test_a_database_without_schema_gets_a_hint(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
           "GATEWAY_SECRET_KEY": "test-secret", "KUMA_VAR_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["report", "scores"], env=env)
    assert result.exit_code == 1
    assert "run `gateway db upgrade`" in result.stderr


def test_tokens_create_list_revoke(run, db_session: so.Session) -> None:
    created = run("tokens", "create", "coordinator")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("kuma_") and len(token) > 40
    assert "cannot be shown again" in created.stderr
    assert verify_token(db_session, token).name == "coordinator"
    db_session.rollback()

    again = run("tokens", "create", "coordinator")
    assert again.exit_code == 1 and "an active token named 'coordinator' exists" in again.stderr

    listed = run("tokens", "list")
    assert listed.stdout.splitlines()[1].split()[0] == "coordinator"
    assert listed.stdout.splitlines()[1].endswith("active") and token not in listed.stdout

    assert run("tokens", "revoke", "coordinator").stdout == "API token 'coordinator' revoked.\n"
    assert verify_token(db_session, token) is None
    assert "revoked" in run("tokens", "list").stdout.splitlines()[1]
    missing = run("tokens", "revoke", "coordinator")
    assert missing.exit_code == 1 and "no active API token named 'coordinator'" in missing.stderr
