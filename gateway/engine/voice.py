"""A flow on a keypad: what a mother hears on a call, and which keys it waits for.

A call is an ordinary session on the `voice` channel: `session.start` and `session.resume`
run it, with the keys she presses as the inputs USSD would get (`1`, `12`). This module
only turns the session's state into a `VoicePrompt` (recordings to play, each with its exact
text, and the keys to wait for), and handles the two things a keypad adds: `*` repeats the
question, and no key within the timeout (an empty input) plays it again, counted as a try.

Recordings are named relative to the recordings folder beside the flow files:
`<flow>/<lang>/<step>.wav`, `<flow>/<lang>/<step>.<option value>.wav`,
`<flow>/<lang>/<consent step>.declined.wav`, and the gateway's own phrases
`_gateway/<lang>/<phrase>.wav` (`press_1`, `yes`, `not_an_answer`, `goodbye`…).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from gateway.engine import session
from gateway.engine.definition import END, Flow
from gateway.engine.step_types import ConsentStep, LanguageStep, TextStep, YesNoStep
from gateway.engine.steps import LANGUAGE_NAMES, Option, Step

EXTENSION = ".wav"
GATEWAY = "_gateway"  # the folder of the gateway's own phrases, beside the flows' folders
STAR = "*"            # repeats the question
HASH = "#"            # ends a number
# The gateway's phrases: file name -> message key of gateway/i18n.py's ENGINE_MSGIDS.
PHRASES = {"not_an_answer": "voice_not_an_answer", "number_hint": "voice_number_hint",
           "goodbye": "voice_goodbye", "thanks": "thanks", "apology": "error"}


@dataclasses.dataclass(frozen=True)
class Segment:
    """One recording to play, with the exact text it says (read aloud when it is missing)."""

    file: str       # relative to the recordings folder: "maternal_care/fr/visit.wav"
    text: str
    language: str
    line: int = 0   # the flow file's line it belongs to; the gateway's phrases: the voice key's


@dataclasses.dataclass(frozen=True)
class KeySpec:
    """The keys a question waits for: `digits` of them, or any number ended by `finish_on_key`."""

    digits: int | None
    finish_on_key: str | None
    timeout: int
    star_repeats: bool = True


@dataclasses.dataclass(frozen=True)
class VoicePrompt:
    """What the mother hears in one turn, and the keys awaited (None: the call then ends)."""

    segments: tuple[Segment, ...]
    keys: KeySpec | None

    @property
    def final(self) -> bool:
        """Tell whether the call ends after these segments."""
        return self.keys is None


@dataclasses.dataclass(frozen=True)
class VoiceTurn:
    """The result of one start or resume of a call."""

    state: dict[str, Any]
    prompt: VoicePrompt
    events: list[dict[str, Any]]


def start(flow: Flow, trigger: session.Trigger, env: session.Environment) -> VoiceTurn:
    """Start a call's session and return what she hears first."""
    language = trigger.language if trigger.language in flow.voice.languages else None
    if len(flow.voice.languages) == 1:
        language = flow.voice.languages[0]  # the only language the call has recordings in
    turn = session.start(flow, session.Trigger("voice", language=language,
                                               center=trigger.center), env)
    return VoiceTurn(turn.state, _prompt(flow, turn.state, env, None, ""), turn.events)


def resume(flow: Flow, state: Mapping[str, Any], keys: str, env: session.Environment) -> VoiceTurn:
    """Apply the keys she pressed ("" when none came within the timeout); return what follows."""
    pressed = keys.strip()
    if pressed.endswith(HASH):
        pressed = pressed[:-1]
    if pressed == STAR and state.get("status") == "active":
        again = dict(state, note=None, pre=[])
        return VoiceTurn(again, _prompt(flow, again, env, state, ""), [])
    turn = session.resume(flow, state, pressed, env)
    return VoiceTurn(turn.state, _prompt(flow, turn.state, env, state, pressed), turn.events)


def show(flow: Flow, state: Mapping[str, Any], env: session.Environment) -> VoiceTurn:
    """Play a live session's current question again, after a dropped call is called back."""
    turn = session.show(flow, state, env)
    return VoiceTurn(turn.state, _prompt(flow, turn.state, env, state, ""), turn.events)


def recording(flow_id: str, language: str, name: str) -> str:
    """Return a recording's file name, relative to the recordings folder."""
    return f"{flow_id}/{language}/{name}{EXTENSION}"


def phrase(name: str, language: str, messages: Mapping[str, Mapping[str, str]],
           line: int = 0) -> Segment:
    """Return one of the gateway's own phrases as a segment; `press_<n>` says which key."""
    texts = messages.get(language) or messages["fr"]
    if name.startswith("press_"):
        text = texts["voice_press"] % {"key": name.removeprefix("press_")}
    else:
        text = texts[PHRASES[name]]
    return Segment(recording(GATEWAY, language, name), text, language, line)


