"""Flow files: YAML in, a validated `Flow` out, with every mistake as `file:line: message`.

A flow's version is the hash of its file's bytes, so a session can stay pinned to the exact
flow it started on while staff edit the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any, Mapping

from gateway.engine.steps import Reader, Step, build_step
from gateway.engine.voice_options import VoiceOptions, read_voice_options
from gateway.engine.yamlsource import LineDict, LineList, read_yaml
from gateway.errors import FlowError, FlowLoadError

LANGUAGES = ("fr", "bm")
CHANNELS = ("ussd", "sms", "voice")
DEFAULT_CHANNELS = ("ussd", "sms")  # voice needs recordings, so a flow asks for it by name
AREAS = {
    "clinical_quality": {"fr": "Qualité clinique", "bm": "Furakɛli ɲɛnaman"},
    "patient_experience": {"fr": "Vécu des patientes", "bm": "Banabagatɔw ka ladonni"},
    "management_governance": {"fr": "Gestion et gouvernance", "bm": "Ɲɛmɔgɔya ni marali"},
    "revenue_cost_recovery": {"fr": "Recettes et recouvrement des coûts", "bm": "Wari donta"},
}
TOP_KEYS = frozenset({"id", "title", "languages", "channels", "max_tries", "sms", "start",
                      "dimensions", "steps", "review", "voice"})
END = "__end__"  # where a flow goes after its last step


@dataclasses.dataclass(frozen=True)
class Dimension:
    """What a group of questions measures, and which of the four QI areas it belongs to."""

    id: str
    area: str
    label: Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class SmsOptions:
    """How a flow behaves on SMS."""

    expiry_hours: float = 48
    max_segments: int = 2
    unicode: bool = False


@dataclasses.dataclass(frozen=True)
class Flow:
    """A validated survey flow, pinned to the hash of its file."""

    id: str
    title: Mapping[str, str]
    languages: tuple[str, ...]
    channels: tuple[str, ...]
    max_tries: int
    sms: SmsOptions
    dimensions: Mapping[str, Dimension]
    steps: Mapping[str, Step]
    start: str
    version: str
    path: str
    source: str = dataclasses.field(repr=False)
    voice: VoiceOptions = VoiceOptions()

    def step(self, step_id: str) -> Step:
        """Return the step with this id."""
        return self.steps[step_id]

    def next_step(self, step_id: str, answers: Mapping[str, str | None]) -> str:
        """Return the step that follows `step_id` for these answers, or END."""
        step = self.steps[step_id]
        for transition in step.transitions:
            if transition.applies(answers):
                return transition.goto
        return self._following(step_id)

    def successors(self, step_id: str) -> set[str]:
        """Return every step that can follow `step_id`, whatever the answers."""
        step = self.steps[step_id]
        found = {t.goto for t in step.transitions}
        if not any(not t.conditions for t in step.transitions):
            found.add(self._following(step_id))
        return found

    def _following(self, step_id: str) -> str:
        order = list(self.steps)
        index = order.index(step_id)
        return order[index + 1] if index + 1 < len(order) else END


def version_of(source: str) -> str:
    """Return the version hash of a flow file's text."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def parse_flow(source: str, path: str = "<flow>") -> Flow:
    """Parse and check a flow's YAML text; raise FlowLoadError listing every mistake."""
    try:
        data = read_yaml(source, path)
    except FlowError as error:
        raise FlowLoadError([error]) from None
    if not isinstance(data, LineDict):
        raise FlowLoadError([FlowError("a flow file must be a mapping with id, title, "
                                       "languages, channels, dimensions and steps", path=path,
                                       line=1)])
    languages = _read_languages(data, path)
    reader = Reader(path, languages)
    flow = _read_flow(data, reader, source, path)
    if not reader.errors:
        _check_graph(flow, data, reader)
    if reader.errors:
        raise FlowLoadError(sorted(reader.errors, key=lambda e: e.line or 0))
    return flow


