"""A flow on a keypad: what a mother hears on a call, turn by turn, and which keys it takes."""

from __future__ import annotations

import pytest

from gateway.engine import session, voice
from gateway.errors import EngineUsageError, FlowLoadError
from tests.engine.support import FLOWS_DIR, MESSAGES, NOW, demo, env

SOURCE = (FLOWS_DIR / "maternal_care.yaml").read_text(encoding="utf-8")
VOICE_SOURCE = SOURCE.replace("channels: [ussd, sms]", "channels: [ussd, sms, voice]")
FLOW = demo(VOICE_SOURCE, "flows/maternal_care.yaml")


class Call:
    """A call driven key by key, keeping every turn."""

    def __init__(self, flow=FLOW, language=None, center="07"):
        self.flow = flow
        self.turns = [voice.start(flow, session.Trigger("voice", language, center), env())]

    def press(self, *keys: str) -> voice.VoiceTurn:
        for key in keys:
            self.turns.append(voice.resume(self.flow, self.turns[-1].state, key, env()))
        return self.turns[-1]

    @property
    def heard(self) -> list[str]:
        return [segment.file for segment in self.turns[-1].prompt.segments]

    @property
    def texts(self) -> list[str]:
        return [segment.text for segment in self.turns[-1].prompt.segments]

    def events(self, kind: str) -> list[dict]:
        return [e for turn in self.turns for e in turn.events if e["type"] == kind]

    def answers(self) -> dict[str, str]:
        return {e["step"]: e["value"] for e in self.events("answer_given")}


MENU_FR = ["maternal_care/fr/visit.wav",
           "maternal_care/fr/visit.prenatal.wav", "_gateway/fr/press_1.wav",
           "maternal_care/fr/visit.delivery.wav", "_gateway/fr/press_2.wav",
           "maternal_care/fr/visit.postnatal.wav", "_gateway/fr/press_3.wav",
           "maternal_care/fr/visit.child.wav", "_gateway/fr/press_4.wav"]


def test_a_whole_call_in_french_stores_the_answers_ussd_would():
    call = Call(language="fr")
    assert call.heard == ["maternal_care/fr/consent.wav", "_gateway/fr/yes.wav",
                          "_gateway/fr/press_1.wav", "_gateway/fr/no.wav",
                          "_gateway/fr/press_2.wav"]
    assert call.texts[1:3] == ["Oui", "Appuyez sur 1."]
    assert call.turns[0].prompt.keys == voice.KeySpec(1, None, 10)
    keys = ["1", "1", "2", "1", "1", "1", "1", "1", "1", "2", "1"]
    call.press(*keys)
    assert call.turns[-1].prompt.final
    assert call.heard == ["maternal_care/fr/thanks.wav"]
    assert call.texts == ["Merci ! Vos réponses aident le centre à mieux soigner les mères."]
    ussd = session.start(FLOW, session.Trigger("ussd", "fr", "07"), env())
    stored = []
    for key in keys:
        ussd = session.resume(FLOW, ussd.state, key, env())
        stored += [e for e in ussd.events if e["type"] == "answer_given"]
    assert call.answers() == {e["step"]: e["value"] for e in stored}
    assert call.events("session_started")[0]["channel"] == "voice"
    assert call.events("session_ended") == [{"type": "session_ended", "at": NOW.isoformat(),
                                             "status": "completed"}]


def test_a_whole_call_in_bambara_starts_with_each_language_in_its_own_voice():
    call = Call()
    assert call.heard == ["maternal_care/fr/language.wav", "_gateway/fr/language_name.wav",
                          "_gateway/fr/press_1.wav",
                          "maternal_care/bm/language.wav", "_gateway/bm/language_name.wav",
                          "_gateway/bm/press_2.wav"]
    assert call.texts[3:] == ["I ka kan sugandi", "Bamanankan", "2 digi."]
    call.press("2")
    assert call.events("language_chosen")[0]["language"] == "bm"
    assert call.heard[0] == "maternal_care/bm/consent.wav"
    call.press("1", "2", "2", "1", "4", "2", "1", "2", "1", "1")
    assert call.turns[-1].prompt.final
    assert call.texts == ["I ni ce! I ka jaabiw bɛ dɔgɔtɔrɔso dɛmɛ ka musow furakɛ ka ɲɛ."]
    assert call.answers() == {"consent": "yes", "visit": "delivery", "respect": "no",
                              "listened": "well", "wait": "over_2_h", "privacy": "partly",
                              "clean": "clean", "fees_clear": "no", "extra_payment": "yes",
                              "recommend": "surely"}


def test_star_repeats_the_question_without_counting_a_try():
    call = Call(language="fr")
    call.press("1")
    first = call.turns[-1]
    again = call.press("*")
    assert call.heard == MENU_FR
    assert again.events == [] and again.state["tries"] == first.state["tries"] == 0
    call.press("*", "*", "2")
    assert call.answers()["visit"] == "delivery"


def test_no_key_repeats_the_question_and_after_max_tries_the_call_ends_politely():
    call = Call(language="fr")
    call.press("1", "")
    assert call.heard == MENU_FR  # no "not an answer": she pressed nothing
    call.press("")
    assert call.heard == MENU_FR and not call.turns[-1].prompt.final
    call.press("")
    assert call.turns[-1].prompt.final
    assert call.heard == ["_gateway/fr/goodbye.wav"]
    assert call.texts == ["Nous n'avons pas reçu votre réponse. Merci, au revoir."]
    assert call.events("session_ended")[-1]["status"] == "abandoned"


