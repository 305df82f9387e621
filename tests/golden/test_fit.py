"""Every screen a shipped flow can show fits the phone, in both languages, on both channels.

Rather than trusting the validator, this walks each flow as mothers would: from every
start (language and centre known or not), every option, page turn, invalid answer and
keyword, collecting each reply the engine gives.
"""

from __future__ import annotations

import json
from collections import deque

import pytest

from gateway.engine import gsm, render
from gateway.engine.checks import check_fit
from gateway.engine.definition import Flow
from gateway.engine.session import Reply, Trigger, resume, start
from gateway.engine.step_types import NumberStep, TextStep
from tests.engine.support import MESSAGES, env, shipped_flows

FLOWS = shipped_flows()
IDS = [flow.id for flow in FLOWS]


def inputs_for(flow: Flow, step_id: str) -> list[str]:
    """Return the inputs worth trying at a step: each answer, paging, mistakes, keywords."""
    step = flow.step(step_id)
    tried = [str(n) for n in range(1, len(step.options()) + 1)]
    if isinstance(step, NumberStep):
        tried += [str(step.minimum), str(step.maximum)]
    if isinstance(step, TextStep):
        tried += ["Très bien, merci à l'équipe", TextStep.SKIP]
    if step.type_name == "center_code":
        tried += ["07"]
    return tried + [render.MORE, render.BACK, "x", "", "aide", "stop", "recommencer"]


_EXPLORED: dict[tuple[str, str], list[tuple[str, Reply]]] = {}


def explore(flow: Flow, channel: str) -> list[tuple[str, Reply]]:
    """Return (where, reply) for every reply reachable on a channel, from every start."""
    if (flow.version, channel) not in _EXPLORED:
        _EXPLORED[flow.version, channel] = _explore(flow, channel)
    return _EXPLORED[flow.version, channel]


def _explore(flow: Flow, channel: str) -> list[tuple[str, Reply]]:
    tested = {c.step for s in flow.steps.values() for t in s.transitions for c in t.conditions}
    replies, seen = [], set()
    todo = deque()
    for language in (None, *flow.languages):
        for center in (None, "07"):
            turn = start(flow, Trigger(channel, language, center), env())
            replies.append((f"start {language} {center}", turn.reply))
            todo.append(turn.state)
    while todo:
        state = todo.popleft()
        for typed in inputs_for(flow, state["step"]):
            turn = resume(flow, state, typed, env())
            replies.append((f"{state['step']} <- {typed!r}", turn.reply))
            if turn.reply.final:
                continue
            key = {k: v for k, v in turn.state.items() if k not in ("turns", "answers")}
            key["answers"] = {k: v for k, v in turn.state["answers"].items() if k in tested}
            fingerprint = json.dumps(key, sort_keys=True)
            if fingerprint not in seen:
                seen.add(fingerprint)
                todo.append(turn.state)
    return replies


def test_flows_are_shipped():
    assert "maternal_care" in IDS


@pytest.mark.parametrize("flow", FLOWS, ids=IDS)
def test_the_validator_finds_nothing(flow):
    assert check_fit(flow, MESSAGES) == []


@pytest.mark.parametrize("flow", FLOWS, ids=IDS)
def test_every_ussd_screen_fits_182_characters_with_its_prefix(flow):
    if "ussd" not in flow.channels:
        pytest.skip(f"{flow.id} does not run on USSD")
    replies = explore(flow, "ussd")
    assert len(replies) > 100
    for where, reply in replies:
        body = ("END " if reply.final else "CON ") + reply.text
        assert len(body) <= render.USSD_LIMIT, (where, body)
        assert gsm.is_gsm7(reply.text), (where, reply.text)
    languages = {reply.text for _, reply in replies}
    assert any("Bamanankan" in text for text in languages)


@pytest.mark.parametrize("flow", FLOWS, ids=IDS)
def test_every_sms_fits_the_flows_segments_and_alphabet(flow):
    if "sms" not in flow.channels:
        pytest.skip(f"{flow.id} does not run on SMS")
    replies = explore(flow, "sms")
    assert len(replies) > 100
    for where, reply in replies:
        if not flow.sms.unicode:
            assert gsm.is_gsm7(reply.text), (where, reply.text)
        assert gsm.segments(reply.text) <= flow.sms.max_segments, (where, reply.text)


@pytest.mark.parametrize("flow", FLOWS, ids=IDS)
@pytest.mark.parametrize("channel", ["ussd", "sms"])
def test_every_question_is_reached_in_both_languages(flow, channel):
    if channel not in flow.channels:
        pytest.skip(f"{flow.id} does not run on {channel}")
    shown = "\n".join(reply.text for _, reply in explore(flow, channel))
    for step in flow.steps.values():
        for language in flow.languages:
            first_line = step.text[language].splitlines()[0]
            folded = first_line if channel == "sms" and flow.sms.unicode else \
                gsm.fold_to_gsm7(first_line)
            if step.type_name == "language" or len(folded) > 150:
                folded = folded[:40]
            assert folded in shown, (step.id, language)
