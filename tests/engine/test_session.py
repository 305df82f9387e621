"""Sessions, turn by turn, with a fixed clock: what a mother sees and what events come out."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from gateway.engine import gsm, session
from gateway.engine.session import Trigger, max_turns, resume, start
from gateway.errors import EngineUsageError
from tests.engine.support import MESSAGES, NOW, Conversation, demo, env, shipped

FR = MESSAGES["fr"]
AT = NOW.isoformat()


@pytest.fixture
def flow():
    return shipped("maternal_care")


def known(flow, channel="sms", language="fr", center="07"):
    """A session where the language and the centre are known, as after an invitation."""
    return Conversation(flow, channel, language, center)


# ------------------------------------------------------------------ branching


def test_prenatal_visit_asks_whether_the_four_visits_were_explained(flow):
    chat = known(flow)
    chat.send("1", "1", "2", "1")          # consent, prenatal, not humiliated, listened well
    assert chat.text.startswith(gsm.fold_to_gsm7(flow.step("anc_explained").text["fr"]))
    chat.send("1")
    assert chat.text.startswith("Combien de temps avez-vous attendu avant d'etre recue ?\n")
    assert chat.state["pre"] == []


@pytest.mark.parametrize("visit", ["2", "3", "4"])
def test_other_visits_skip_the_prenatal_question(flow, visit):
    chat = known(flow)
    chat.send("1", visit, "2", "1")
    assert chat.state["step"] == "wait"
    assert "anc_explained" not in chat.answers()


def test_no_to_anc_explained_shows_the_advice_above_the_next_question(flow):
    chat = known(flow)
    chat.send("1", "1", "2", "1", "2")
    assert chat.text.startswith("Les 4 consultations prénatales protègent la mère et le bébé : "
                                "venez à chacune.\nCombien de temps avez-vous attendu")
    assert chat.state["pre"] == ["anc_info"]
    chat.send("1")
    assert "Les 4 consultations" not in chat.text


# ------------------------------------------------------------------ tolerance


@pytest.mark.parametrize("typed", [" 1.", "1", "un", "UN", "kelen", "Kelen!",
                                   "Consultation prénatale", "consultation prenatale",
                                   "KƆNƆMAYA LAJƐ", "konomaya laje", "prenatal"])
def test_visit_is_read_the_way_people_type(flow, typed):
    chat = known(flow)
    chat.send("1", typed)
    assert chat.answers()["visit"] == {"value": "prenatal", "score": None}


@pytest.mark.parametrize("typed, value", [
    ("OUI", "yes"), ("oui", "yes"), ("awɔ", "yes"), ("Awɔ", "yes"), ("AWO", "yes"),
    ("awo", "yes"), ("1", "yes"), (" 1.", "yes"), ("kelen", "yes"),
    ("non", "no"), ("NON", "no"), ("ayi", "no"), ("Ayi.", "no"), ("2", "no"), ("deux", "no"),
])
def test_yes_no_in_french_bambara_digits_and_words(flow, typed, value):
    chat = known(flow, language="bm")
    chat.send("1", "2", typed)
    assert chat.answers()["respect"]["value"] == value
    assert chat.answers()["respect"]["score"] == (0 if value == "yes" else 100)


@pytest.mark.parametrize("typed", ["Oui, sûrement", "oui, surement", "OUI, SUREMENT", "1"])
def test_rating_by_label_with_or_without_accents(flow, typed):
    chat = known(flow)
    chat.send("1", "2", "2", "1", "1", "1", "1", "1", "2")
    assert chat.state["step"] == "recommend"
    chat.send(typed)
    assert chat.answers()["recommend"] == {"value": "surely", "score": 100}


# ------------------------------------------------------------------ re-prompts


def test_sms_invalid_answer_is_reprompted_with_how_to_answer(flow):
    chat = known(flow)
    chat.send("1", "7")
    assert chat.text == "Réponse non valide. Répondez 1 à 4."
    assert not chat.last.reply.final
    assert chat.events("answer_given")[-1]["step"] == "consent"
    chat.send("2")
    assert chat.answers()["visit"]["value"] == "delivery"


def test_ussd_invalid_answer_repeats_the_question_under_a_note(flow):
    chat = known(flow, channel="ussd")
    chat.send("1", "9")
    assert chat.text == ("Réponse non valide.\nPour quelle visite etes-vous venue ?\n"
                         "1. Consultation prénatale\n2. Accouchement\n"
                         "3. Suivi après l'accouchement\n4. Soins de l'enfant")


def test_polite_end_after_max_tries(flow):
    chat = known(flow)
    chat.send("1", "x", "y")
    assert not chat.last.reply.final
    chat.send("z")
    assert chat.last.reply == session.Reply(FR["too_many_tries"], True)
    assert chat.state["status"] == "abandoned"
    assert chat.events("session_ended") == [{"type": "session_ended", "at": AT,
                                            "status": "abandoned"}]
    assert flow.max_tries == 3


def test_tries_start_again_at_each_question(flow):
    chat = known(flow)
    chat.send("1", "x", "z", "2", "x", "z", "1")
    assert chat.state["step"] == "listened"


# ------------------------------------------------------------------ keywords


@pytest.mark.parametrize("word", ["STOP", "stop", "ARRET", "Arrêt", "ARRÊT", "DABILA",
                                  "dabila", " Stop. "])
@pytest.mark.parametrize("channel", ["sms", "ussd"])
def test_stop_words_opt_out_at_any_point(flow, word, channel):
    chat = known(flow, channel=channel)
    chat.send("1", "2", word)
    assert chat.last.reply == session.Reply(
        "Vous ne recevrez plus de messages. Écrivez-nous pour recommencer.", True)
    assert [e["type"] for e in chat.last.events] == ["opted_out", "session_ended"]
    assert chat.last.events[1]["status"] == "opted_out"
    assert chat.state["status"] == "opted_out"


def test_stop_in_bambara_gets_the_bambara_confirmation(flow):
    chat = known(flow, language="bm")
    chat.send("DABILA")
    assert chat.text == "Cikan si tèna ci aw ma tugun. Aw ye sèbèn ci an ma ka daminè kokura."


def test_stop_ends_even_the_free_text_question(flow):
    chat = known(flow)
    chat.send("1", "2", "2", "1", "1", "1", "1", "1", "2", "1")
    assert chat.state["step"] == "comment"
    chat.send("stop")
    assert chat.state["status"] == "opted_out"


@pytest.mark.parametrize("word", ["AIDE", "aide", "DEME", "dɛmɛ", "?"])
def test_help_then_the_same_question(flow, word):
    chat = known(flow)
    chat.send("1", word)
    assert chat.text == (f"{gsm.fold_to_gsm7(FR['help'])}\nPour quelle visite etes-vous venue ?\n"
                         "1. Consultation prénatale\n2. Accouchement\n"
                         "3. Suivi après l'accouchement\n4. Soins de l'enfant\nRépondez 1 à 4.")
    assert chat.state["step"] == "visit"
    assert chat.state["tries"] == 0
    chat.send("1")
    assert chat.answers()["visit"]["value"] == "prenatal"


def test_help_on_ussd(flow):
    chat = known(flow, channel="ussd", language="bm")
    chat.send("DEME")
    assert chat.text.startswith("Aw sugandilen nimòrò ci. STOP ka jò, RESTART ka daminè "
                                "kokura.\nCSCom: i hakilina fò")
    assert len(chat.text) + 4 <= 182


@pytest.mark.parametrize("word", ["RECOMMENCER", "recommencer", "KOKURA", "kokura", "RESTART"])
def test_restart_ends_this_session_and_asks_again_from_the_start(flow, word):
    chat = known(flow)
    chat.send("1", "2", word)
    assert chat.last.restart is True
    assert not chat.last.reply.final
    assert chat.last.events[0] == {"type": "session_ended", "at": AT, "status": "abandoned"}
    assert chat.last.events[1]["type"] == "session_started"
    assert chat.text.startswith("CSCom : donnez votre avis")  # the first question again
    assert chat.state["status"] == "active" and chat.state["answers"] == {}
    assert chat.state["lang"] == "fr" and chat.state["center"] == "07"  # still known


# ------------------------------------------------------------------ consent, language, centre


@pytest.mark.parametrize("typed", ["2", "non", "ayi", "NO"])
def test_consent_no_ends_politely_as_declined(flow, typed):
    chat = known(flow)
    chat.send(typed)
    assert chat.last.reply == session.Reply("Merci. Bonne journée.", True)
    assert chat.last.events == [{"type": "session_ended", "at": AT, "status": "declined"}]
    assert chat.answers() == {}


def test_consent_no_in_bambara_on_ussd(flow):
    chat = known(flow, channel="ussd", language="bm")
    chat.send("2")
    assert chat.last.reply == session.Reply("I ni ce. Tile hèrè!", True)


def test_language_is_asked_when_unknown(flow):
    chat = Conversation(flow, "ussd", None, "07")
    assert chat.text == "Choisissez votre langue\nI ka kan sugandi\n1. Francais\n2. Bamanankan"
    chat.send("2")
    assert chat.state["lang"] == "bm"
    assert chat.events("language_chosen") == [{"type": "language_chosen", "at": AT,
                                               "language": "bm"}]
    assert chat.text.startswith("CSCom: i hakilina fò i ka taali kan.")


@pytest.mark.parametrize("typed, language", [("1", "fr"), ("français", "fr"),
                                             ("Bamanankan", "bm"), ("bm", "bm")])
def test_language_by_number_name_or_code(flow, typed, language):
    chat = Conversation(flow, "sms", None, "07")
    chat.send(typed)
    assert chat.state["lang"] == language


def test_language_step_is_skipped_when_known(flow):
    chat = known(flow, language="bm")
    assert chat.state["step"] == "consent"
    assert chat.events("language_chosen") == []


def test_centre_step_is_skipped_when_known(flow):
    chat = known(flow, center="07")
    chat.send("1")
    assert chat.state["step"] == "visit"
    assert chat.events("center_identified") == []


def test_centre_is_asked_and_checked_when_unknown(flow):
    codes = {"07": "07", "BKO12": "BKO12"}
    chat = Conversation(flow, "sms", "fr", None, env(center_lookup=codes.get))
    chat.send("1")
    assert chat.text == "Entrez le numéro de votre CSCom"
    chat.send("99")
    assert chat.text == "Réponse non valide. Entrez le numéro de votre CSCom"
    assert chat.state["center"] is None
    chat.send(" bko 12 ")
    assert chat.state["center"] == "BKO12"
    assert chat.events("center_identified") == [{"type": "center_identified", "at": AT,
                                                 "center": "BKO12"}]
    assert chat.state["step"] == "visit"
    assert "center" not in chat.answers()


def test_centre_lookup_may_return_the_canonical_code(flow):
    chat = Conversation(flow, "ussd", "fr", None, env(center_lookup=lambda code: "CS-" + code))
    chat.send("1", "7")
    assert chat.state["center"] == "CS-7"


# ------------------------------------------------------------------ USSD paging

PAGED = """\
id: paged
title: {fr: Quartiers, bm: Kinw}
languages: [fr, bm]
steps:
  - id: district
    type: choice
    text:
      fr: Dans quel quartier de la commune habitez-vous ?
      bm: I sigilen bɛ kin jumɛn na?
    options:
