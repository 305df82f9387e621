"""Whatever she types, the engine answers within the channel's limits and the session ends."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.engine import gsm, render
from gateway.engine.session import Trigger, max_turns, resume, start
from tests.engine.support import demo, env, shipped

# A flow with every step type and a menu long enough to be paged on USSD.
EVERY_TYPE = """\
id: every_type
title: {fr: Tous les types, bm: Sugu bɛɛ}
languages: [fr, bm]
sms: {max_segments: 3}
dimensions:
  - {id: respect, area: patient_experience, label: {fr: Respect, bm: Bonya}}
  - {id: fees, area: revenue_cost_recovery, label: {fr: Frais, bm: Sara}}
steps:
  - id: language
    type: language
    always_ask: true
    text: {fr: Choisissez votre langue, bm: I ka kan sugandi}
  - id: consent
    type: consent
    text: {fr: "Acceptez-vous de répondre ?", bm: "I sɔnna wa?"}
    declined: {fr: Merci., bm: I ni ce.}
  - id: center
    type: center_code
    text: {fr: Code du centre, bm: Dɔgɔtɔrɔso nimɔrɔ}
  - id: district
    type: choice
    text: {fr: "Dans quel quartier de la commune habitez-vous ?", bm: "I sigilen bɛ kin jumɛn na?"}
    options:
""" + "".join(f"      - {{value: q{n}, fr: Quartier numéro {n} de la commune, "
              f"bm: Kin {n} min bɛ komini kɔnɔ}}\n" for n in range(1, 11)) + """\
  - id: respect
    type: rating
    dimension: respect
    text: {fr: "Respectée ?", bm: "Bonya?"}
    options:
      - {value: always, score: 100, fr: Toujours, bm: Tuma bɛɛ}
      - {value: never, score: 0, fr: Jamais, bm: Abada}
    next:
      - if: {respect: never}
        goto: why
      - goto: visits
  - id: why
    type: text
    text: {fr: Racontez-nous., bm: A fɔ an ye.}
  - id: visits
    type: number
    min: 0
    max: 12
    text: {fr: "Combien de visites ?", bm: "Siɲɛ joli?"}
  - id: advice
    type: info
    text: {fr: Venez aux 4 consultations., bm: Na lajɛ 4 bɛɛ la.}
  - id: fees
    type: yes_no
    dimension: fees
    score: {yes: 0, no: 100}
    text: {fr: "Avez-vous payé en plus ?", bm: "I ye wari wɛrɛ sara wa?"}
  - id: thanks
    type: end
    text: {fr: Merci !, bm: I ni ce!}
"""

FLOWS = {"maternal_care": shipped("maternal_care"), "every_type": demo(EVERY_TYPE)}
UNICODE_FLOW = demo(shipped("maternal_care").source.replace(
    "  max_segments: 2", "  max_segments: 6\n  unicode: true"), "unicode.yaml")

WORDS = ["1", "2", "3", "4", "10", "12", "0", "98", "99", "-1", " 1.", "un", "kelen", "OUI",
         "awɔ", "AWO", "non", "ayi", "STOP", "ARRÊT", "dabila", "AIDE", "deme", "?",
         "RECOMMENCER", "kokura", "07", "BKO12", "fr", "bm", "", " ", "\n", "😀", "ɛɔɲŋ",
         "%s", "%(low)s", "\x00", "١٢"]
typed = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.builds(lambda piece, times: piece * times, st.sampled_from(["x", "😀", "1", "ɛ "]),
              st.integers(500, 20_000)),
)
sessions = st.fixed_dictionaries({
    "flow": st.sampled_from(sorted(FLOWS)),
    "channel": st.sampled_from(["ussd", "sms"]),
    "language": st.sampled_from([None, "fr", "bm"]),
    "center": st.sampled_from([None, "07"]),
    "inputs": st.lists(typed, min_size=1, max_size=25),
})
PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def assert_fits(reply, channel, flow):
    if channel == "ussd":
        assert len(reply.text) + render.USSD_PREFIX <= render.USSD_LIMIT, reply.text
        assert gsm.is_gsm7(reply.text), reply.text
    elif not flow.sms.unicode:
        assert gsm.is_gsm7(reply.text), reply.text
        assert gsm.segments(reply.text) <= flow.sms.max_segments, reply.text


def run_to_the_end(flow, channel, language, center, inputs):
    """Send the inputs, over and over, until the session ends; return how many it took."""
    turn = start(flow, Trigger(channel, language, center), env())
    assert_fits(turn.reply, channel, flow)
    sent = 0
    while not turn.reply.final:
        turn = resume(flow, turn.state, inputs[sent % len(inputs)], env())
        sent += 1
        assert_fits(turn.reply, channel, flow)
        json.dumps(turn.state)
        assert sent <= max_turns(flow)
    assert turn.state["status"] != "active"
    assert turn.events[-1]["type"] == "session_ended"
    return sent


@PROPERTY
@given(sessions)
def test_any_input_gets_a_reply_that_fits_and_the_session_ends(case):
    flow = FLOWS[case["flow"]]
    sent = run_to_the_end(flow, case["channel"], case["language"], case["center"],
                          case["inputs"])
    assert 1 <= sent <= max_turns(flow)


@settings(max_examples=60, deadline=None)
@given(st.lists(typed, min_size=1, max_size=15), st.sampled_from([None, "fr", "bm"]))
def test_a_flow_that_keeps_unicode_still_fits_ussd(inputs, language):
    run_to_the_end(UNICODE_FLOW, "ussd", language, "07", inputs)
    run_to_the_end(UNICODE_FLOW, "sms", language, "07", inputs)


def test_an_endless_stream_of_help_is_ended():
    flow = FLOWS["every_type"]
    assert run_to_the_end(flow, "ussd", "fr", "07", ["aide"]) == max_turns(flow)
