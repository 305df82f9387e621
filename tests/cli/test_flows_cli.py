"""`gateway flows validate` and `gateway flows simulate`, as staff run them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from tests.engine.support import FLOWS_DIR, shipped

GOOD = FLOWS_DIR / "maternal_care.yaml"
BROKEN = """\
id: broken
title: {fr: Cassé, bm: Tiɲɛnen}
languages: [fr, bm]
dimensions:
  - id: respect
    area: experience
    label: {fr: Respect, bm: Bonya}
steps:
  - id: respect
    type: rating
    dimension: respect
    text: {fr: Respectée, bm: Bonya}
    options:
      - {value: always, score: 120, fr: Toujours, bm: Tuma bɛɛ}
      - {value: never, score: 0, fr: Jamais, bm: Abada}
    next: thank
  - id: thanks
    type: end
    text: {fr: Merci}
"""


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    return path


def expected_errors(path: Path) -> list[str]:
    return [
        f"{path}:6: dimension 'respect': 'area' must be one of clinical_quality, "
        "patient_experience, management_governance, revenue_cost_recovery",
        f"{path}:14: 'score' is 120: it must be between 0 and 100",
        f"{path}:19: text: missing translation 'bm'",
    ]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_validate_a_good_flow():
    result = run("flows", "validate", str(GOOD))
    flow = shipped("maternal_care")
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"ok  {GOOD}  (maternal_care, version {flow.version}, "
                             f"{len(flow.steps)} steps)\n")
    assert result.stderr == ""


def test_validate_defaults_to_the_shipped_flows_folder():
    result = run("flows", "validate")
    assert result.exit_code == 0, result.output
    assert "(maternal_care, version" in result.stdout


def test_validate_prints_file_line_message_and_exits_1(broken):
    result = run("flows", "validate", str(broken))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [*expected_errors(broken), "3 problem(s) found."]
    assert result.stdout == ""


def test_validate_a_folder_reports_bad_files_and_good_ones(broken, tmp_path):
    shutil.copy(GOOD, tmp_path / "maternal_care.yaml")
    result = run("flows", "validate", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:3] == expected_errors(broken)
    assert result.stdout.startswith(f"ok  {tmp_path / 'maternal_care.yaml'}  (maternal_care")


def test_validate_a_missing_file(tmp_path):
    result = run("flows", "validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{tmp_path / 'nope.yaml'}: no such file or folder",
                                          "1 problem(s) found."]


def test_validate_with_a_smaller_ussd_limit_finds_screens_that_do_not_fit():
    result = run("flows", "validate", "--ussd-limit", "100", str(GOOD))
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{GOOD}:")
    assert "on ussd" in first and "a USSD screen holds 100" in first


def test_simulate_a_scripted_sms_survey():
    result = run("flows", "simulate", "maternal_care", "--channel", "sms", "--lang", "bm",
                 "--center", "07", "--inputs", "1*2*2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"maternal_care {shipped('maternal_care').version} on sms, language bm, " \
                       "centre 07"
    assert "| I nana mun kama?" in result.output      # folded to GSM-7: no ɛ or ɔ on screen
    assert "| 1. Kònòmaya lajè" in result.output
    assert "      = consent: yes" in lines
    assert "      = visit: delivery" in lines
    assert "      = respect: no (score 100)" in lines
    assert lines[-1] == "(no more inputs: the session is left open)"
    assert "1 GSM-7 segment" in result.output


def test_simulate_ussd_to_the_end_shows_end_and_length():
    result = run("flows", "simulate", "maternal_care", "--channel", "ussd", "--lang", "fr",
                 "--center", "07", "--inputs", "1*2*2*1*1*1*1*1*1*2*1*0")
    assert result.exit_code == 0, result.output
    assert "      = session completed" in result.output
    assert "END, 68/182 characters" in result.output
    assert "CON, " in result.output


def test_simulate_an_unknown_flow():
    result = run("flows", "simulate", "no_such_flow", "--inputs", "1")
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("no_such_flow.yaml: no such file or folder")


def test_simulate_interactive_until_end_of_input():
    result = CliRunner().invoke(main, ["flows", "simulate", "maternal_care", "--lang", "fr"],
                                input="1\n")
    assert result.exit_code == 0, result.output
    assert "(session left open)" in result.output
    assert "Entrez le numéro de votre CSCom" in result.output


def _console_script() -> str | None:
    beside_python = Path(sys.executable).parent
    return shutil.which("gateway", path=str(beside_python)) or shutil.which("gateway")


def test_console_script_validate_exits_1_on_a_broken_flow(broken):
    script = _console_script()
    if script is None:
        pytest.skip("the `gateway` console script is not installed")
    done = subprocess.run([script, "flows", "validate", str(broken)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 1
    assert done.stderr.splitlines() == [*expected_errors(broken), "3 problem(s) found."]
    good = subprocess.run([script, "flows", "validate", str(GOOD)], capture_output=True,
                          text=True, timeout=60)
    assert good.returncode == 0, good.stderr


def test_validate_checks_against_the_configured_ussd_length(monkeypatch):
    monkeypatch.setenv("USSD_MAX_CHARS", "120")
    result = CliRunner().invoke(main, ["flows", "validate"])
    assert result.exit_code == 1
    assert "maternal_care.yaml:" in result.output and "holds 120" in result.output
