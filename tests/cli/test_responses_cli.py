"""`gateway responses import`: paper and ODK answers filed as sessions, then scored."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.engine.definition import load_flow
from gateway.models import Answer, Center, Contact, SurveySession

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "responses.example.csv"
HEADER = "center,date,respondent,step,value\n"
WEEK = "2026-W10"  # Monday 2026-03-02


@pytest.fixture
def centres(db_session: so.Session) -> so.Session:
    for code in ("CS01", "CS02", "BKO-BAN"):
        db_session.add(Center(code=code, name=f"CSCom {code}"))
    db_session.commit()
    return db_session


def write(tmp_path: Path, text: str, name: str = "answers.csv",
          encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def twelve_mothers(center: str = "CS01") -> str:
    """Six mothers answer best on both questions, six answer 0 and 50."""
    lines = []
    for n in range(12):
        day = f"2026-03-0{2 + n % 5}"
        best = n < 6
        lines += [f"{center},{day},M{n:02d},respect,{'no' if best else 'yes'}",
                  f"{center},{day},M{n:02d},listened,{'well' if best else 'partly'}"]
    return HEADER + "\n".join(lines) + "\n"


def counts(db: so.Session) -> tuple[int, int]:
    db.rollback()  # end the read transaction: see what the command committed since
    return (db.scalar(sa.select(sa.func.count()).select_from(SurveySession)),
            db.scalar(sa.select(sa.func.count()).select_from(Answer)))


def scores(gateway, center: str = "CS01") -> dict[str, dict]:
    result = gateway("report", "scores", "--from", WEEK, "--to", WEEK, "--center", center,
                     "--format", "json")
    assert result.exit_code == 0, result.output
    return {row["dimension"]: row for row in json.loads(result.stdout)}


def test_a_good_file_shows_up_in_the_scores(gateway, centres: so.Session,
                                            tmp_path: Path) -> None:
    result = gateway("responses", "import", str(write(tmp_path, twelve_mothers())),
                     "--flow", "maternal_care")

    assert result.exit_code == 0, result.output
    assert "24 line(s) read, 12 respondent(s): 12 new session(s), 0 already present, " \
           "24 answer(s) added." in result.stdout
    assert result.stdout.splitlines()[-1].split() == ["CS01", "12", "12", "0", WEEK]
    rows = scores(gateway)
    assert (rows["respect"]["respondents"], rows["respect"]["mean"]) == (12, 50.0)
    assert (rows["communication"]["respondents"], rows["communication"]["mean"]) == (12, 75.0)
    assert (rows["overall"]["respondents"], rows["overall"]["mean"]) == (12, 62.5)
    assert rows["respect"]["top_box"] == 50.0


def test_sessions_are_completed_imported_at_local_noon_without_a_phone(
        gateway, centres: so.Session, tmp_path: Path) -> None:
    assert gateway("responses", "import", str(EXAMPLE), "--flow", "maternal_care"
                   ).exit_code == 0

    sessions = centres.scalars(sa.select(SurveySession).order_by(SurveySession.started_at)
                               ).all()
    assert [s.started_at for s in sessions] == [
        dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc),  # Bamako is UTC all year
        dt.datetime(2026, 3, 3, 12, tzinfo=dt.timezone.utc)]
    first = sessions[0]
    assert (first.channel, first.status, first.week, first.language) == (
        "imported", "completed", WEEK, "fr")
    assert first.flow_version == load_flow(ROOT / "flows" / "maternal_care.yaml").version
    assert first.center_id == centres.scalar(sa.select(Center.id).where(
        Center.code == "BKO-BAN"))
    answers = {a.step_id: a for a in first.answers}
    wait = answers["wait"]
    assert (wait.value, wait.score, wait.top_box, wait.dimension, wait.area) == (
        "30_to_60_min", 67.0, False, "waiting", "management_governance")
    assert (answers["respect"].score, answers["respect"].top_box) == (100.0, True)
    assert answers["visit"].score is None and "comment" in answers
    assert "comment" not in {a.step_id for a in sessions[1].answers}  # left blank
    contacts = centres.scalars(sa.select(Contact)).all()
    assert [c.phone_encrypted for c in contacts] == [""]


def test_importing_again_changes_nothing_and_more_lines_add_only_those(
        gateway, centres: so.Session, tmp_path: Path) -> None:
    path = write(tmp_path, twelve_mothers())
    assert gateway("responses", "import", str(path), "--flow", "maternal_care").exit_code == 0
    before = counts(centres)

    again = gateway("responses", "import", str(path), "--flow", "maternal_care")

    assert again.exit_code == 0, again.output
    assert "0 new session(s), 12 already present, 0 answer(s) added" in again.stdout
    assert counts(centres) == before == (12, 24)
    more = write(tmp_path, twelve_mothers() + "CS01,2026-03-02,M00,wait,over_2_h\n"
                                              "CS01,2026-03-04,M99,respect,no\n", "more.csv")
    added = gateway("responses", "import", str(more), "--flow", "maternal_care")
    assert added.exit_code == 0, added.output
    assert "13 respondent(s): 1 new session(s), 12 already present, 2 answer(s) added" \
        in added.stdout
    assert counts(centres) == (13, 26)
    assert scores(gateway)["respect"]["respondents"] == 13


def test_a_changed_answer_is_refused_naming_its_line(gateway, centres: so.Session,
                                                     tmp_path: Path) -> None:
    assert gateway("responses", "import", str(write(tmp_path, twelve_mothers())),
                   "--flow", "maternal_care").exit_code == 0
    changed = twelve_mothers().replace("CS01,2026-03-02,M00,respect,no",
                                       "CS01,2026-03-02,M00,respect,yes")
    path = write(tmp_path, changed + "CS01,2026-03-04,M99,respect,no\n", "changed.csv")

    result = gateway("responses", "import", str(path), "--flow", "maternal_care")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}:2: respondent 'M00', step 'respect': 'yes' differs from 'no' imported "
        "before; an import adds answers, it never changes one")
    assert counts(centres) == (12, 24)  # M99 was not filed either


def test_every_bad_line_is_named_and_nothing_is_imported(gateway, centres: so.Session,
                                                         tmp_path: Path) -> None:
    path = write(tmp_path, HEADER +
                 "CS01,2026-03-02,A,respect,no\n"        # 2: good
                 "NOPE,2026-03-02,B,respect,no\n"        # 3: unknown centre
                 "CS01,2026-02-30,C,respect,no\n"        # 4: no such date
                 "CS01,2099-01-01,D,respect,no\n"        # 5: future
                 "CS01,2026-03-02,,respect,no\n"         # 6: no respondent
                 "CS01,2026-03-02,E,respekt,no\n"        # 7: no such step
                 "CS01,2026-03-02,F,wait,3\n"            # 8: a menu number, not a value
                 "CS01,2026-03-02,A,respect,yes\n"       # 9: A answered 'no' on line 2
                 "CS02,2026-03-02,A,listened,well\n"     # 10: A is at CS01
                 "CS01,2026-03-03,A,listened,well\n"     # 11: A is dated 03-02
                 "CS01,2026-03-02,G,anc_info,x\n")       # 12: asks nothing

    result = gateway("responses", "import", str(path), "--flow", "maternal_care")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:3: center 'NOPE' is not a known centre code (see `gateway centers list`)",
        f"{path}:4: date '2026-02-30' is not a date written YYYY-MM-DD",
        f"{path}:5: date 2099-01-01 is in the future",
        f"{path}:6: respondent is empty",
        f"{path}:7: step 'respekt' is not a step of flow 'maternal_care'",
        f"{path}:8: value '3' is not an option of step 'wait' (expected one of: "
        "under_30_min, 30_to_60_min, 1_to_2_h, over_2_h)",
        f"{path}:9: respondent 'A', step 'respect': 'yes' differs from 'no' on line 2",
        f"{path}:10: respondent 'A' is at centre CS01 on line 2: one respondent, one centre",
        f"{path}:11: respondent 'A' is dated 2026-03-02 on line 2: one respondent, one date",
        f"{path}:12: step 'anc_info' asks no question (info)",
        "10 problem(s) found; nothing was imported."]
    assert counts(centres) == (0, 0)


@pytest.mark.parametrize("header, message", [
    ("center,date,respondent,value", "missing column(s) step"),
    ("center,date,respondent,step,value,form", "unknown column(s) 'form'"),
    ("", "empty file"),
])
def test_the_header_is_checked(gateway, centres: so.Session, tmp_path: Path, header: str,
                               message: str) -> None:
    path = write(tmp_path, header + "\n")
    result = gateway("responses", "import", str(path), "--flow", "maternal_care")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:1: {message}")
    assert "Traceback" not in result.output


def test_excel_french_csv_with_bom_semicolons_and_blank_lines(gateway, centres: so.Session,
                                                              tmp_path: Path) -> None:
    text = ("center;date;respondent;step;value\r\n"
            "cs01;2026-03-02;7;respect;No\r\n"
            "\r\n"
            ";;;;\r\n"
            'CS01;2026-03-02;7;comment;"Bien; appelez-moi au 76 12 34 56"\r\n')
    path = write(tmp_path, "\ufeff" + text, "excel.csv")

    first = gateway("responses", "import", str(path), "--flow", "maternal_care")
    again = gateway("responses", "import", str(path), "--flow", "maternal_care")

    assert first.exit_code == 0, first.output
    assert "2 line(s) read, 1 respondent(s): 1 new session(s)" in first.stdout
    assert again.exit_code == 0, again.output  # the masked comment is not a change
    assert "1 already present, 0 answer(s) added" in again.stdout
    answers = {a.step_id: a for a in centres.scalars(sa.select(Answer))}
    assert answers["respect"].score == 100.0
    assert answers["comment"].value == "Bien; appelez-moi au ********"


def test_an_unknown_flow_is_named(gateway, centres: so.Session) -> None:
    result = gateway("responses", "import", str(EXAMPLE), "--flow", "nope")
    assert result.exit_code == 1
    assert "no flow 'nope' (flows: maternal_care)" in result.stderr


def test_ten_thousand_lines_import_in_one_pass(gateway, centres: so.Session,
                                               tmp_path: Path) -> None:
    steps = [("visit", "delivery"), ("respect", "no"), ("listened", "well"),
             ("wait", "1_to_2_h"), ("privacy", "yes"), ("clean", "fair"),
             ("fees_clear", "yes"), ("extra_payment", "no"), ("recommend", "maybe"),
             ("comment", "merci")]
    lines = [f"CS0{1 + n % 2},{dt.date(2025, 1, 6) + dt.timedelta(days=n % 350)},R{n},"
             f"{step},{value}" for n in range(1000) for step, value in steps]
    path = write(tmp_path, HEADER + "\n".join(lines) + "\n", "big.csv")

    result = gateway("responses", "import", str(path), "--flow", "maternal_care")

    assert result.exit_code == 0, result.output
    assert "10000 line(s) read, 1000 respondent(s): 1000 new session(s)" in result.stdout
    assert counts(centres) == (1000, 10000)
    again = gateway("responses", "import", str(path), "--flow", "maternal_care")
    assert "0 new session(s), 1000 already present" in again.stdout
