"""Run a flow: `start(flow, trigger, env)` and `resume(flow, state, text, env)`.

Pure: the state is a small JSON-safe dict, time comes in through `Environment.now`, and
whatever should happen outside (store an answer, end a session) comes out as events, each
of a kind listed in `events.py`. `opt_out` and `opt_in` are the opt-out outside a
session and the opt-in of a phone that writes again, so that every event is born here.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Callable, Mapping

from gateway.engine import gsm, inputs, render
from gateway.engine.definition import END, Flow
from gateway.engine.events import (ANSWER_GIVEN, CENTER_IDENTIFIED, LANGUAGE_CHOSEN, OPTED_IN,
                                   OPTED_OUT, SESSION_ENDED, SESSION_RESUMED, SESSION_STARTED,
                                   make)
from gateway.engine.step_types import CenterCodeStep, ConsentStep, LanguageStep, TextStep
from gateway.engine.steps import Step
from gateway.errors import EngineUsageError

RAW_LIMIT = 500  # characters of what she typed that an answer_given event carries


@dataclasses.dataclass(frozen=True)
class Trigger:
    """What starts a session: the channel, and what is already known of her."""

    channel: str
    language: str | None = None
    center: str | None = None


@dataclasses.dataclass(frozen=True)
class Environment:
    """Everything the engine is given rather than finds: time, texts, limits, lookups."""

    now: datetime
    messages: Mapping[str, Mapping[str, str]]
    ussd_limit: int = render.USSD_LIMIT
    center_lookup: Callable[[str], str | None] | None = None


@dataclasses.dataclass(frozen=True)
class Reply:
    """What the phone shows: for USSD the screen without `CON`/`END`, for SMS the message."""

    text: str
    final: bool


@dataclasses.dataclass(frozen=True)
class Turn:
    """The result of one start or resume."""

    state: dict[str, Any]
    reply: Reply
    events: list[dict[str, Any]]
    # She asked to start again: the events before `session_started` end the old session,
    # and the state and reply are a new session's, to be filed under a new key.
    restart: bool = False


def start(flow: Flow, trigger: Trigger, env: Environment) -> Turn:
    """Start a session of `flow` and return its first screen."""
    if trigger.channel not in flow.channels:
        raise EngineUsageError(f"flow '{flow.id}' does not run on channel '{trigger.channel}'")
    language = trigger.language if trigger.language in flow.languages else None
    state = {"flow": flow.id, "version": flow.version, "channel": trigger.channel,
             "lang": language, "center": trigger.center, "step": None, "page": 0, "tries": 0,
             "turns": 0, "pre": [], "note": None, "answers": {}, "status": "active"}
    run = _Run(flow, state, env)
    run.emit(SESSION_STARTED, flow_id=flow.id, flow_version=flow.version,
             channel=trigger.channel, language=language, center=trigger.center)
    return run.enter(flow.start)


def resume(flow: Flow, state: Mapping[str, Any], text: str, env: Environment) -> Turn:
    """Apply one input to a live session and return the next screen."""
    if state.get("version") != flow.version or state.get("flow") != flow.id:
        raise EngineUsageError(f"session is pinned to {state.get('flow')}@{state.get('version')},"
                               f" not {flow.id}@{flow.version}")
    if state.get("status") != "active":
        raise EngineUsageError("session has already ended")
    run = _Run(flow, _copy(state), env)
    return run.resume(text)


def end(flow: Flow, state: Mapping[str, Any], status: str, env: Environment) -> Turn:
    """End a live session from outside (expired, abandoned) and say so in an event."""
    run = _Run(flow, _copy(state), env)
    return run.finish(status, run.message("expired" if status == "expired" else "thanks"))


def show(flow: Flow, state: Mapping[str, Any], env: Environment) -> Turn:
    """Show a live session's current question again (after a dropped USSD call)."""
    if state.get("status") != "active" or not state.get("step"):
        raise EngineUsageError("only a live session can be shown again")
    run = _Run(flow, _copy(state), env)
    run.state.update(page=0, note=None)
    run.emit(SESSION_RESUMED)
    return run.ask(flow.step(run.state["step"]))


def opt_out(flow: Flow, trigger: Trigger, env: Environment) -> Turn:
    """Opt a phone out that wrote STOP outside any session, and confirm it.

    The state is a session's already over (`opted_out`, no step), for the caller to file
    the opt-out under; `trigger.language` is kept as given, French when unknown.
    """
    language = trigger.language or "fr"
    state = {"flow": flow.id, "version": flow.version, "channel": trigger.channel,
             "lang": language, "center": None, "status": "opted_out", "step": None}
    texts = env.messages.get(language) or env.messages["fr"]
    reply = Reply(gsm.prepare_sms(texts["opted_out"]), True)
    return Turn(state, reply, [make(OPTED_OUT, env.now.isoformat())])


