"""Whole calls through HTTP, answered on the keypad, drained by a real worker, checked in SQL."""

from __future__ import annotations

import json
import threading

import sqlalchemy as sa
from click.testing import CliRunner

from gateway.cli import main

from gateway.models import Answer, Call as CallRow, Contact, SurveySession
from tests.voice.calls import PHONE, Call
from tests.voice.conftest import PUBLIC_URL, TOKEN

# fr, consent yes, centre 07#, then visit delivery and every question after it
FR_KEYS = ["1", "1", "07#", "2", "2", "1", "1", "1", "1", "1", "2", "1"]
# bm, consent yes, centre 07#, prenatal visit (one question more), other answers
BM_KEYS = ["2", "1", "07#", "1", "1", "2", "1", "2", "1", "1", "1", "1", "2"]


def answers(services) -> dict[str, Answer]:
    with services.sessionmaker() as db:
        return {a.step_id: a for a in db.scalars(sa.select(Answer))}


def test_a_whole_call_in_french_lands_in_the_database(client, services, drain):
    call = Call(client, "ATVId_fr_1")
    heard = call.answer(FR_KEYS)
    assert [h.status for h in heard] == [200] * len(heard)
    assert all(not h.final for h in heard[:-1]) and heard[-1].final
    assert heard[-1].plays == [f"{PUBLIC_URL}/media/maternal_care/fr/thanks.wav"]
    # language first, each in its own voice, then consent, as on USSD
    assert heard[0].plays[0] == f"{PUBLIC_URL}/media/maternal_care/fr/language.wav"
    assert f"{PUBLIC_URL}/media/maternal_care/bm/language.wav" in heard[0].plays
    assert heard[1].plays[0].endswith("/maternal_care/fr/consent.wav")
    # the one French recording not made is read aloud, by a French voice
    respect = next(h for h in heard if h.says)
    assert respect.says == ["Pendant la visite, vous a-t-on crié dessus, insultée ou humiliée ?"]
    call.hang_up()
    drain()
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()
        assert (session.key, session.channel, session.status, session.language) == (
            "voice:ATVId_fr_1", "voice", "completed", "fr")
        contact = db.scalars(sa.select(Contact)).one()
        assert services.vault.decrypt(contact.phone_encrypted) == PHONE
    found = answers(services)
    assert found["visit"].value == "delivery" and found["respect"].value == "no"
    assert found["respect"].score == 100 and found["recommend"].value == "surely"
    assert "comment" not in found  # free text is not asked on a call
    assert {a.session_id for a in found.values()} == {session.id}


def test_a_whole_call_in_bambara_plays_only_bambara_recordings(client, services, drain):
    call = Call(client, "ATVId_bm_1")
    heard = call.answer(BM_KEYS)
    assert heard[-1].final
    after_language = [url for h in heard[1:] for url in h.plays]
    assert after_language and all("/bm/" in url for url in after_language)
    assert not any(h.says for h in heard)
    drain()
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()
        assert (session.language, session.status, session.channel) == ("bm", "completed",
                                                                        "voice")
    assert {"anc_explained", "wait", "recommend"} <= set(answers(services))


def test_a_missing_bambara_recording_is_skipped_never_read_in_a_french_voice(
        client, services, settings):
    (settings.flows_dir / "recordings" / "maternal_care" / "bm" / "consent.wav").unlink()
    call = Call(client, "ATVId_bm_2")
    call.connect()
    heard = call.press("2")
    assert heard.says == []
    assert not any(url.endswith("/bm/consent.wav") for url in heard.plays)
    assert heard.plays[0].endswith("/_gateway/bm/yes.wav")


def test_a_repeated_callback_gets_the_same_reply_and_files_once(client, services, drain):
    call = Call(client, "ATVId_rep")
    call.answer(["1", "1", "07#"])
    first = call.press("2")           # visit: delivery
    again = call.press("2", turn=4)   # AT posts the same callback once more
    assert again.xml == first.xml
    older = call.press("1", turn=2)   # a stale callback of the consent question
    assert older.turn == 3
    call.press("1", turn=first.turn)  # respect: yes, from the question really asked
    drain()
    found = answers(services)
    assert found["visit"].value == "delivery" and found["respect"].value == "yes"
    with services.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Answer)) == 3


def test_concurrent_copies_of_one_callback_advance_the_call_once(client, services, drain):
    call = Call(client, "ATVId_race")
    call.answer(["1", "1", "07#"])
    app = client.application
    bodies: list[str] = []

    def post() -> None:
        copy = Call(app.test_client(), "ATVId_race")
        copy.last = call.last
        bodies.append(copy.press("3").xml)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(bodies)) == 1 and len(bodies) == 6
    drain()
    with services.sessionmaker() as db:
        visits = db.scalars(sa.select(Answer).where(Answer.step_id == "visit")).all()
    assert [a.value for a in visits] == ["postnatal"]


