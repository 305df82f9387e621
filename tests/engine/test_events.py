"""The event contract: every kind has an example that fits it, and sessions emit only those."""

from __future__ import annotations

import pytest

from gateway.engine import events, gsm
from gateway.engine.session import Trigger, end, opt_in, opt_out, show
from tests.engine.support import MESSAGES, Conversation, env, shipped

KINDS = sorted(events.KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_the_docstring_example_fits_its_kind(kind):
    example = events.example(kind)
    assert example["type"] == kind
    assert events.problems(example) == []


@pytest.mark.parametrize(("event", "problem"), [
    ({"type": "session_ended", "at": "t"}, "SessionEnded: missing field 'status'"),
    ({"type": "opted_out", "at": "t", "phone": "+223"}, "OptedOut: unknown field 'phone'"),
    ({"type": "language_chosen", "at": "t", "language": None},
     "LanguageChosen: field 'language' is None"),
    ({"type": "answer_given", "at": "t", "step": "s", "raw": "1", "value": "a", "score": "5",
      "top_box": None, "dimension": None, "area": None}, "AnswerGiven: field 'score' is '5'"),
    ({"type": "answered", "at": "t"}, "unknown event type 'answered'"),
])
def test_the_checker_names_what_departs_from_the_contract(event, problem):
    assert problem in events.problems(event)


def test_no_event_of_an_unknown_kind_can_be_made():
    with pytest.raises(ValueError, match="no event kind 'answered'"):
        events.make("answered", "2025-03-04T10:00:00+00:00")


def emitted(*conversations: Conversation) -> list[dict]:
    return [event for chat in conversations for event in chat.events()]


def finish(chat: Conversation, *inputs: str) -> Conversation:
    """Send `inputs`, then answer 1 until the session ends."""
    chat.send(*inputs)
    for _ in range(60):
        if chat.last.reply.final:
            return chat
        chat.send("1")
    raise AssertionError("the session did not end")


def test_every_event_a_session_emits_fits_its_kind():
    flow = shipped("maternal_care")
    completed = finish(Conversation(flow, "ussd"), "1", "1", "07")
    stopped = Conversation(flow, "sms", language="fr")
    stopped.send("1", "STOP")
    restarted = Conversation(flow, "sms", language="bm")
    restarted.send("1", "0", "1")
    found = emitted(completed, stopped, restarted)
    live = Conversation(flow, "ussd", language="fr")
    live.send("1")
    found += show(flow, live.state, env()).events + end(flow, live.state, "expired", env()).events
    found += opt_out(flow, Trigger("sms", language="bm"), env()).events
    found += opt_in(live.last, env()).events
    assert {event["type"] for event in found} == set(KINDS)
    assert [problem for event in found for problem in events.problems(event)] == []


def test_stop_outside_a_session_is_an_opt_out_confirmed_in_her_language():
    turn = opt_out(shipped("maternal_care"), Trigger("sms", language="bm"), env())
    assert turn.events == [{"type": "opted_out", "at": env().now.isoformat()}]
    assert turn.reply.final and turn.reply.text == gsm.prepare_sms(MESSAGES["bm"]["opted_out"])
    assert (turn.state["status"], turn.state["step"], turn.state["lang"]) == \
        ("opted_out", None, "bm")


def test_writing_again_after_an_opt_out_opens_with_an_opt_in():
    chat = Conversation(shipped("maternal_care"), "sms", language="fr")
    turn = opt_in(chat.last, env())
    assert [event["type"] for event in turn.events] == ["opted_in", "session_started"]
    assert turn.reply == chat.last.reply and turn.state == chat.last.state
