"""Centres from a CSV file into the database, and the database into the Redis directory.

The file is the list a coordinator keeps in a spreadsheet:

    code,name,district,ussd_extension,sms_keyword
    CS01,CSCom de Banconi,Commune I,07,BANCONI

It is read whole and checked whole before anything is written: one bad row and nothing is
imported, and every problem is reported at once as `FILE:line: message`. Importing again
updates the centres it names (matched by code, in any case) and leaves the others alone.
USSD extensions are strings: "07" and "7" are two different extensions.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import re
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.db import session_scope
from gateway.errors import CenterImportError
from gateway.models import Center
from gateway.services import Services

log = logging.getLogger(__name__)

COLUMNS = ("code", "name", "district", "ussd_extension", "sms_keyword")
REQUIRED = ("code", "name")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_EXTENSION = re.compile(r"^[0-9]{1,16}$")
_KEYWORD = re.compile(r"^[A-Za-z0-9]{1,32}$")
MAX_NAME = 200


@dataclasses.dataclass(frozen=True)
class CenterRow:
    """One checked line of a centres file."""

    line: int
    code: str
    name: str
    district: str
    ussd_extension: str | None
    sms_keyword: str | None


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """What an import changed."""

    created: int
    updated: int
    unchanged: int


def read_centers(path: Path) -> list[CenterRow]:
    """Read and check a centres CSV (UTF-8, with or without BOM); raise CenterImportError."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CenterImportError([f"{path}: cannot read: {error.strerror or error}"]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise CenterImportError([f"{path}:{line}: not UTF-8 text (save the file as "
                                 "'CSV UTF-8')"]) from None
    return parse_centers(text, str(path))


def parse_centers(text: str, source: str = "<centres>") -> list[CenterRow]:
    """Check the text of a centres CSV; return its rows or raise CenterImportError."""
    first_line = text.split("\n", 1)[0]
    # Spreadsheets set to French save "CSV" with semicolons; take those as they come.
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    errors: list[str] = []
    try:
        header = next(reader)
    except StopIteration:
        raise CenterImportError([f"{source}:1: empty file; expected the header "
                                 f"{','.join(COLUMNS)}"]) from None
    header = [name.strip().lower() for name in header]
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        problem = (f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown
                   else f"missing column(s) {', '.join(missing)}" if missing
                   else "a column appears twice")
        raise CenterImportError([f"{source}:1: {problem}; expected the header "
                                 f"{','.join(COLUMNS)}"])
    rows: list[CenterRow] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, or a spreadsheet's trailing empty rows
            where = f"{source}:{reader.line_num}"
            if len(cells) > len(header):
                errors.append(f"{where}: {len(cells)} fields, the header has {len(header)} "
                              "(a comma inside a name needs quotes)")
                continue
            values = dict(zip(header, (cell.strip() for cell in cells)))
            row, problems = _check_row(reader.line_num, values)
            errors += [f"{where}: {problem}" for problem in problems]
            if row is not None:
                rows.append(row)
    except csv.Error as error:
        errors.append(f"{source}:{reader.line_num}: {error}")
    errors += _duplicates(rows, source)
    if not errors and not rows:
        errors.append(f"{source}:2: no centres in the file")
    if errors:
        raise CenterImportError(errors)
    return rows


def _check_row(line: int, values: dict[str, str]) -> tuple[CenterRow | None, list[str]]:
    problems = []
    code = values.get("code", "")
    if not code:
        problems.append("code is empty")
    elif not _CODE.match(code):
        problems.append(f"code {code!r}: use letters, digits, - or _ (at most 32)")
    name = values.get("name", "")
    if not name:
        problems.append("name is empty")
    elif len(name) > MAX_NAME:
        problems.append(f"name is longer than {MAX_NAME} characters")
    district = values.get("district", "")
    if len(district) > MAX_NAME:
        problems.append(f"district is longer than {MAX_NAME} characters")
    extension = values.get("ussd_extension", "")
    if extension and not _EXTENSION.match(extension):
        problems.append(f"ussd_extension {extension!r}: digits only, such as 07")
    keyword = values.get("sms_keyword", "")
    if keyword and not _KEYWORD.match(keyword):
        problems.append(f"sms_keyword {keyword!r}: one word of letters and digits")
    if problems:
        return None, problems
    return CenterRow(line, code, name, district, extension or None,
                     keyword.upper() if keyword else None), []