def test_a_dropped_call_resumes_at_the_same_question_on_the_next_call(client, services, drain):
    first = Call(client, "ATVId_drop_1")
    first.answer(["1", "1", "07#", "2"])      # ... visit: delivery; now asked "respect"
    asked = first.last.plays
    first.hang_up(cause="NORMAL_CLEARING", seconds=40)
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(SurveySession.status)).one() == "abandoned"
    second = Call(client, "ATVId_drop_2")
    heard = second.connect()
    assert heard.plays == asked and heard.turn == 1
    for key in ["2", "1", "1", "1", "1", "1", "2", "1"]:
        heard = second.press(key)
    assert heard.final
    drain()
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()
        assert (session.key, session.status) == ("voice:ATVId_drop_1", "completed")
    found = answers(services)
    assert found["visit"].value == "delivery" and found["recommend"].value == "surely"
    with services.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Answer)) == len(found)


def test_silence_repeats_the_question_then_the_call_ends_politely(client, services, drain):
    call = Call(client, "ATVId_quiet")
    asked = call.connect()
    again = call.silence()
    assert again.plays == asked.plays and again.turn == asked.turn + 1
    call.silence()
    last = call.silence()
    assert last.final and last.plays == [f"{PUBLIC_URL}/media/_gateway/fr/goodbye.wav"]
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(SurveySession.status)).one() == "abandoned"


def test_a_wrong_key_says_so_and_star_repeats_the_question(client, services):
    call = Call(client, "ATVId_keys")
    call.connect()
    consent = call.press("1")
    wrong = call.press("7")
    assert wrong.plays == [f"{PUBLIC_URL}/media/_gateway/fr/not_an_answer.wav", *consent.plays]
    star = call.press("*")
    assert star.plays == consent.plays


def test_a_mother_who_calls_is_rejected_for_free_and_called_back(client, services, drain,
                                                                 voice_worker, at_standin):
    inbound = Call(client, "ATVId_in", direction="Inbound")
    refused = inbound.connect()
    assert [e.tag for e in refused.root.iter()] == ["Response", "Reject"]
    assert inbound.connect().xml == refused.xml   # AT retries: still one call back
    inbound.hang_up(cause="CALL_REJECTED", seconds=0)
    drain()
    placed = [r for r in at_standin.requests if r.path == "/voice/call"]
    assert [r.form["to"] for r in placed] == [PHONE]
    with services.sessionmaker() as db:
        row = db.scalars(sa.select(CallRow)).one()
        assert (row.status, row.attempts, row.invitation_id) == ("ringing", 1, None)
    back = Call(client, row.provider_call_id)   # AT connects the call back
    heard = back.connect()
    assert heard.plays[0].endswith("/maternal_care/fr/language.wav")


def test_voice_answers_are_scored_apart_with_channel_voice(client, services, drain, settings,
                                                          monkeypatch):
    Call(client, "ATVId_score").answer(FR_KEYS)
    drain()
    for env, value in (("DATABASE_URL", settings.database_url), ("REDIS_URL", settings.redis_url),
                       ("GATEWAY_SECRET_KEY", settings.secret_key),
                       ("KUMA_VAR_DIR", str(settings.var_dir)),
                       ("FLOWS_DIR", str(settings.flows_dir))):
        monkeypatch.setenv(env, value)

    def overall(channel: str) -> list[dict]:
        result = CliRunner().invoke(main, ["report", "scores", "--channel", channel,
                                           "--min-respondents", "1", "--format", "json"])
        assert result.exit_code == 0, result.output
        return [r for r in json.loads(result.output) if r["dimension"] == "overall"]

    voice, = overall("voice")
    assert (voice["center"], voice["respondents"], voice["suppressed"]) == ("07", 1, False)
    assert overall("ussd") == []


def test_the_printed_voice_callback_url_works_as_printed(client, services):
    result = CliRunner().invoke(main, ["webhooks", "urls"], env={
        "AT_WEBHOOK_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC_URL})
    assert result.exit_code == 0, result.output
    url, = [line.split()[-1] for line in result.output.splitlines()
            if "/webhooks/africastalking/voice" in line]
    assert url == f"{PUBLIC_URL}/webhooks/africastalking/voice?token={TOKEN}"
    response = client.post(url, data=Call(client, "ATVId_url").form())
    assert response.status_code == 200 and "<GetDigits" in response.text
    assert client.post(url.split("?")[0], data=Call(client, "ATVId_x").form()).status_code == 403


def test_a_turn_that_is_no_number_is_a_400(client, services):
    call = Call(client, "ATVId_bad_turn")
    response = client.post("/webhooks/africastalking/voice", data=call.form(dtmfDigits="1"),
                           query_string={"token": TOKEN, "turn": "abc"})
    assert response.status_code == 400 and "turn" in response.text