def load_flow(path: str | Path) -> Flow:
    """Read and check one flow file."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise FlowLoadError([FlowError(f"not UTF-8 text ({error.reason})", path=str(path))]) \
            from None
    except OSError as error:
        raise FlowLoadError([FlowError(f"cannot read the file: {error.strerror}",
                                       path=str(path))]) from None
    return parse_flow(source, str(path))


def _read_languages(data: LineDict, path: str) -> tuple[str, ...]:
    languages = data.get("languages")
    if isinstance(languages, list) and languages and all(l in LANGUAGES for l in languages):
        return tuple(languages)
    return LANGUAGES  # the mistake itself is reported by _read_flow


def _read_flow(data: LineDict, reader: Reader, source: str, path: str) -> Flow:
    for key in data:
        if key not in TOP_KEYS:
            reader.error(f"unknown field '{key}' (allowed: {', '.join(sorted(TOP_KEYS))})",
                         data.line_of(key))
    flow_id = data.get("id")
    if not isinstance(flow_id, str) or not flow_id.replace("_", "").isalnum():
        reader.error("'id' is required: letters, digits and _ only", data.line_of("id"))
        flow_id = str(flow_id)
    languages = data.get("languages")
    if not (isinstance(languages, list) and languages
            and all(l in LANGUAGES for l in languages)):
        reader.error(f"'languages' must list some of: {', '.join(LANGUAGES)}",
                     data.line_of("languages"))
    channels = data.get("channels", list(DEFAULT_CHANNELS))
    if not (isinstance(channels, list) and channels and all(c in CHANNELS for c in channels)):
        reader.error(f"'channels' must list some of: {', '.join(CHANNELS)}",
                     data.line_of("channels"))
        channels = list(DEFAULT_CHANNELS)
    title = reader.texts(data.get("title"), data.line_of("title"), "title", None)
    max_tries = int(reader.number(data, "max_tries", 3, data.line, None, low=1, high=10) or 3)
    sms = _read_sms(data, reader)
    voice = read_voice_options(data, reader, channels)
    dimensions = _read_dimensions(data, reader)
    steps = _read_steps(data, reader)
    start = data.get("start", next(iter(steps), ""))
    for step in steps.values():
        if step.dimension and step.dimension not in dimensions:
            reader.error(f"dimension '{step.dimension}' is not declared under 'dimensions'",
                         step.dimension_line, step.id)
    return Flow(flow_id, title, reader.languages, tuple(channels), max_tries, sms, dimensions,
                steps, str(start), version_of(source), path, source, voice)


def _read_sms(data: LineDict, reader: Reader) -> SmsOptions:
    spec = data.get("sms", {})
    line = data.line_of("sms")
    if not isinstance(spec, dict):
        reader.error("'sms' must be a mapping (expiry_hours, max_segments, unicode)", line)
        return SmsOptions()
    unknown = set(spec) - {"expiry_hours", "max_segments", "unicode"}
    if unknown:
        reader.error(f"unknown field '{sorted(unknown)[0]}' in 'sms'", line)
    expiry = reader.number(spec, "expiry_hours", 48, line, None, low=0.25, high=24 * 30)
    segments = reader.number(spec, "max_segments", 2, line, None, low=1, high=6)
    return SmsOptions(expiry or 48, int(segments or 2), spec.get("unicode", False) is True)


def _read_dimensions(data: LineDict, reader: Reader) -> dict[str, Dimension]:
    spec = data.get("dimensions", [])
    if not isinstance(spec, list):
        reader.error("'dimensions' must be a list", data.line_of("dimensions"))
        return {}
    dimensions: dict[str, Dimension] = {}
    for index, item in enumerate(spec):
        line = spec.item_lines[index] if isinstance(spec, LineList) else data.line
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            reader.error("each dimension needs an 'id', an 'area' and a 'label'", line)
            continue
        dim_id = item["id"]
        if dim_id == "overall" or dim_id in AREAS:
            reader.error(f"dimension id '{dim_id}' is reserved for the scores' roll-ups: "
                         "choose another", line)
        if dim_id in dimensions:
            reader.error(f"dimension '{dim_id}' is declared twice", line)
        area = item.get("area")
        if area not in AREAS:
            reader.error(f"dimension '{dim_id}': 'area' must be one of {', '.join(AREAS)}",
                         _line_of(item, "area", line))
        unknown = set(item) - {"id", "area", "label"}
        if unknown:
            reader.error(f"unknown field '{sorted(unknown)[0]}' in dimension '{dim_id}'", line)
        label = reader.texts(item.get("label"), _line_of(item, "label", line),
                             f"dimension '{dim_id}' label", None)
        dimensions[dim_id] = Dimension(dim_id, str(area), label)
    return dimensions


def _read_steps(data: LineDict, reader: Reader) -> dict[str, Step]:
    spec = data.get("steps")
    if not isinstance(spec, list) or not spec:
        reader.error("'steps' must be a list with at least one step", data.line_of("steps"))
        return {}
    steps: dict[str, Step] = {}
    for index, item in enumerate(spec):
        line = spec.item_lines[index] if isinstance(spec, LineList) else data.line
        if not isinstance(item, LineDict) or not isinstance(item.get("id"), str):
            reader.error("each step needs an 'id' (a word) and a 'type'", line)
            continue
        if item["id"] in steps or item["id"] == END:
            reader.error(f"step id '{item['id']}' is used twice", line, item["id"])
            continue
        step = build_step(item, reader)
        if step is not None:
            steps[step.id] = step
    return steps


def _line_of(item: Any, key: str, default: int) -> int:
    return item.line_of(key) if isinstance(item, LineDict) else default


def _check_graph(flow: Flow, data: LineDict, reader: Reader) -> None:
    """Check that every step is reachable, every target exists, and every path can end."""
    if flow.start not in flow.steps:
        reader.error(f"'start' names step '{flow.start}', which does not exist",
                     data.line_of("start"))
        return
    for step in flow.steps.values():
        for transition in step.transitions:
            if transition.goto not in flow.steps:
                reader.error(f"step '{step.id}' goes to unknown step '{transition.goto}'",
                             transition.line, step.id)
            for condition in transition.conditions:
                _check_condition(flow, step, condition, reader)
    if reader.errors:
        return
    reachable = _reachable(flow, flow.start)
    for step in flow.steps.values():
        if step.id not in reachable:
            reader.error(f"step '{step.id}' can never be reached", step.line, step.id)
    can_end = {s.id for s in flow.steps.values() if s.final or s.type_name == "consent"}
    changed = True
    while changed:
        changed = False
        for step_id in flow.steps:
            if step_id not in can_end and any(
                    s == END or s in can_end for s in flow.successors(step_id)):
                can_end.add(step_id)
                changed = True
    for step_id in flow.steps:
        if step_id in reachable and step_id not in can_end:
            reader.error(f"step '{step_id}' is in a loop that can never end",
                         flow.steps[step_id].line, step_id)


def _check_condition(flow: Flow, step: Step, condition: Any, reader: Reader) -> None:
    other = flow.steps.get(condition.step)
    if other is None or not other.answerable:
        reader.error(f"condition on '{condition.step}', which is not a question of this flow",
                     condition.line, step.id)
        return
    if other.type_name in ("language", "center_code"):
        reader.error(f"condition on '{condition.step}': a {other.type_name} step records no "
                     "answer to test (it is skipped when already known)",
                     condition.line, step.id)
        return
    values = {o.value for o in other.options()}
    if condition.values and values:
        unknown = sorted(condition.values - values - {"skipped"})
        if unknown:
            reader.error(f"'{condition.step}' has no option '{unknown[0]}' "
                         f"(options: {', '.join(sorted(values))})", condition.line, step.id)


def _reachable(flow: Flow, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        step_id = todo.pop()
        if step_id in seen or step_id == END:
            continue
        seen.add(step_id)
        todo.extend(flow.successors(step_id))
    return seen