def test_a_wrong_key_says_so_and_plays_the_question_again():
    call = Call(language="bm")
    call.press("1", "7")
    assert call.heard[0] == "_gateway/bm/not_an_answer.wav"
    assert call.texts[0] == "O butɔni tɛ jaabi ye."
    assert call.heard[1:] == [f.replace("/fr/", "/bm/") for f in MENU_FR]
    call.press("3")
    assert call.answers()["visit"] == "postnatal"


def test_the_info_text_is_played_before_the_next_question_not_again_after_a_wrong_key():
    call = Call(language="fr")
    call.press("1", "1", "2", "1", "2")  # prenatal, then "no" to anc_explained
    assert call.heard[:2] == ["maternal_care/fr/anc_info.wav", "maternal_care/fr/wait.wav"]
    call.press("9")
    assert call.heard[:2] == ["_gateway/fr/not_an_answer.wav", "maternal_care/fr/wait.wav"]


def test_a_centre_code_is_typed_as_digits_ended_by_hash():
    call = Call(language="fr", center=None)
    call.press("1")
    assert call.heard == ["maternal_care/fr/center.wav", "_gateway/fr/number_hint.wav"]
    assert call.texts[1] == "Tapez le nombre, puis la touche dièse."
    assert call.turns[-1].prompt.keys == voice.KeySpec(None, "#", 10)
    call.press("07#")
    assert call.events("center_identified")[0]["center"] == "07"
    assert call.heard == MENU_FR


NUMBER_FLOW = """\
id: visits
title: {fr: Visites, bm: Taali}
languages: [fr, bm]
channels: [voice]
voice: {languages: [fr], timeout: 15}
steps:
  - id: anc_visits
    type: number
    min: 0
    max: 12
    text: {fr: "Combien de consultations ?", bm: "Siɲɛ joli?"}
  - id: comment
    type: text
    text: {fr: "Un commentaire ?", bm: "Mun fɔ?"}
"""


def test_a_number_takes_digits_ended_by_hash_and_free_text_is_skipped():
    flow = demo(NUMBER_FLOW)
    call = Call(flow, language="bm", center=None)  # a call offered in French only
    assert call.heard == ["visits/fr/anc_visits.wav", "_gateway/fr/number_hint.wav"]
    assert call.turns[-1].prompt.keys == voice.KeySpec(None, "#", 15)
    call.press("*#")
    assert call.heard[0] == "visits/fr/anc_visits.wav"  # star, ended by hash, repeats
    call.press("13#")
    assert call.heard[0] == "_gateway/fr/not_an_answer.wav"
    call.press("4#")
    assert call.answers() == {"anc_visits": "4"}
    assert call.turns[-1].prompt.final  # the comment is never asked on a call
    assert call.heard == ["_gateway/fr/thanks.wav"] and call.texts == ["Merci."]
    assert "comment" not in [s.file for s in voice.script(flow, "fr", MESSAGES)]


def test_consent_declined_ends_the_call_with_the_declined_words():
    call = Call(language="bm")
    call.press("2")
    assert call.turns[-1].prompt.final
    assert call.heard == ["maternal_care/bm/consent.declined.wav"]
    assert call.texts == ["I ni ce. Tile hɛrɛ!"]
    assert call.events("session_ended")[0]["status"] == "declined"


def test_a_dropped_call_called_back_hears_the_same_question():
    call = Call(language="fr")
    call.press("1", "2")
    turn = voice.show(FLOW, call.turns[-1].state, env())
    assert [s.file for s in turn.prompt.segments][0] == "maternal_care/fr/respect.wav"
    assert [e["type"] for e in turn.events] == ["session_resumed"]


def test_a_flow_not_offered_on_voice_cannot_be_called():
    with pytest.raises(EngineUsageError, match="does not run on channel 'voice'"):
        voice.start(demo(SOURCE), session.Trigger("voice", "fr"), env())


def test_every_segment_a_call_plays_is_in_the_script():
    script = {s.file for lang in ("fr", "bm") for s in voice.script(FLOW, lang, MESSAGES)}
    for keys in (["2", "1", "1", "1", "1", "2"], ["1", "9", "", ""], ["1", "2"]):
        call = Call(language=None, center=None)
        call.press(*keys)
        heard = {s.file for turn in call.turns for s in turn.prompt.segments}
        assert heard <= script


@pytest.mark.parametrize("voice_yaml, message", [
    ("voice: {timeout: 2}", "'timeout' is 2: it must be between 3 and 30"),
    ("voice: {read_aloud: [fr, bm]}", "'read_aloud' cannot hold 'bm'"),
    ("voice: {languages: [en]}", "'voice.languages' must list some of the flow's languages"),
    ("voice: {speed: 2}", "unknown field 'speed' in 'voice'"),
    ("voice: fast", "'voice' must be a mapping"),
])
def test_voice_settings_mistakes_are_named_at_their_line(voice_yaml, message):
    source = VOICE_SOURCE.replace("max_tries: 3", f"max_tries: 3\n{voice_yaml}")
    with pytest.raises(FlowLoadError) as raised:
        demo(source, "flows/maternal_care.yaml")
    [error] = raised.value.errors
    assert str(error).startswith("flows/maternal_care.yaml:11: ") and message in str(error)


def test_voice_settings_without_the_voice_channel_are_a_mistake():
    source = SOURCE.replace("max_tries: 3", "max_tries: 3\nvoice: {timeout: 5}")
    with pytest.raises(FlowLoadError, match=r":11: 'voice' is set but 'voice' is not in"):
        demo(source, "flows/maternal_care.yaml")


def test_a_flow_without_channels_is_not_offered_on_voice():
    flow = demo(NUMBER_FLOW.replace("channels: [voice]\nvoice: {languages: [fr], timeout: 15}\n",
                                    ""))
    assert flow.channels == ("ussd", "sms")