def question(flow: Flow, step: Step, language: str,
             messages: Mapping[str, Mapping[str, str]]) -> list[Segment]:
    """Return a question as she hears it: the question, then "<option>: press <n>" for each."""
    if isinstance(step, LanguageStep):  # each language asks in its own voice
        spoken = []
        for key, option in enumerate(step.options(), 1):
            if option.value in flow.voice.languages:
                spoken += [step_text(flow, step, option.value),
                           _option(flow, step, option, option.value),
                           phrase(f"press_{key}", option.value, messages, flow.voice.line)]
        return spoken
    spoken = [step_text(flow, step, language)]
    for key, option in enumerate(step.options(), 1):
        spoken += [_option(flow, step, option, language),
                   phrase(f"press_{key}", language, messages, flow.voice.line)]
    if not step.options():
        spoken.append(phrase("number_hint", language, messages, flow.voice.line))
    return spoken


def step_text(flow: Flow, step: Step, language: str) -> Segment:
    """Return the recording of a step's own text."""
    return Segment(recording(flow.id, language, step.id), step.text[language], language,
                   step.text_line)


def declined(flow: Flow, step: ConsentStep, language: str) -> Segment:
    """Return the recording of a consent step's words to a mother who says no."""
    return Segment(recording(flow.id, language, f"{step.id}.declined"),
                   step.declined[language], language, step.declined_line)


def key_spec(flow: Flow, step: Step) -> KeySpec:
    """Return the keys a step waits for: one per menu choice, or digits ended by `#`."""
    count = len(step.options())
    if count:
        return KeySpec(len(str(count)), None, flow.voice.timeout)
    return KeySpec(None, HASH, flow.voice.timeout)


def spoken_steps(flow: Flow) -> list[Step]:
    """Return the steps a call can play: every step but free text, which a keypad cannot write."""
    return [step for step in flow.steps.values() if not isinstance(step, TextStep)]


def script(flow: Flow, language: str,
           messages: Mapping[str, Mapping[str, str]]) -> list[Segment]:
    """Return every recording a call in `language` can play, each once, in the order heard."""
    found: dict[str, Segment] = {}
    for step in spoken_steps(flow):
        spoken = question(flow, step, language, messages) if step.answerable \
            else [step_text(flow, step, language)]
        if isinstance(step, ConsentStep):
            spoken.append(declined(flow, step, language))
        for segment in spoken:
            if segment.language == language:
                found.setdefault(segment.file, segment)
    for name in ("not_an_answer", "goodbye", "thanks", "apology"):
        segment = phrase(name, language, messages, flow.voice.line)
        found.setdefault(segment.file, segment)
    return list(found.values())


def _option(flow: Flow, step: Step, option: Option, language: str) -> Segment:
    if isinstance(step, LanguageStep):
        name = recording(GATEWAY, language, "language_name")
        return Segment(name, LANGUAGE_NAMES.get(language, language), language, step.line)
    if isinstance(step, YesNoStep):  # the same "yes" and "no" for every question
        return Segment(recording(GATEWAY, language, option.value), option.label[language],
                       language, option.line)
    return Segment(recording(flow.id, language, f"{step.id}.{option.value}"),
                   option.label[language], language, option.line)


def _prompt(flow: Flow, state: Mapping[str, Any], env: session.Environment,
            before: Mapping[str, Any] | None, pressed: str) -> VoicePrompt:
    language = state.get("lang") or flow.languages[0]
    if state.get("status") != "active":
        return VoicePrompt(tuple(_ending(flow, state, before, language, env.messages)), None)
    step = flow.step(state["step"])
    lead: list[Segment] = []
    if state.get("note") == "invalid":
        if pressed:  # a wrong key; no key at all just hears the question again
            lead = [phrase("not_an_answer", language, env.messages, flow.voice.line)]
    else:
        lead = [step_text(flow, flow.step(i), language) for i in state.get("pre", [])]
    spoken = lead + question(flow, step, language, env.messages)
    return VoicePrompt(tuple(spoken), key_spec(flow, step))


def _ending(flow: Flow, state: Mapping[str, Any], before: Mapping[str, Any] | None,
            language: str, messages: Mapping[str, Mapping[str, str]]) -> list[Segment]:
    status = state.get("status")
    if status == "completed":
        infos = [step_text(flow, flow.step(i), language) for i in state.get("pre", [])]
        ending = state.get("ending", END)
        if ending == END:
            return infos + [phrase("thanks", language, messages, flow.voice.line)]
        return infos + [step_text(flow, flow.step(ending), language)]
    if status == "declined" and before and before.get("step"):
        consent = flow.step(before["step"])
        if isinstance(consent, ConsentStep):
            return [declined(flow, consent, language)]
    if status == "abandoned":
        return [phrase("goodbye", language, messages, flow.voice.line)]
    return [phrase("apology", language, messages, flow.voice.line)]
