"""`gateway centers import` and `list`: real database, Redis directory, the shipped example."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from gateway.cli import main
from gateway.center_directory import CenterDirectory
from gateway.models import Center

EXAMPLE = Path(__file__).resolve().parents[2] / "centers.example.csv"
HEADER = "code,name,district,ussd_extension,sms_keyword\n"


def write(tmp_path: Path, text: str, name: str = "centres.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def centres(db_session) -> dict[str, tuple]:
    db_session.expire_all()
    return {c.code: (c.name, c.district, c.ussd_extension, c.sms_keyword)
            for c in db_session.scalars(sa.select(Center))}


def test_import_the_shipped_example_then_list(gateway, db_session,
                                              redis_client) -> None:
    result = gateway("centers", "import", str(EXAMPLE))

    assert result.exit_code == 0, result.output
    assert "6 new, 0 updated, 0 unchanged" in result.output
    rows = centres(db_session)
    assert rows["BKO-DJE"] == ("CSCom de Djélibougou", "Bamako Commune I", "02", "DJELI")
    assert rows["KTI-KAL"][2] == "07"
    directory = CenterDirectory(redis_client)
    assert directory.by_extension("07") == "KTI-KAL"
    assert directory.by_extension("7") is None
    assert directory.by_keyword("faladie") == "BKO-FAL"
    assert directory.by_code("bko-ban") == "BKO-BAN"

    listed = gateway("centers", "list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split() == ["code", "name", "district", "ext", "keyword"]
    assert lines[1].startswith("BKO-BAN  CSCom de Banconi")
    assert len(lines) == 7

    as_json = json.loads(gateway("centers", "list", "--format", "json").output)
    assert as_json[-1] == {"code": "KTI-KAL", "name": "CSCom de Kalaban Coro",
                           "district": "Kati", "ussd_extension": "07",
                           "sms_keyword": "KALABAN"}


def test_reimport_updates_and_leaves_the_others(gateway, db_session, redis_client,
                                                tmp_path: Path) -> None:
    first = write(tmp_path, HEADER + "CS01,Banconi,Commune I,07,BANCONI\n"
                                     "CS02,Djelibougou,Commune I,08,DJELI\n"
                                     "CS03,Hippodrome,Commune II,,\n", "first.csv")
    assert gateway("centers", "import", str(first)).exit_code == 0
    # CS01 and CS02 swap extensions, CS02 is renamed, CS03 is not in the file.
    second = write(tmp_path, HEADER + "cs01,Banconi,Commune I,08,BANCONI\n"
                                      "CS02,CSCom de Djélibougou,Commune I,07,djeli\n",
                   "second.csv")

    result = gateway("centers", "import", str(second))

    assert result.exit_code == 0, result.output
    assert "0 new, 2 updated, 0 unchanged" in result.output
    assert centres(db_session) == {
        "CS01": ("Banconi", "Commune I", "08", "BANCONI"),
        "CS02": ("CSCom de Djélibougou", "Commune I", "07", "DJELI"),
        "CS03": ("Hippodrome", "Commune II", None, None)}
    assert CenterDirectory(redis_client).by_extension("07") == "CS02"
    again = gateway("centers", "import", str(second))
    assert "0 new, 0 updated, 2 unchanged" in again.output


def test_a_file_saved_with_a_bom_imports(gateway, db_session, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "CS01,Sébénikoro,Commune IV,01,SEBENI\n",
                 encoding="utf-8-sig")

    result = gateway("centers", "import", str(path))

    assert result.exit_code == 0, result.output
    assert centres(db_session)["CS01"][0] == "Sébénikoro"


def test_a_semicolon_file_from_a_french_spreadsheet_imports(gateway, db_session,
                                                           tmp_path: Path) -> None:
    path = write(tmp_path, "code;name;district;ussd_extension;sms_keyword\r\n"
                           "CS01;CSCom de Faladié, Sogoniko;Commune VI;05;FALADIE\r\n")

    result = gateway("centers", "import", str(path))

    assert result.exit_code == 0, result.output
    assert centres(db_session) == {
        "CS01": ("CSCom de Faladié, Sogoniko", "Commune VI", "05", "FALADIE")}


def test_every_bad_row_is_reported_and_nothing_is_imported(gateway, db_session,
                                                           tmp_path: Path) -> None:
    path = write(tmp_path, HEADER
                 + "CS01,Banconi,Commune I,07,BANCONI\n"      # line 2: fine
                 + "CS02,,Commune I,08,\n"                    # 3: no name
                 + "cs01,Again,Commune I,09,\n"               # 4: code of line 2
                 + "\n"                                       # 5: blank, skipped
                 + "CS04,Faladié,Commune VI,07,\n"            # 6: extension of line 2
                 + "CS05,Kalaban,Kati,7a,KALABAN CORO\n"      # 7: two problems
                 + "CS06,Sogoniko,Commune VI,10,,extra\n")    # 8: too many fields

    result = gateway("centers", "import", str(path))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:3: name is empty",
        f"{path}:7: ussd_extension '7a': digits only, such as 07",
        f"{path}:7: sms_keyword 'KALABAN CORO': one word of letters and digits",
        f"{path}:8: 6 fields, the header has 5 (a comma inside a name needs quotes)",
        f"{path}:4: code 'CS01' is already on line 2",
        f"{path}:6: ussd_extension '07' is already on line 2",
        "6 problem(s) found; nothing was imported.",
    ]
    assert "Traceback" not in result.output
    assert centres(db_session) == {}


def test_a_wrong_header_is_named(gateway, tmp_path: Path) -> None:
    path = write(tmp_path, "code,nom,district\nCS01,Banconi,Commune I\n")

    result = gateway("centers", "import", str(path))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:1: unknown column(s) 'nom'; expected the header "
                                    "code,name,district,ussd_extension,sms_keyword\n")


def test_a_latin1_file_is_refused_with_its_line(gateway, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "CS01,Banconi,Commune I,01,\nCS02,Faladié,Commune VI,02,\n",
                 encoding="latin-1")

    result = gateway("centers", "import", str(path))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:3: not UTF-8 text")


def test_an_extension_held_by_a_centre_outside_the_file_is_refused(
        gateway, db_session, tmp_path: Path) -> None:
    gateway("centers", "import", str(write(tmp_path, HEADER + "CS01,Banconi,,07,\n", "a.csv")))

    result = gateway("centers", "import",
                     str(write(tmp_path, HEADER + "CS02,Faladié,,07,\n", "b.csv")))

    assert result.exit_code == 1
    assert "b.csv:2: ussd_extension '07' already belongs to centre CS01" in result.stderr
    assert set(centres(db_session)) == {"CS01"}


def test_missing_and_empty_files(gateway, tmp_path: Path) -> None:
    missing = gateway("centers", "import", str(tmp_path / "nowhere.csv"))
    assert missing.exit_code == 1
    assert "nowhere.csv: cannot read" in missing.stderr
    empty = gateway("centers", "import", str(write(tmp_path, HEADER)))
    assert empty.exit_code == 1
    assert "no centres in the file" in empty.stderr


def test_list_without_a_schema_says_what_to_do(tmp_path: Path, redis_url: str) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "REDIS_URL": redis_url,
           "GATEWAY_SECRET_KEY": "test-secret", "KUMA_VAR_DIR": str(tmp_path)}

    result = CliRunner().invoke(main, ["centers", "list"], env=env)

    assert result.exit_code == 1
    assert "has `gateway db upgrade` been run?" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
