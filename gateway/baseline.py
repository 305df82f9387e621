"""Answers collected before Kuma (paper, ODK/KoboToolbox) from a CSV into survey sessions.

A centre's change team needs ten or more points on its run chart before its first PDSA
cycle; most centres have surveys from before Kuma. The file has one answer per line:

    center,date,respondent,step,value
    BKO-BAN,2026-03-02,F-001,respect,no
    BKO-BAN,2026-03-02,F-001,wait,30_to_60_min

`respondent` groups one mother's answers within the file; `step` is a step id of the flow;
`value` is the option's `value` as written in the flow, or the number or text she gave.
An empty value means she did not answer: the line is skipped.

The file is read and checked whole before anything is written, and every problem is
reported as `FILE:line: message`. Each respondent becomes one completed session of the
flow on channel `imported`, started at noon (local time) on her date, with the answers
scored by the flow's own steps and filed by `gateway.filing`, as live answers are. The
session key is a hash of flow, centre, date and respondent, so importing the same file
again changes nothing, and a file with more lines adds only those. An import only adds:
a value that differs from one imported before for the same respondent and step is
refused, naming the line and both values.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import hmac
import io
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.db import session_scope
from gateway.engine.definition import Flow
from gateway.engine.session import RAW_LIMIT
from gateway.engine.step_types import CenterCodeStep, ConsentStep, LanguageStep, NumberStep
from gateway.engine.steps import Answer as StepAnswer
from gateway.engine.steps import Step
from gateway.errors import ResponseImportError
from gateway.filing import ROWS_PER_STATEMENT, file_records
from gateway.models import Answer, Center, Channel, SessionStatus, SurveySession, iso_week
from gateway.phones import mask_numbers_in_text
from gateway.services import Services

log = logging.getLogger(__name__)

COLUMNS = ("center", "date", "respondent", "step", "value")
# Imported sessions have no phone: they all hang on this one contact, whose "hash" can
# never be a real phone's (those are 64 hex digits) and whose number is empty.
NO_PHONE_HASH = "imported:no-phone"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_RESPONDENT = 100


@dataclasses.dataclass(frozen=True)
class ImportedAnswer:
    """One checked answer of the file, scored by its step."""

    line: int
    step: str
    raw: str
    answer: StepAnswer
    dimension: str | None

    def filed_value(self) -> str:
        """Return the value as `gateway.filing` stores it (numbers masked in free text)."""
        if self.answer.score is None and self.dimension is None:
            return mask_numbers_in_text(self.answer.value)
        return self.answer.value


@dataclasses.dataclass
class Respondent:
    """One mother's answers in the file: one session."""

    line: int
    center: str
    date: dt.date
    respondent: str
    language: str | None = None
    answers: dict[str, ImportedAnswer] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class CenterSummary:
    """What an import did for one centre."""

    center: str
    respondents: int = 0
    created: int = 0
    present: int = 0
    first_week: str = ""
    last_week: str = ""


@dataclasses.dataclass
class ImportSummary:
    """What an import read and wrote."""

    rows: int = 0
    blank: int = 0
    respondents: int = 0
    created: int = 0
    present: int = 0
    answers_added: int = 0
    centers: list[CenterSummary] = dataclasses.field(default_factory=list)


def session_key(secret_key: str, flow_id: str, center: str, date: dt.date,
                respondent: str) -> str:
    """Return the session key of an imported respondent: the same for the same line."""
    # Keyed, so that a respondent id that is a name or a phone number cannot be found
    # again by hashing guesses; the id itself is kept nowhere.
    identity = "\x1f".join((flow_id, center.upper(), date.isoformat(), respondent))
    digest = hmac.new(f"kuma-import:{secret_key}".encode("utf-8"), identity.encode("utf-8"),
                      hashlib.sha256).hexdigest()
    return f"{Channel.IMPORTED}:{digest}"


# ---------------------------------------------------------------- reading and checking


