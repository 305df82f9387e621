"""The events a session emits: one typed dict per kind, its fields, and an example.

Every event is born in the engine (`session.py`) and is a JSON-safe dict, because it
travels through Redis to the worker that files it (`gateway.filing`). Consumers compare
`event["type"]` with the names below, never with a string of their own. Each class's
docstring carries a JSON example; tests/engine/test_events.py loads every example and
checks it against the class's fields, and the events a real session emits too.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict

SESSION_STARTED = "session_started"
LANGUAGE_CHOSEN = "language_chosen"
CENTER_IDENTIFIED = "center_identified"
ANSWER_GIVEN = "answer_given"
SESSION_RESUMED = "session_resumed"
SESSION_ENDED = "session_ended"
OPTED_OUT = "opted_out"
OPTED_IN = "opted_in"


class SessionStarted(TypedDict):
    """A session of a flow began; `center` is a centre's code, or null when not yet known.

    Example: {"type": "session_started", "at": "2025-03-04T10:00:00+00:00",
              "flow_id": "maternal_care", "flow_version": "3f2a9c1d", "channel": "ussd",
              "language": "fr", "center": null}
    """

    type: Literal["session_started"]
    at: str
    flow_id: str
    flow_version: str
    channel: str
    language: str | None
    center: str | None


class LanguageChosen(TypedDict):
    """She chose the language of the rest of the session.

    Example: {"type": "language_chosen", "at": "2025-03-04T10:00:05+00:00", "language": "bm"}
    """

    type: Literal["language_chosen"]
    at: str
    language: str


class CenterIdentified(TypedDict):
    """The code she typed named a known centre.

    Example: {"type": "center_identified", "at": "2025-03-04T10:00:09+00:00", "center": "07"}
    """

    type: Literal["center_identified"]
    at: str
    center: str


class AnswerGiven(TypedDict):
    """She answered a question; `score` is 0-100 and `top_box` a bool for scored steps.

    Example: {"type": "answer_given", "at": "2025-03-04T10:00:20+00:00", "step": "respect",
              "raw": "2", "value": "agree", "score": 66.7, "top_box": false,
              "dimension": "respect", "area": "experience"}
    """

    type: Literal["answer_given"]
    at: str
    step: str
    raw: str
    value: str | int | float | list | None
    score: float | int | None
    top_box: bool | None
    dimension: str | None
    area: str | None


class SessionResumed(TypedDict):
    """A dropped USSD call was dialled again and the session goes on.

    Example: {"type": "session_resumed", "at": "2025-03-04T10:02:00+00:00"}
    """

    type: Literal["session_resumed"]
    at: str


class SessionEnded(TypedDict):
    """The session is over: completed, abandoned, expired, opted_out, declined or failed.

    Example: {"type": "session_ended", "at": "2025-03-04T10:03:00+00:00",
              "status": "completed"}
    """

    type: Literal["session_ended"]
    at: str
    status: str


class OptedOut(TypedDict):
    """She asked for no more messages (STOP), in a session or outside one.

    Example: {"type": "opted_out", "at": "2025-03-04T10:01:00+00:00"}
    """

    type: Literal["opted_out"]
    at: str


class OptedIn(TypedDict):
    """A phone that had opted out wrote again: writing is how she opts back in.

    Example: {"type": "opted_in", "at": "2025-03-05T08:00:00+00:00"}
    """

    type: Literal["opted_in"]
    at: str


Event = (SessionStarted | LanguageChosen | CenterIdentified | AnswerGiven | SessionResumed
         | SessionEnded | OptedOut | OptedIn)

KINDS: dict[str, type] = {
    SESSION_STARTED: SessionStarted,
    LANGUAGE_CHOSEN: LanguageChosen,
    CENTER_IDENTIFIED: CenterIdentified,
    ANSWER_GIVEN: AnswerGiven,
    SESSION_RESUMED: SessionResumed,
    SESSION_ENDED: SessionEnded,
    OPTED_OUT: OptedOut,
    OPTED_IN: OptedIn,
}


def make(kind: str, at: str, **fields: Any) -> dict[str, Any]:
    """Return an event of `kind` at the ISO time `at`; raise ValueError if it is no kind."""
    if kind not in KINDS:
        raise ValueError(f"no event kind {kind!r} (known: {', '.join(KINDS)})")
    return {"type": kind, "at": at, **fields}


def has(events: Iterable[Mapping[str, Any]], kind: str) -> bool:
    """Whether any of `events` is of `kind`."""
    return any(event["type"] == kind for event in events)


def first_value(events: Iterable[Mapping[str, Any]], kind: str, field: str) -> Any:
    """Return `field` of the first event of `kind`, or None."""
    return next((event[field] for event in events if event["type"] == kind), None)


def index_of(events: list[Mapping[str, Any]], kind: str) -> int:
    """Return the position of the first event of `kind`; raise ValueError if none."""
    for position, event in enumerate(events):
        if event["type"] == kind:
            return position
    raise ValueError(f"no {kind} event")


def example(kind: str) -> dict[str, Any]:
    """Return the JSON example in the docstring of `kind`'s class."""
    doc = KINDS[kind].__doc__ or ""
    found = re.search(r"Example: (\{.*?\})\n", doc, flags=re.S)
    if found is None:
        raise ValueError(f"{KINDS[kind].__name__} has no example")
    return json.loads(found[1])


def problems(event: Mapping[str, Any]) -> list[str]:
    """Return how `event` departs from its kind's fields, as readable lines (none: valid)."""
    kind = KINDS.get(event.get("type"))  # type: ignore[arg-type]
    if kind is None:
        return [f"unknown event type {event.get('type')!r}"]
    fields = typing.get_type_hints(kind)
    found = [f"{kind.__name__}: missing field {name!r}" for name in fields if name not in event]
    found += [f"{kind.__name__}: unknown field {name!r}" for name in event if name not in fields]
    for name, hint in fields.items():
        if name in event and name != "type" and not _fits(event[name], hint):
            found.append(f"{kind.__name__}: field {name!r} is {event[name]!r}")
    return found


def _fits(value: Any, hint: Any) -> bool:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_fits(value, arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)