def opt_in(turn: Turn, env: Environment) -> Turn:
    """Return `turn` opening with an `opted_in` event: she opted out before, and wrote again."""
    return Turn(turn.state, turn.reply, [make(OPTED_IN, env.now.isoformat()), *turn.events],
                turn.restart)


def max_turns(flow: Flow) -> int:
    """Return how many inputs a session takes at most before it is ended."""
    return 10 * len(flow.steps) + 20


class _Run:
    """One call's work on a copy of the state."""

    def __init__(self, flow: Flow, state: dict[str, Any], env: Environment) -> None:
        self.flow, self.state, self.env = flow, state, env
        self.events: list[dict[str, Any]] = []

    @property
    def language(self) -> str:
        return self.state["lang"] or self.flow.languages[0]

    @property
    def channel(self) -> str:
        return self.state["channel"]

    def message(self, key: str, **params: Any) -> str:
        texts = self.env.messages.get(self.language) or self.env.messages["fr"]
        text = texts[key]
        return text % params if params else text

    def emit(self, kind: str, **fields: Any) -> None:
        self.events.append(make(kind, self.env.now.isoformat(), **fields))

    def resume(self, text: str) -> Turn:
        self.state["turns"] += 1
        if self.state["turns"] >= max_turns(self.flow):
            return self.finish("abandoned", self.message("too_many_tries"))
        step = self.flow.step(self.state["step"])
        word = inputs.keyword(text)
        if word == "stop":
            self.emit(OPTED_OUT)
            return self.finish("opted_out", self.message("opted_out"))
        if word == "restart":
            self.emit(SESSION_ENDED, status="abandoned")
            fresh = start(self.flow, Trigger(self.channel, language=self.state["lang"],
                                             center=self.state["center"]), self.env)
            # The conversation's input budget goes on: restarting is no way round max_turns.
            fresh.state["turns"] = self.state["turns"]
            return Turn(fresh.state, fresh.reply, self.events + fresh.events, restart=True)
        if word == "help" and not isinstance(step, TextStep):
            self.state.update(note="help", page=0)
            return self.ask(step)
        if self.channel == "ussd" and self._turn_page(step, text):
            return self.ask(step)
        answer = step.accept(text, self.language)
        if isinstance(step, CenterCodeStep) and answer is not None:
            center = self.env.center_lookup(answer.value) if self.env.center_lookup else \
                answer.value
            if center is None:
                answer = None
            else:
                self.state["center"] = center
                self.emit(CENTER_IDENTIFIED, center=center)
        if answer is None:
            return self.retry(step)
        return self.accepted(step, text, answer)

    def accepted(self, step: Step, text: str, answer: Any) -> Turn:
        answers = self.state["answers"]
        if isinstance(step, LanguageStep):
            self.state["lang"] = answer.value
            self.emit(LANGUAGE_CHOSEN, language=answer.value)
        elif isinstance(step, ConsentStep) and answer.value == "no":
            return self.finish("declined", step.declined.get(self.language, ""))
        elif isinstance(step, TextStep) and answer.value == "":
            answers[step.id] = None  # skipped: conditions can test `skipped`
        elif not isinstance(step, CenterCodeStep):
            answers[step.id] = answer.value
            dimension = self.flow.dimensions.get(step.dimension) if step.dimension else None
            self.emit(ANSWER_GIVEN, step=step.id, raw=text[:RAW_LIMIT], value=answer.value,
                      score=answer.score, top_box=answer.top_box,
                      dimension=dimension.id if dimension else None,
                      area=dimension.area if dimension else None)
        return self.enter(self.flow.next_step(step.id, answers))

    def enter(self, step_id: str) -> Turn:
        """Walk from `step_id` through steps that need no input, to a question or the end."""
        shown: list[str] = []
        shown_ids: list[str] = []
        for _ in range(len(self.flow.steps) + 1):
            if step_id == END or self.flow.step(step_id).final:
                # What the last words were made of, for a call that plays them from recordings.
                self.state.update(pre=shown_ids, ending=step_id)
            if step_id == END:
                return self.finish("completed", "\n".join(shown + [self.message("thanks")]))
            step = self.flow.step(step_id)
            if step.final:
                return self.finish("completed", "\n".join(shown + [step.text[self.language]]))
            if step.answerable and not self._skip(step):
                self.state.update(step=step_id, page=0, tries=0, pre=shown_ids, note=None)
                return self.ask(step)
            if not step.answerable:
                shown.append(step.text[self.language])
                shown_ids.append(step_id)
            step_id = self.flow.next_step(step_id, self.state["answers"])
        raise EngineUsageError(f"flow '{self.flow.id}' loops without a question")  # validated

    def _skip(self, step: Step) -> bool:
        if isinstance(step, LanguageStep):
            return self.state["lang"] is not None and not step.always_ask
        if isinstance(step, CenterCodeStep):
            return self.state["center"] is not None
        if isinstance(step, TextStep):
            return self.channel == "voice"  # a keypad cannot write a comment
        return False

    def ask(self, step: Step) -> Turn:
        if self.channel == "ussd":
            pages = self.pages(step)
            text = pages[min(self.state["page"], len(pages) - 1)]
        else:
            text = render.sms_text(self.prompt(step), keep_unicode=self.flow.sms.unicode)
            note = self.state.get("note")
            if note and render.gsm.segments(text) > self.flow.sms.max_segments:
                # The note and the whole question would not fit the flow's SMS length: she
                # has the question already, so send the note and how to answer.
                short = " ".join(filter(None, [self.message(note),
                                               step.hint(self.language, self.message_table())]))
                text = render.sms_text(render.Prompt(short, ()),
                                       keep_unicode=self.flow.sms.unicode)
        return Turn(self.state, Reply(text, False), self.events)

    def pages(self, step: Step) -> list[str]:
        """Lay the step out as USSD screens; a note that does not fit is dropped."""
        try:
            return render.ussd_pages(self.prompt(step), self.message_table(),
                                     self.env.ussd_limit)
        except ValueError:
            self.state["note"] = None
            self.state["pre"] = []
            return render.ussd_pages(self.prompt(step), self.message_table(),
                                     self.env.ussd_limit)

    def prompt(self, step: Step) -> render.Prompt:
        """Build the text of a step in the session's language, with info text above it."""
        note = self.state.get("note")
        prefix = self.message(note) if note else ""
        info = [] if note else [self.flow.step(i).text[self.language]
                                for i in self.state.get("pre", [])]
        if isinstance(step, LanguageStep):
            question = "\n".join(step.text[lang] for lang in self.flow.languages)
        else:
            question = step.text[self.language]
        extra: tuple[str, ...] = ()
        if isinstance(step, TextStep) and step.optional and self.channel == "ussd":
            extra = (f"{TextStep.SKIP}. {self.message('skip_label')}",)
        header = "\n".join([*filter(None, [prefix]), *info, question])
        return render.Prompt(header, tuple(step.menu(self.language)), step.hint(
            self.language, self.message_table()), extra)

    def message_table(self) -> Mapping[str, str]:
        return self.env.messages.get(self.language) or self.env.messages["fr"]

    def retry(self, step: Step) -> Turn:
        self.state["tries"] += 1
        if self.state["tries"] >= self.flow.max_tries:
            return self.finish("abandoned", self.message("too_many_tries"))
        self.state["page"] = 0
        if self.channel == "sms":
            # A step with no "reply 1 to 4" hint (the centre code) repeats its question, or
            # the re-prompt would not say what to send.
            hint = step.hint(self.language, self.message_table()) or step.text[self.language]
            text = " ".join(filter(None, [self.message("invalid"), hint]))
            return Turn(self.state, Reply(render.sms_text(render.Prompt(text, ())), False),
                        self.events)
        self.state["note"] = "invalid"
        return self.ask(step)

    def finish(self, status: str, text: str) -> Turn:
        self.state["status"] = status
        self.state["step"] = None
        self.emit(SESSION_ENDED, status=status)
        if self.channel == "ussd":
            budget = self.env.ussd_limit - render.USSD_PREFIX
            body = render.clip(render.gsm.fold_to_gsm7(text), budget)
        else:
            body = render.gsm.prepare_sms(text, keep_unicode=self.flow.sms.unicode)
        return Turn(self.state, Reply(body, True), self.events)

    def _turn_page(self, step: Step, text: str) -> bool:
        """Move between pages of a long USSD menu; True when the input was a page turn."""
        word = text.strip()
        if word not in (render.MORE, render.BACK) or not step.options():
            return False
        pages = self.pages(step)
        page = self.state["page"]
        if word == render.MORE and page + 1 < len(pages):
            self.state["page"] = page + 1
            return True
        if word == render.BACK and page > 0:
            self.state["page"] = page - 1
            return True
        return False


def _copy(state: Mapping[str, Any]) -> dict[str, Any]:
    copied = dict(state)
    copied["answers"] = dict(state.get("answers", {}))
    copied["pre"] = list(state.get("pre", []))
    return copied