def read_file(path: Path) -> str:
    """Return a CSV's text (UTF-8, with or without BOM); raise ResponseImportError."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ResponseImportError([f"{path}: cannot read: {error.strerror or error}"]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ResponseImportError([f"{path}:{line}: not UTF-8 text (save the file as "
                                   "'CSV UTF-8')"]) from None


def parse_responses(text: str, flow: Flow, centers: Mapping[str, str], today: dt.date,
                    source: str = "<responses>") -> tuple[list[Respondent], ImportSummary]:
    """Check a responses CSV against the flow and the centres; raise ResponseImportError.

    `centers` maps each upper-cased centre code to the code as stored; `today` is the local
    date, after which no answer can have been given.
    """
    reader, header = _open_csv(text, source)
    errors: list[str] = []
    summary = ImportSummary()
    checker = _Checker(flow, centers, today, source)
    previous_end = 1
    try:
        for cells in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, or a spreadsheet's trailing empty rows
            summary.rows += 1
            if len(cells) != len(header):
                errors.append(f"{source}:{line}: {len(cells)} fields, the header has "
                              f"{len(header)} (text with a comma or semicolon needs quotes)")
                continue
            values = dict(zip(header, (cell.strip() for cell in cells)))
            if not checker.check(line, values):
                summary.blank += 1
    except csv.Error as error:
        errors.append(f"{source}:{reader.line_num}: {error}")
    errors += checker.errors
    if not errors and not any(r.answers for r in checker.respondents.values()):
        errors.append(f"{source}:2: no answers in the file")
    if errors:
        raise ResponseImportError(sorted(errors, key=_line_of))
    # A mother whose every value is blank answered nothing: no session for her.
    respondents = [r for r in checker.respondents.values() if r.answers]
    summary.respondents = len(respondents)
    return respondents, summary


def _open_csv(text: str, source: str) -> tuple[Any, list[str]]:
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # Spreadsheets set to French save "CSV" with semicolons; take those as they come.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    expected = ",".join(COLUMNS)
    header: list[str] = []
    for cells in reader:
        if any(cell.strip() for cell in cells):
            header = [cell.strip().lower() for cell in cells]
            break
    if not header:
        raise ResponseImportError([f"{source}:1: empty file; expected the header {expected}"])
    where = f"{source}:{reader.line_num}"
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in COLUMNS if name not in header]
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(map(repr, unknown))}")
    if not problems and len(set(header)) != len(header):
        problems.append("a column appears twice")
    if problems:
        raise ResponseImportError([f"{where}: {'; '.join(problems)}; expected the header "
                                   f"{expected}"])
    return reader, header


def _line_of(message: str) -> int:
    match = re.search(r":(\d+): ", message)
    return int(match.group(1)) if match else 0


class _Checker:
    """Checks lines one by one, gathering respondents and every problem."""

    def __init__(self, flow: Flow, centers: Mapping[str, str], today: dt.date,
                 source: str) -> None:
        self.flow, self.centers, self.today, self.source = flow, centers, today, source
        self.errors: list[str] = []
        self.respondents: dict[str, Respondent] = {}
        self._language = flow.languages[0]

    def check(self, line: int, values: Mapping[str, str]) -> bool:
        """Check one line and keep its answer; False when its value is blank."""
        problems: list[str] = []
        center = self._center(values["center"], problems)
        date = self._date(values["date"], problems)
        respondent = values["respondent"]
        if not respondent:
            problems.append("respondent is empty")
        elif len(respondent) > MAX_RESPONDENT:
            problems.append(f"respondent is longer than {MAX_RESPONDENT} characters")
        step = self._step(values["step"], problems)
        raw = values["value"]
        answer = self._answer(step, raw, problems) if step is not None and raw else None
        if not problems and respondent:
            self._keep(line, center, date, respondent, step, raw, answer, problems)
        self.errors += [f"{self.source}:{line}: {problem}" for problem in problems]
        return bool(raw)

    def _center(self, code: str, problems: list[str]) -> str | None:
        if not code:
            problems.append("center is empty")
            return None
        found = self.centers.get(code.upper())
        if found is None:
            problems.append(f"center {code!r} is not a known centre code "
                            "(see `gateway centers list`)")
        return found

    def _date(self, text: str, problems: list[str]) -> dt.date | None:
        date = None
        if _DATE.match(text):
            try:
                date = dt.date.fromisoformat(text)
            except ValueError:
                pass
        if date is None:
            problems.append(f"date {text!r} is not a date written YYYY-MM-DD")
        elif date > self.today:
            problems.append(f"date {text} is in the future")
            return None
        return date

    def _step(self, step_id: str, problems: list[str]) -> Step | None:
        step = self.flow.steps.get(step_id)
        if step is None:
            problems.append(f"step {step_id!r} is not a step of flow '{self.flow.id}'")
        elif not step.answerable:
            problems.append(f"step {step_id!r} asks no question ({step.type_name})")
        elif isinstance(step, CenterCodeStep):
            problems.append(f"step {step_id!r} asks for the centre: give it in the center "
                            "column instead")
        else:
            return step
        return None

    def _answer(self, step: Step, raw: str, problems: list[str]) -> StepAnswer | None:
        """Read the value with the step's own parsing, as if she had answered live."""
        options = step.options()
        if options:
            # The option's value, not its menu number: numbers on a paper form need not be
            # the flow's. She would have pressed the option's number; the step reads that.
            plain = raw.casefold()
            position = next((i for i, option in enumerate(options, 1)
                             if option.value.casefold() == plain), None)
            answer = None if position is None else step.accept(str(position), self._language)
            if answer is None:
                allowed = ", ".join(option.value for option in options)
                problems.append(f"value {raw!r} is not an option of step '{step.id}' "
                                f"(expected one of: {allowed})")
            elif isinstance(step, ConsentStep) and answer.value == "no":
                problems.append(f"value {raw!r}: she declined at step '{step.id}'; leave "
                                "out the answers of mothers who declined")
                return None
            return answer
        answer = step.accept(raw, self._language)
        if answer is None:
            problems.append(f"value {raw!r} is not accepted by step '{step.id}' "
                            f"({_accepts(step)})")
        return answer

    def _keep(self, line: int, center: str | None, date: dt.date | None, respondent: str,
              step: Step | None, raw: str, answer: StepAnswer | None,
              problems: list[str]) -> None:
        if center is None or date is None or step is None:
            return
        found = self.respondents.get(respondent)
        if found is None:
            found = self.respondents[respondent] = Respondent(line, center, date, respondent)
        elif found.center != center:
            problems.append(f"respondent {respondent!r} is at centre {found.center} on line "
                            f"{found.line}: one respondent, one centre")
            return
        elif found.date != date:
            problems.append(f"respondent {respondent!r} is dated {found.date} on line "
                            f"{found.line}: one respondent, one date")
            return
        if answer is None:
            return
        if isinstance(step, LanguageStep):
            if found.language not in (None, answer.value):
                problems.append(f"respondent {respondent!r}: language {answer.value!r} "
                                f"differs from {found.language!r} given before")
            found.language = answer.value
            return
        if answer.value == "":
            return  # an optional text she skipped
        earlier = found.answers.get(step.id)
        if earlier is None:
            found.answers[step.id] = ImportedAnswer(line, step.id, raw, answer, step.dimension)
        elif earlier.answer.value != answer.value:
            problems.append(f"respondent {respondent!r}, step '{step.id}': {raw!r} differs "
                            f"from {earlier.raw!r} on line {earlier.line}")


