"""Check that every screen of a flow fits its channel, in every language.

Run by `gateway flows validate` and whenever the gateway loads flows, with the gateway's
own messages (re-prompts, "More"/"Back") so that what is checked is what phones receive.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping

from gateway.engine import gsm, render
from gateway.engine.definition import END, Flow
from gateway.engine.session import Environment, _Run
from gateway.engine.step_types import ConsentStep
from gateway.engine.steps import Step
from gateway.errors import FlowError

_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def check_fit(flow: Flow, messages: Mapping[str, Mapping[str, str]], *,
              ussd_limit: int = render.USSD_LIMIT) -> list[FlowError]:
    """Return a FlowError for every screen or SMS of `flow` that does not fit its channel."""
    env = Environment(now=_EPOCH, messages=messages, ussd_limit=ussd_limit)
    errors: list[FlowError] = []
    for channel in flow.channels:
        if channel == "voice":
            continue  # calls have no screens: gateway/recordings.py checks what they play
        for language in flow.languages:
            checker = _FitChecker(flow, env, channel, language, errors)
            for step in flow.steps.values():
                checker.check_step(step)
    return errors


class _FitChecker:
    def __init__(self, flow: Flow, env: Environment, channel: str, language: str,
                 errors: list[FlowError]) -> None:
        self.flow, self.channel, self.language, self.errors = flow, channel, language, errors
        state = {"channel": channel, "lang": language, "page": 0, "pre": [], "note": None,
                 "answers": {}}
        self.run = _Run(flow, state, env)
        self.ussd_limit = env.ussd_limit

    def check_step(self, step: Step) -> None:
        if step.final:
            self.check_final(step, step.text[self.language])
        elif step.answerable:
            self.check_prompt(step, [])
        else:
            for target in self.questions_after(step.id):
                self.check_prompt(target, [step.id])
        if isinstance(step, ConsentStep):
            self.check_final(step, step.declined[self.language])

    def questions_after(self, info_id: str) -> list[Step]:
        """Find the questions an info step can be shown above (through further info steps)."""
        found, todo, seen = [], [info_id], set()
        while todo:
            for following in self.flow.successors(todo.pop()):
                if following == END or following in seen:
                    continue
                seen.add(following)
                step = self.flow.step(following)
                if step.answerable:
                    found.append(step)
                elif not step.final:
                    todo.append(following)
        return found

    def check_prompt(self, step: Step, pre: list[str]) -> None:
        self.run.state["pre"] = pre
        prompt = self.run.prompt(step)
        if self.channel == "ussd":
            try:
                render.ussd_pages(prompt, self.run.message_table(), self.ussd_limit)
            except ValueError as error:
                above = f" (with the text of '{pre[0]}' above it)" if pre else ""
                self.fail(step, f"{self.language}: {error}{above}")
            return
        text = render.sms_text(prompt, keep_unicode=self.flow.sms.unicode)
        self.check_segments(step, text)

    def check_final(self, step: Step, text: str) -> None:
        if self.channel == "ussd":
            try:
                render.ussd_final(text, self.ussd_limit)
            except ValueError as error:
                self.fail(step, f"{self.language}: {error}")
        else:
            self.check_segments(step, gsm.prepare_sms(text, keep_unicode=self.flow.sms.unicode))

    def check_segments(self, step: Step, text: str) -> None:
        count = gsm.count(text)
        if count.segments > self.flow.sms.max_segments:
            self.fail(step, f"{self.language}: the SMS takes {count.segments} {count.encoding} "
                            f"segments ({count.characters} characters), more than the flow's "
                            f"max_segments of {self.flow.sms.max_segments}")

    def fail(self, step: Step, message: str) -> None:
        self.errors.append(FlowError(f"step '{step.id}' on {self.channel}: {message}",
                                     path=self.flow.path, line=step.text_line, step=step.id))