def _duplicates(rows: list[CenterRow], source: str) -> list[str]:
    """Report a code, extension or keyword that two rows of the file share."""
    found: list[tuple[int, str]] = []
    for label, value_of in (("code", lambda row: row.code.upper()),
                            ("ussd_extension", lambda row: row.ussd_extension),
                            ("sms_keyword", lambda row: row.sms_keyword)):
        first: dict[str, CenterRow] = {}
        for row in rows:
            value = value_of(row)
            if value is None:
                continue
            if value in first:
                found.append((row.line, f"{label} {value!r} is already on line "
                                        f"{first[value].line}"))
            else:
                first[value] = row
    return [f"{source}:{line}: {message}" for line, message in sorted(found)]


def import_centers(db: so.Session, rows: Iterable[CenterRow],
                   source: str = "<centres>") -> ImportResult:
    """Create or update the centres of `rows` (matched by code, in any case)."""
    rows = list(rows)
    existing = {center.code.upper(): center for center in db.scalars(sa.select(Center))}
    _check_against_database(rows, existing, source)
    created = updated = unchanged = 0
    for row in rows:
        center = existing.get(row.code.upper())
        if center is None:
            created += 1
        elif _fields(center) == (row.name, row.district, row.ussd_extension, row.sms_keyword):
            unchanged += 1
        else:
            updated += 1
    # Free the extensions the file reassigns first: two centres swapping extensions
    # must not trip the unique index halfway through.
    for row in rows:
        center = existing.get(row.code.upper())
        if center is not None and center.ussd_extension != row.ussd_extension:
            center.ussd_extension = None
    db.flush()
    for row in rows:
        center = existing.get(row.code.upper())
        if center is None:
            db.add(Center(code=row.code, name=row.name, district=row.district,
                          ussd_extension=row.ussd_extension, sms_keyword=row.sms_keyword))
        else:
            center.name, center.district = row.name, row.district
            center.ussd_extension, center.sms_keyword = row.ussd_extension, row.sms_keyword
    db.flush()
    log.info("centres imported from %s: %d new, %d updated, %d unchanged", source, created,
             updated, unchanged)
    return ImportResult(created, updated, unchanged)


def _fields(center: Center) -> tuple[str, str, str | None, str | None]:
    return center.name, center.district, center.ussd_extension, center.sms_keyword


def _check_against_database(rows: list[CenterRow], existing: dict[str, Center],
                            source: str) -> None:
    """Refuse an extension or keyword that a centre missing from the file already has."""
    named = {row.code.upper() for row in rows}
    others = [center for code, center in existing.items() if code not in named]
    taken = {("ussd_extension", c.ussd_extension): c.code for c in others if c.ussd_extension}
    taken |= {("sms_keyword", c.sms_keyword.upper()): c.code for c in others if c.sms_keyword}
    errors = []
    for row in rows:
        for label, value in (("ussd_extension", row.ussd_extension),
                             ("sms_keyword", row.sms_keyword)):
            holder = taken.get((label, value))
            if holder is not None:
                errors.append(f"{source}:{row.line}: {label} {value!r} already belongs to "
                              f"centre {holder}")
    if errors:
        raise CenterImportError(errors)


def list_centers(db: so.Session) -> list[Center]:
    """Return every centre, by code."""
    return list(db.scalars(sa.select(Center).order_by(Center.code)))


def import_file(services: Services, path: Path) -> ImportResult:
    """Import a centres CSV in one transaction, then refresh the Redis directory."""
    rows = read_centers(path)
    with session_scope(services.sessionmaker, immediate=True) as db:  # reads, then writes
        result = import_centers(db, rows, str(path))
    refresh_directory(services)
    return result


def refresh_directory(services: Services) -> int:
    """Copy the centres from the database to the Redis directory; return how many."""
    with session_scope(services.sessionmaker) as db:
        count = services.directory.refresh(db)
    log.info("centre directory refreshed: %d centres", count)
    return count
