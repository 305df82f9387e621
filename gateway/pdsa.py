"""Plan-Do-Study-Act cycles: read and check a cycle's fields, then create, update, close, list.

Fields come as a mapping of plain values (JSON, a form, the CLI), named as the API names
them (`cycle_dict`); each mistake raises ArgumentError naming its field. Who wrote a cycle
(`by`: a username, `token:NAME`, `cli:USER`) and when is kept on every change.

    {"id": 1, "center": "BKS", "title": "…", "change": "…", "area": "patient_experience",
     "dimension": "waiting", "prediction": "…", "started_on": "2026-10-05",
     "ended_on": null, "plan": "…", "do": "…", "study": "…", "act": "…",
     "decision": null, "status": "running", "baseline": "freeze",
     "created_by": "amina", "created_at": "2026-10-05T08:00:00+00:00",
     "updated_by": "amina", "updated_at": "2026-10-05T08:00:00+00:00"}
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.engine.definition import AREAS, Flow
from gateway.errors import ArgumentError, NotFoundError
from gateway.models import Center, PdsaCycle, utcnow
from gateway.statuses import PdsaBaseline, PdsaDecision, PdsaStatus

log = logging.getLogger(__name__)

TITLE_MAX = 200
TEXT_MAX = 10_000
# API/form name -> model attribute, for the free-text fields.
TEXTS = {"change": "change", "prediction": "prediction", "plan": "plan_notes",
         "do": "do_notes", "study": "study_notes", "act": "act_notes", "notes": "notes"}
FIELDS = frozenset({"title", "area", "dimension", "started_on", "ended_on", "decision",
                    "status", "baseline", *TEXTS})


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """The dimensions the flows score (id -> area) and the four QI areas."""

    dimensions: Mapping[str, str]
    areas: frozenset[str] = frozenset(AREAS)

    @classmethod
    def of(cls, flows: Iterable[Flow]) -> Vocabulary:
        """Return the vocabulary of the given flows."""
        return cls({d.id: d.area for flow in flows for d in flow.dimensions.values()})

    def targets(self) -> list[str]:
        """Return what a cycle may aim at: overall, an area or a dimension."""
        return ["overall", *sorted(self.areas), *sorted(self.dimensions)]


def check_fields(data: object, vocabulary: Vocabulary, *, partial: bool = False) -> dict:
    """Return the model attributes `data` sets; raise ArgumentError naming a bad field.

    With `partial` (an update), only the fields given are checked and returned.
    """
    if not isinstance(data, Mapping):
        raise ArgumentError("body: send a JSON object with the cycle's fields")
    unknown = sorted(set(data) - FIELDS - {"id", "center"})
    if unknown:
        raise ArgumentError(f"{unknown[0]}: not a field of a PDSA cycle "
                            f"(expected: {', '.join(sorted(FIELDS))})")
    for name in ("title", "started_on"):
        if not partial and data.get(name) in (None, ""):
            raise ArgumentError(f"{name}: required")
    values: dict[str, Any] = {}
    readers = {"title": _title, "started_on": _date, "ended_on": _date,
               "decision": _enum(PdsaDecision), "status": _enum(PdsaStatus),
               "baseline": _enum(PdsaBaseline), "area": _area(vocabulary),
               "dimension": _dimension(vocabulary)}
    for name, value in data.items():
        if name in readers:
            values[name] = readers[name](name, value)
        elif name in TEXTS:
            values[TEXTS[name]] = _text(name, value)
    _match_area(values, vocabulary)
    return values


def create_cycle(db: so.Session, center_code: str, fields: Mapping[str, Any], *, by: str,
                 today: dt.date, now: dt.datetime | None = None) -> PdsaCycle:
    """Add a cycle to a centre from checked `fields`; its status follows its dates if not given."""
    cycle = PdsaCycle(center=center_by_code(db, center_code), created_by=by, updated_by=by,
                      created_at=now or utcnow(), updated_at=now or utcnow(), **fields)
    if "status" not in fields:
        cycle.status = PdsaStatus.PLANNED if cycle.started_on > today else PdsaStatus.RUNNING
    _complete(cycle)
    db.add(cycle)
    db.flush()
    log.info("PDSA cycle %s added to %s by %s", cycle.id, center_code, by)
    return cycle


def update_cycle(db: so.Session, cycle: PdsaCycle, fields: Mapping[str, Any], *, by: str,
                 now: dt.datetime | None = None) -> PdsaCycle:
    """Apply checked `fields` (a partial update) to `cycle`, noting who and when."""
    for name, value in fields.items():
        setattr(cycle, name, value)
    _complete(cycle)
    cycle.updated_by, cycle.updated_at = by, now or utcnow()
    db.flush()
    log.info("PDSA cycle %s updated by %s", cycle.id, by)
    return cycle


def close_cycle(db: so.Session, cycle: PdsaCycle, *, decision: str, ended_on: dt.date,
                by: str, now: dt.datetime | None = None) -> PdsaCycle:
    """Close `cycle` with the team's decision (adopt, adapt, abandon) on `ended_on`."""
    fields = {"decision": _enum(PdsaDecision)("decision", decision),
              "ended_on": ended_on, "status": PdsaStatus.CLOSED}
    return update_cycle(db, cycle, fields, by=by, now=now)


