"""`gateway pdsa add|list` against the test's database and the shipped flows."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from gateway.cli import main
from gateway.models import Center
from gateway.settings import Settings


@pytest.fixture
def gateway(settings: Settings, db_session):
    db_session.add_all([Center(code="BKS", name="Banankabougou"), Center(code="CS03",
                                                                          name="Kati")])
    db_session.commit()
    env = {"DATABASE_URL": settings.database_url, "GATEWAY_SECRET_KEY": "test-secret",
           "KUMA_VAR_DIR": str(settings.var_dir)}

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env)

    return run


def test_add_then_list_as_table_and_json(gateway) -> None:
    added = gateway("pdsa", "add", "--center", "BKS", "--title", "Accueil à l'entrée",
                    "--start", "2026-10-05", "--dimension", "waiting", "--baseline", "freeze")
    assert added.exit_code == 0, added.output
    assert added.output.startswith("PDSA cycle 1 added to BKS: Accueil à l'entrée (running")
    gateway("pdsa", "add", "--center", "CS03", "--title", "Tri", "--start", "2026-10-01",
            "--end", "2026-10-30")

    table = gateway("pdsa", "list").output.splitlines()
    assert table[0].split() == ["id", "center", "start", "end", "status", "dimension",
                                "baseline", "title"]
    assert table[1].split()[:7] == ["1", "BKS", "2026-10-05", "-", "running", "waiting",
                                    "freeze"]
    assert table[2].split()[:4] == ["2", "CS03", "2026-10-01", "2026-10-30"]

    listed = json.loads(gateway("pdsa", "list", "--center", "BKS", "--format", "json").output)
    assert [(c["id"], c["title"], c["started_on"], c["ended_on"], c["dimension"],
             c["baseline"], c["area"]) for c in listed] == [
        (1, "Accueil à l'entrée", "2026-10-05", None, "waiting", "freeze",
         "management_governance")]
    assert listed[0]["created_by"].startswith("cli")


@pytest.mark.parametrize("args, message", [
    (["--center", "XX", "--title", "t", "--start", "2026-10-05"], "no centre with code 'XX'"),
    (["--center", "BKS", "--title", "t", "--start", "2026-13-01"], "started_on: expected a date"),
    (["--center", "BKS", "--title", "t", "--start", "2026-10-05", "--end", "2026-10-01"],
     "ended_on: 2026-10-01 is before started_on 2026-10-05"),
    (["--center", "BKS", "--title", "t", "--start", "2026-10-05", "--dimension", "speed"],
     "dimension: not a dimension the flows score"),
])
def test_add_refuses_with_one_clear_line(gateway, args, message) -> None:
    result = gateway("pdsa", "add", *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert json.loads(gateway("pdsa", "list", "--format", "json").output) == []


def test_list_an_unknown_centre_or_none(gateway) -> None:
    assert "No PDSA cycles" in gateway("pdsa", "list").output
    unknown = gateway("pdsa", "list", "--center", "XX")
    assert unknown.exit_code == 1 and "no centre with code 'XX'" in unknown.output