""" + "".join(f"      - {{value: q{n}, fr: Quartier numéro {n} de la commune, "
              f"bm: Kin {n} min bɛ komini kɔnɔ}}\n" for n in range(1, 13)) + """\
  - id: thanks
    type: end
    text: {fr: Merci, bm: I ni ce}
"""


@pytest.fixture
def paged():
    return demo(PAGED, "paged.yaml")


def test_long_menu_is_paged_with_98_more_and_0_back(paged):
    chat = Conversation(paged, "ussd", "fr")
    first = chat.text
    assert first.splitlines()[0] == "Dans quel quartier de la commune habitez-vous ?"
    assert first.splitlines()[-1] == "98. Suite"
    assert "0. Retour" not in first
    chat.send("98")
    second = chat.text
    assert second.splitlines()[0].startswith(f"{len(first.splitlines()) - 1}. Quartier")
    assert second.splitlines()[-2:] == ["0. Retour", "98. Suite"]
    chat.send("98", "98")
    assert chat.text == "12. Quartier numéro 12 de la commune\n0. Retour"
    chat.send("0", "0", "0")
    assert chat.text == first
    for turn in chat.turns:
        assert len(turn.reply.text) + 4 <= 182
    assert chat.events("answer_given") == []


def test_an_option_of_any_page_can_be_chosen(paged):
    chat = Conversation(paged, "ussd", "bm")
    chat.send("98", "98", "98", "12")
    assert chat.answers() == {"district": {"value": "q12", "score": None}}
    assert chat.last.reply == session.Reply("I ni ce", True)


def test_98_on_the_last_page_and_0_on_the_first_are_invalid(paged):
    chat = Conversation(paged, "ussd", "fr")
    chat.send("0")
    assert chat.state["tries"] == 1
    assert chat.text.startswith("Réponse non valide.\nDans quel quartier")
    chat.send("98", "98", "98")
    assert chat.state["page"] == 3
    chat.send("98")
    assert chat.state["tries"] == 2
    assert chat.state["page"] == 0


def test_sms_lists_every_option_in_one_message(paged):
    chat = Conversation(paged, "sms", "fr")
    assert "12. Quartier numéro 12 de la commune" in chat.text
    assert chat.text.endswith("Répondez 1 à 12.")


# ------------------------------------------------------------------ state, versions, limits


def test_state_of_a_whole_survey_stays_under_1_kb(flow):
    chat = Conversation(flow, "sms", None, None)
    chat.send("2", "1", "BKO12", "1", "2", "1", "2", "4", "3", "3", "2", "1", "3")
    assert chat.state["step"] == "comment"
    sizes = [chat.state_size()]
    chat.send("ɛ" * 200)
    assert chat.state["status"] == "completed"
    assert chat.state["answers"]["comment"] == "ɛ" * 160
    sizes.append(chat.state_size())
    assert max(sizes) < 1024, sizes
    json.loads(json.dumps(chat.state))        # JSON-safe


def test_state_is_not_changed_in_place(flow):
    chat = known(flow)
    before = json.dumps(chat.state, sort_keys=True)
    resume(flow, chat.state, "1", env())
    assert json.dumps(chat.state, sort_keys=True) == before


def test_resume_refuses_a_state_pinned_to_another_version(flow):
    chat = known(flow)
    edited = demo(flow.source.replace("Bonne journée.", "Bonne journée !"), flow.path)
    assert edited.version != flow.version
    with pytest.raises(EngineUsageError, match=f"pinned to maternal_care@{flow.version}"):
        resume(edited, chat.state, "1", env())
    resume(flow, chat.state, "1", env())      # the version it started on still runs it


def test_resume_refuses_an_ended_session(flow):
    chat = known(flow)
    chat.send("2")
    with pytest.raises(EngineUsageError, match="already ended"):
        resume(flow, chat.state, "1", env())


def test_start_refuses_a_channel_the_flow_does_not_run_on():
    only_sms = demo(PAGED.replace("languages: [fr, bm]", "languages: [fr, bm]\nchannels: [sms]"))
    with pytest.raises(EngineUsageError, match="does not run on channel 'ussd'"):
        start(only_sms, Trigger("ussd"), env())


def test_a_session_is_ended_after_max_turns_inputs(flow):
    chat = known(flow)
    for _ in range(max_turns(flow) - 1):
        chat.send("aide")
    assert not chat.last.reply.final
    chat.send("aide")
    assert chat.last.reply == session.Reply(FR["too_many_tries"], True)
    assert chat.state["status"] == "abandoned"


def test_end_from_outside_when_expired(flow):
    chat = known(flow)
    later = env(now=NOW + timedelta(hours=49))
    turn = session.end(flow, chat.state, "expired", later)
    assert turn.reply == session.Reply("Votre session a expiré. Merci de votre temps.", True)
    assert turn.events == [{"type": "session_ended", "at": (NOW + timedelta(hours=49)).isoformat(),
                            "status": "expired"}]


# ------------------------------------------------------------------ events


def test_every_event_has_the_fields_of_the_contract(flow):
    chat = Conversation(flow, "ussd", None, None)
    chat.send("1", "1", "07", "1", "2", "1", "1", "1", "1", "1", "1", "2", "1", "0")
    assert chat.state["status"] == "completed"
    events = chat.events()
    assert events[0] == {"type": "session_started", "at": AT, "flow_id": "maternal_care",
                         "flow_version": flow.version, "channel": "ussd", "language": None,
                         "center": None}
    assert events[1] == {"type": "language_chosen", "at": AT, "language": "fr"}
    assert events[2] == {"type": "answer_given", "at": AT, "step": "consent", "raw": "1",
                         "value": "yes", "score": None, "top_box": None, "dimension": None,
                         "area": None}
    assert events[3] == {"type": "center_identified", "at": AT, "center": "07"}
    assert events[5] == {"type": "answer_given", "at": AT, "step": "respect", "raw": "2",
                         "value": "no", "score": 100, "top_box": True, "dimension": "respect",
                         "area": "patient_experience"}
    assert events[-1] == {"type": "session_ended", "at": AT, "status": "completed"}
    fields = {"session_started": {"flow_id", "flow_version", "channel", "language", "center"},
              "language_chosen": {"language"}, "center_identified": {"center"},
              "answer_given": {"step", "raw", "value", "score", "top_box", "dimension", "area"},
              "session_ended": {"status"}, "opted_out": set()}
    for event in events:
        assert set(event) == {"type", "at"} | fields[event["type"]], event
        json.dumps(event)
    scored = [e for e in events if e["type"] == "answer_given" and e["score"] is not None]
    for event in scored:
        assert 0 <= event["score"] <= 100
        assert isinstance(event["top_box"], bool)
        assert event["area"] == flow.dimensions[event["dimension"]].area
    # the skipped comment is not an answer; the flow's steps are all accounted for
    assert [e["step"] for e in events if e["type"] == "answer_given"] == [
        "consent", "visit", "respect", "listened", "anc_explained", "wait", "privacy", "clean",
        "fees_clear", "extra_payment", "recommend"]


def test_top_box_is_the_best_score_only(flow):
    chat = known(flow)
    chat.send("1", "2", "2", "2")
    event = chat.events("answer_given")[-1]
    assert (event["step"], event["score"], event["top_box"]) == ("listened", 50, False)


def test_raw_input_is_kept_but_cut(flow):
    chat = known(flow)
    chat.send("1", "2", "2", "1", "1", "1", "1", "1", "2", "1", "x" * 900)
    comment = chat.events("answer_given")[-1]
    assert comment["step"] == "comment"
    assert len(comment["raw"]) == session.RAW_LIMIT
    assert comment["value"] == "x" * 160


def test_the_clock_comes_from_the_environment(flow):
    later = NOW + timedelta(days=3, minutes=5)
    turn = start(flow, Trigger("sms", "fr", "07"), env(now=later))
    assert turn.events[0]["at"] == "2024-05-09T09:35:00+00:00"


def test_show_repeats_the_current_question_from_its_first_page(paged):
    chat = Conversation(paged, "ussd", "fr")
    first = chat.text
    chat.send("98")
    turn = session.show(paged, chat.state, env())
    assert turn.reply == session.Reply(first, False)
    assert turn.state["page"] == 0
    assert turn.events == [{"type": "session_resumed", "at": AT}]
    chat.send("2")
    with pytest.raises(EngineUsageError, match="only a live session"):
        session.show(paged, chat.state, env())