def _accepts(step: Step) -> str:
    if isinstance(step, NumberStep):
        return f"a whole number from {step.minimum} to {step.maximum}"
    return f"a {step.type_name} answer"


# ---------------------------------------------------------------- filing


def import_file(services: Services, path: Path, flow: Flow) -> ImportSummary:
    """Check a responses CSV whole, then file its respondents as sessions of `flow`."""
    text = read_file(path)
    tz = services.settings.tz
    today = dt.datetime.now(tz).date()
    with session_scope(services.sessionmaker) as db:
        centers = {code.upper(): code for code in db.scalars(sa.select(Center.code))}
    respondents, summary = parse_responses(text, flow, centers, today, str(path))
    secret = services.settings.secret_key
    # Respondent ids are unique in a checked file: they index its session keys.
    keys = {r.respondent: session_key(secret, flow.id, r.center, r.date, r.respondent)
            for r in respondents}
    with session_scope(services.sessionmaker) as db:
        stored = _stored_answers(db, list(keys.values()))
    _refuse_changes(respondents, keys, stored, str(path))
    records = []
    for respondent in respondents:
        known = stored.get(keys[respondent.respondent])
        new_answers = [a for a in respondent.answers.values()
                       if known is None or a.step not in known]
        summary.answers_added += len(new_answers)
        if known is None or new_answers:
            records.append(_record(flow, respondent, keys[respondent.respondent], new_answers,
                                   tz))
    if records:
        file_records(services, records)
    _count(summary, respondents, keys, stored, tz)
    log.info("responses imported from %s into %s: %d respondent(s), %d new session(s), "
             "%d answer(s) added", path, flow.id, summary.respondents, summary.created,
             summary.answers_added)
    return summary


