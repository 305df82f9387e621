"""Step types of a flow: one class per type, registered by the name staff write in `type:`.

Each class reads its own YAML (collecting every mistake with its line), says which menu it
shows, and reads an answer the way people type it. The YAML example in each docstring is
parsed by the tests, so the flows reference cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping

from gateway.engine import inputs
from gateway.engine.yamlsource import LineDict, LineList
from gateway.errors import FlowError

LANGUAGE_NAMES = {"fr": "Français", "bm": "Bamanankan"}
YES_NO_LABELS = {"fr": ("Oui", "Non"), "bm": ("Awɔ", "Ayi")}
COMMON_KEYS = frozenset({"id", "type", "text", "next", "dimension"})


@dataclasses.dataclass(frozen=True)
class Answer:
    """What a step made of one input: the value kept, and its score when it is scored."""

    value: str
    score: float | None = None
    top_box: bool | None = None


@dataclasses.dataclass(frozen=True)
class Option:
    """One numbered option of a menu."""

    value: str
    label: Mapping[str, str]
    score: float | None
    line: int


@dataclasses.dataclass(frozen=True)
class Condition:
    """A test on an earlier answer: equal to one of `values`, or within [minimum, maximum]."""

    step: str
    values: frozenset[str] | None
    minimum: float | None
    maximum: float | None
    negate: bool
    line: int

    def holds(self, answers: Mapping[str, str | None]) -> bool:
        """Tell whether the condition is true of the answers given so far."""
        given = answers.get(self.step)
        if given is None:
            result = self.values is not None and "skipped" in self.values
        elif self.values is not None:
            result = given in self.values
        else:
            try:
                number = float(given)
            except ValueError:
                return False
            result = ((self.minimum is None or number >= self.minimum)
                      and (self.maximum is None or number <= self.maximum))
        return result != self.negate


@dataclasses.dataclass(frozen=True)
class Transition:
    """Go to `goto` when every condition holds (no conditions: always)."""

    conditions: tuple[Condition, ...]
    goto: str
    line: int

    def applies(self, answers: Mapping[str, str | None]) -> bool:
        """Tell whether this transition is taken for these answers."""
        return all(condition.holds(answers) for condition in self.conditions)


class Reader:
    """Reads parts of a flow file, collecting every mistake rather than stopping at one."""

    def __init__(self, path: str, languages: tuple[str, ...]) -> None:
        self.path = path
        self.languages = languages
        self.errors: list[FlowError] = []

    def error(self, message: str, line: int, step: str | None = None) -> None:
        """Record a mistake at a line."""
        self.errors.append(FlowError(message, path=self.path, line=line, step=step))

    def texts(self, data: Any, line: int, what: str, step: str | None) -> dict[str, str]:
        """Read a `{fr: …, bm: …}` text, requiring every language of the flow."""
        if not isinstance(data, dict):
            self.error(f"{what} must give the text in each language ({', '.join(self.languages)})",
                       line, step)
            return {}
        found = {}
        for language in self.languages:
            value = data.get(language)
            if value is None or (isinstance(value, str) and not value.strip()):
                self.error(f"{what}: missing translation '{language}'", line, step)
            elif not isinstance(value, (str, int, float)):
                self.error(f"{what}: '{language}' must be text", _line(data, language, line), step)
            else:
                found[language] = " ".join(str(value).split()) if "\n" not in str(value) \
                    else str(value).strip()
        return found

    def number(self, data: Mapping, key: str, default: float | None, line: int,
               step: str | None, *, low: float | None = None,
               high: float | None = None) -> float | None:
        """Read a number field, within [low, high] when given."""
        value = data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(f"'{key}' must be a number, not {value!r}", _line(data, key, line), step)
            return default
        if (low is not None and value < low) or (high is not None and value > high):
            self.error(f"'{key}' is {value}: it must be between {low:g} and {high:g}",
                       _line(data, key, line), step)
        return value


def _line(data: Any, key: str, default: int) -> int:
    return data.line_of(key) if isinstance(data, LineDict) else default


class Step:
    """Base of every step type: what all steps share."""

    type_name: ClassVar[str] = ""
    extra_keys: ClassVar[frozenset[str]] = frozenset()
    answerable: ClassVar[bool] = True
    final: ClassVar[bool] = False

    def __init__(self, data: LineDict, reader: Reader) -> None:
        self.id = str(data.get("id"))
        self.line = data.line
        self.dimension: str | None = data.get("dimension")
        self.dimension_line = data.line_of("dimension")
        self.text = reader.texts(data.get("text"), data.line_of("text"), "text", self.id)
        self.text_line = data.line_of("text")
        self.transitions: tuple[Transition, ...] = _read_next(data, reader, self.id)
        for key in data:
            if key not in COMMON_KEYS and key not in self.extra_keys:
                allowed = ", ".join(sorted(COMMON_KEYS | self.extra_keys))
                reader.error(f"step '{self.id}': unknown field '{key}' (allowed: {allowed})",
                             data.line_of(key), self.id)

    def options(self) -> tuple[Option, ...]:
        """Return the numbered options this step shows; none for open questions."""
        return ()

    def menu(self, language: str) -> list[str]:
        """Return the option labels in `language`, in their numbered order."""
        return [option.label.get(language, option.value) for option in self.options()]

    def accept(self, raw: str, language: str) -> Answer | None:
        """Read one input; None when it is not a valid answer to this step."""
        return _pick_option(self.options(), raw)

    def hint(self, language: str, messages: Mapping[str, str]) -> str:
        """Say how to answer, for an SMS (USSD menus speak for themselves)."""
        count = len(self.options())
        return messages["reply_range"] % {"low": 1, "high": count} if count else ""

    def top_score(self) -> float | None:
        """Return the best score an answer can get, which makes it 'top box'."""
        scores = [option.score for option in self.options() if option.score is not None]
        return max(scores) if scores else None


def _pick_option(options: tuple[Option, ...], raw: str) -> Answer | None:
    if not options:
        return None
    chosen: Option | None = None
    number = inputs.parse_integer(raw)
    if number is not None and 1 <= number <= len(options):
        chosen = options[number - 1]
    else:
        typed = inputs.plain(raw)
        for option in options:
            names = {inputs.plain(option.value)} | {inputs.plain(t) for t in option.label.values()}
            if typed and typed in names:
                chosen = option
                break
    if chosen is None:
        return None
    top = max((o.score for o in options if o.score is not None), default=None)
    top_box = None if chosen.score is None else chosen.score == top
    return Answer(chosen.value, chosen.score, top_box)


def _read_next(data: LineDict, reader: Reader, step_id: str) -> tuple[Transition, ...]:
    """Read `next:` as a step id, or as a list of `{if: {...}, goto: id}` ending with a default."""
    spec = data.get("next")
    line = data.line_of("next")
    if spec is None:
        return ()
    if isinstance(spec, str):
        return (Transition((), spec, line),)
    if not isinstance(spec, list):
        reader.error("'next' must be a step id or a list of {if: …, goto: …}", line, step_id)
        return ()
    transitions = []
    for index, item in enumerate(spec):
        item_line = spec.item_lines[index] if isinstance(spec, LineList) else line
        if isinstance(item, str):
            transitions.append(Transition((), item, item_line))
            continue
        if not isinstance(item, dict) or "goto" not in item:
            reader.error("each 'next' entry needs 'goto: <step id>'", item_line, step_id)
            continue
        unknown = set(item) - {"if", "goto"}
        if unknown:
            reader.error(f"unknown field '{sorted(unknown)[0]}' in 'next' (allowed: if, goto)",
                         item_line, step_id)
        conditions = _read_conditions(item.get("if"), item_line, reader, step_id)
        transitions.append(Transition(conditions, str(item["goto"]), item_line))
    return tuple(transitions)


def _read_conditions(spec: Any, line: int, reader: Reader, step_id: str) -> tuple[Condition, ...]:
    if spec is None:
        return ()
    if not isinstance(spec, dict) or not spec:
        reader.error("'if' must map earlier step ids to the answers that lead here", line, step_id)
        return ()
    conditions = []
    for other, test in spec.items():
        test_line = _line(spec, other, line)
        negate, values, low, high = False, None, None, None
        if isinstance(test, dict):
            unknown = set(test) - {"not", "in", "not_in", "min", "max"}
            if unknown:
                reader.error(f"unknown test '{sorted(unknown)[0]}' on '{other}' "
                             "(allowed: in, not, not_in, min, max)", test_line, step_id)
            if "not" in test or "not_in" in test:
                negate = True
                test_values = test.get("not", test.get("not_in"))
            else:
                test_values = test.get("in")
            if test_values is not None:
                values = _as_values(test_values)
            low = test.get("min")
            high = test.get("max")
            if values is None and low is None and high is None:
                reader.error(f"the test on '{other}' says nothing to compare", test_line, step_id)
        else:
            values = _as_values(test)
        conditions.append(Condition(str(other), values, low, high, negate, test_line))
    return tuple(conditions)


def _as_values(spec: Any) -> frozenset[str]:
    if isinstance(spec, list):
        return frozenset(str(v) for v in spec)
    return frozenset({str(spec)})


def _read_options(data: LineDict, reader: Reader, step_id: str, *,
                  scored: bool) -> tuple[Option, ...]:
    spec = data.get("options")
    line = data.line_of("options")
    if not isinstance(spec, list) or not spec:
        reader.error(f"step '{step_id}' needs 'options', a list", line, step_id)
        return ()
    options, seen = [], set()
    for index, item in enumerate(spec):
        item_line = spec.item_lines[index] if isinstance(spec, LineList) else line
        if not isinstance(item, dict) or "value" not in item:
            reader.error("each option needs 'value' and its text in each language",
                         item_line, step_id)
            continue
        value = str(item["value"])
        if value in seen:
            reader.error(f"option value '{value}' is given twice", item_line, step_id)
        seen.add(value)
        labels = {k: v for k, v in item.items() if k in reader.languages}
        label = reader.texts(labels, item_line, f"option '{value}'", step_id)
        unknown = set(item) - {"value", "score", *reader.languages}
        if unknown:
            reader.error(f"unknown field '{sorted(unknown)[0]}' in option '{value}'",
                         item_line, step_id)
        score = reader.number(item, "score", None, item_line, step_id, low=0, high=100)
        if scored and score is None:
            reader.error(f"option '{value}' needs a 'score' from 0 to 100", item_line, step_id)
        options.append(Option(value, label, score, item_line))
    return tuple(options)


STEP_TYPES: dict[str, type[Step]] = {}


def register(cls: type[Step]) -> type[Step]:
    """Make a step class known by its `type_name`."""
    STEP_TYPES[cls.type_name] = cls
    return cls


def build_step(data: LineDict, reader: Reader) -> Step | None:
    """Build the step that `data` describes, or record why it cannot be built."""
    kind = data.get("type")
    cls = STEP_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(STEP_TYPES))
        reader.error(f"step '{data.get('id')}': unknown step type {kind!r} (known: {known})",
                     data.line_of("type"), str(data.get("id")))
        return None
    return cls(data, reader)


# The concrete step types live in their own module, which registers them on import.
from gateway.engine import step_types as _step_types  # noqa: E402,F401