def list_cycles(db: so.Session, center_codes: Iterable[str] | None = None) -> list[PdsaCycle]:
    """Return the cycles of the given centres (default: all), by centre then start."""
    query = sa.select(PdsaCycle).join(PdsaCycle.center).order_by(
        Center.code, PdsaCycle.started_on, PdsaCycle.id)
    if center_codes is not None:
        query = query.where(Center.code.in_(list(center_codes)))
    return list(db.scalars(query))


def get_cycle(db: so.Session, center_code: str, cycle_id: int) -> PdsaCycle:
    """Return the cycle `cycle_id` of centre `center_code`, or raise NotFoundError."""
    cycle = db.scalar(sa.select(PdsaCycle).join(PdsaCycle.center).where(
        PdsaCycle.id == cycle_id, Center.code == center_code))
    if cycle is None:
        raise NotFoundError(f"no PDSA cycle {cycle_id} at centre {center_code!r}")
    return cycle


def center_by_code(db: so.Session, code: str) -> Center:
    """Return the centre `code`, or raise NotFoundError."""
    center = db.scalar(sa.select(Center).where(Center.code == code))
    if center is None:
        raise NotFoundError(f"no centre with code {code!r}")
    return center


def cycle_dict(cycle: PdsaCycle) -> dict[str, Any]:
    """Return a cycle as the API shows it (the run chart's `cycles` entries, and more)."""
    return {
        "id": cycle.id, "center": cycle.center.code, "title": cycle.title,
        "change": cycle.change, "area": cycle.area, "dimension": cycle.dimension,
        "prediction": cycle.prediction, "started_on": cycle.started_on.isoformat(),
        "ended_on": cycle.ended_on.isoformat() if cycle.ended_on else None,
        "plan": cycle.plan_notes, "do": cycle.do_notes, "study": cycle.study_notes,
        "act": cycle.act_notes, "notes": cycle.notes,
        "decision": _value(cycle.decision), "status": _value(cycle.status),
        "baseline": _value(cycle.baseline),
        "created_by": cycle.created_by, "created_at": cycle.created_at.isoformat(),
        "updated_by": cycle.updated_by, "updated_at": cycle.updated_at.isoformat(),
    }


def _match_area(values: dict[str, Any], vocabulary: Vocabulary) -> None:
    """Fill the area from the dimension, and refuse one that contradicts it."""
    dimension = values.get("dimension")
    area = vocabulary.dimensions.get(dimension) or (
        dimension if dimension in vocabulary.areas else None)
    if area is None:
        return
    if values.get("area") not in (None, area):
        raise ArgumentError(f"area: {dimension!r} belongs to {area!r}, not {values['area']!r}")
    values["area"] = area


def _complete(cycle: PdsaCycle) -> None:
    """Check what only the whole cycle can tell: dates in order, a closed cycle's end."""
    if cycle.ended_on is not None and cycle.ended_on < cycle.started_on:
        raise ArgumentError(f"ended_on: {cycle.ended_on} is before started_on "
                            f"{cycle.started_on}")
    if cycle.status == PdsaStatus.CLOSED and cycle.ended_on is None:
        raise ArgumentError("ended_on: a closed cycle needs its end date")
    if cycle.decision is not None and cycle.status != PdsaStatus.CLOSED:
        raise ArgumentError("decision: only a closed cycle has a decision (status closed)")


def _value(member: Any) -> str | None:
    return None if member is None else str(member)


def _title(name: str, value: object) -> str:
    text = _text(name, value).strip()
    if not text or len(text) > TITLE_MAX:
        raise ArgumentError(f"{name}: give 1 to {TITLE_MAX} characters")
    return text


def _text(name: str, value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ArgumentError(f"{name}: expected text, got {type(value).__name__}")
    if len(value) > TEXT_MAX:
        raise ArgumentError(f"{name}: at most {TEXT_MAX} characters")
    return value


def _date(name: str, value: object) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ArgumentError(f"{name}: expected a date YYYY-MM-DD, got {value!r}") from None


def _enum(kind: type) -> Any:
    def read(name: str, value: object) -> Any:
        if value in (None, ""):
            return None
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise ArgumentError(f"{name}: expected one of {allowed}, got {value!r}") from None
    return read


def _area(vocabulary: Vocabulary) -> Any:
    def read(name: str, value: object) -> str | None:
        if value in (None, ""):
            return None
        if not isinstance(value, str) or value not in vocabulary.areas:
            raise ArgumentError(f"{name}: expected one of {', '.join(sorted(vocabulary.areas))}"
                                f", got {value!r}")
        return str(value)
    return read


def _dimension(vocabulary: Vocabulary) -> Any:
    def read(name: str, value: object) -> str | None:
        if value in (None, ""):
            return None
        if not isinstance(value, str) or value not in vocabulary.targets():
            raise ArgumentError(f"{name}: not a dimension the flows score, an area or "
                                f"overall: {value!r} (known: {', '.join(vocabulary.targets())})")
        return str(value)
    return read