def _stored_answers(db: so.Session, keys: list[str]) -> dict[str, dict[str, str]]:
    """Return {session key: {step: value}} for the keys imported before."""
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(keys), ROWS_PER_STATEMENT):
        chunk = keys[start:start + ROWS_PER_STATEMENT]
        for key in db.scalars(sa.select(SurveySession.key).where(SurveySession.key.in_(chunk))):
            found[key] = {}
        rows = db.execute(sa.select(SurveySession.key, Answer.step_id, Answer.value)
                          .join(Answer, Answer.session_id == SurveySession.id)
                          .where(SurveySession.key.in_(chunk)))
        for key, step, value in rows:
            found[key][step] = value
    return found


def _refuse_changes(respondents: Iterable[Respondent], keys: Mapping[str, str],
                    stored: Mapping[str, Mapping[str, str]], source: str) -> None:
    """Refuse an answer that differs from the one imported before: imports only add."""
    errors = []
    for respondent in respondents:
        known = stored.get(keys[respondent.respondent], {})
        for imported in respondent.answers.values():
            before = known.get(imported.step)
            if before is not None and before != imported.filed_value():
                errors.append(f"{source}:{imported.line}: respondent "
                              f"{respondent.respondent!r}, step '{imported.step}': "
                              f"{imported.answer.value!r} differs from {before!r} imported "
                              "before; an import adds answers, it never changes one")
    if errors:
        raise ResponseImportError(errors)


def _record(flow: Flow, respondent: Respondent, key: str, answers: list[ImportedAnswer],
            tz: dt.tzinfo) -> dict[str, Any]:
    """Build the record `gateway.filing` files for one respondent, as a live turn's."""
    at = dt.datetime.combine(respondent.date, dt.time(12), tz).astimezone(dt.timezone.utc)
    stamp = at.isoformat()
    context = {"key": key, "phone_hash": NO_PHONE_HASH, "phone_token": "",
               "flow_id": flow.id, "flow_version": flow.version,
               "channel": Channel.IMPORTED.value, "center": respondent.center,
               "language": respondent.language, "started_at": stamp}
    events = [_answer_given(flow, imported, stamp) for imported in answers]
    events.append({"type": "session_ended", "at": stamp,
                   "status": SessionStatus.COMPLETED.value})
    return {"context": context, "events": events}


def _answer_given(flow: Flow, imported: ImportedAnswer, stamp: str) -> dict[str, Any]:
    """Return the `answer_given` event the engine emits for this answer."""
    step, answer = flow.step(imported.step), imported.answer
    dimension = flow.dimensions.get(step.dimension) if step.dimension else None
    return {"type": "answer_given", "at": stamp, "step": step.id,
            "raw": imported.raw[:RAW_LIMIT], "value": answer.value, "score": answer.score,
            "top_box": answer.top_box, "dimension": dimension.id if dimension else None,
            "area": dimension.area if dimension else None}


def _count(summary: ImportSummary, respondents: list[Respondent], keys: Mapping[str, str],
           stored: Mapping[str, Any], tz: dt.tzinfo) -> None:
    by_center: dict[str, CenterSummary] = {}
    for respondent in respondents:
        line = by_center.setdefault(respondent.center, CenterSummary(respondent.center))
        line.respondents += 1
        if keys[respondent.respondent] in stored:
            line.present += 1
        else:
            line.created += 1
        noon = dt.datetime.combine(respondent.date, dt.time(12), tz)
        week = iso_week(noon, tz)
        line.first_week = min(line.first_week or week, week)
        line.last_week = max(line.last_week, week)
    summary.centers = [by_center[code] for code in sorted(by_center)]
    summary.created = sum(line.created for line in summary.centers)
    summary.present = sum(line.present for line in summary.centers)
