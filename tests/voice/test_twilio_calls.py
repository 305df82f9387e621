"""Whole Twilio calls through HTTP, signed, answered on the keypad, filed by a real worker."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from gateway import jobs
from gateway import services as services_module
from gateway.app import create_app
from gateway.calls.outbox import dispatch_after_commit, queue_call
from gateway.db import session_scope
from gateway.models import Answer, Call, Center, Contact, SurveySession
from gateway.settings import Settings
from tests.voice.twilio_calls import (NUMBER, PHONE, PUBLIC_URL, STATUS, TOKEN, VOICE, TwilioCall,
                                      post_signed)

# language fr, consent yes, delivery, then every question (the comment is not asked by call)
FR_KEYS = ["1", "1", "2", "2", "1", "1", "1", "1", "1", "2", "1"]
# language bm, consent yes, prenatal (so anc_explained is asked), then every question
BM_KEYS = ["2", "1", "1", "2", "1", "1", "1", "1", "1", "1", "2", "1"]


@pytest.fixture
def settings(settings: Settings, voice_flows, twilio_standin) -> Settings:
    """Settings with Twilio voice configured against the stand-in and the voice flows."""
    return settings.replace(flows_dir=voice_flows, public_url=PUBLIC_URL,
                            twilio_account_sid=twilio_standin.account_sid,
                            twilio_auth_token=TOKEN, twilio_from=NUMBER,
                            twilio_api_base=twilio_standin.url, voice_provider="twilio",
                            quiet_hours="")


@pytest.fixture
def twilio_worker(monkeypatch: pytest.MonkeyPatch, settings: Settings,
                  worker_environment: None) -> Iterator[None]:
    """Give the worker's own settings the same Twilio voice configuration."""
    for env, value in (("FLOWS_DIR", str(settings.flows_dir)), ("PUBLIC_URL", PUBLIC_URL),
                       ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
                       ("TWILIO_AUTH_TOKEN", TOKEN), ("TWILIO_FROM", NUMBER),
                       ("TWILIO_API_BASE", settings.twilio_api_base),
                       ("VOICE_PROVIDER", "twilio"), ("QUIET_HOURS", ""),
                       # A call back follows the first call within the second: no waiting.
                       ("VOICE_CALLS_PER_SECOND", "1000")):
        monkeypatch.setenv(env, value)
    services_module.for_worker.cache_clear()
    yield


def place_a_call(services, drain, twilio_standin, phone: str = PHONE) -> str:
    """Queue a call to `phone`, let the worker place it with Twilio; return its CallSid."""
    with session_scope(services.sessionmaker) as db:
        contact = Contact(phone_hash=services.vault.hash(phone),
                          phone_encrypted=services.vault.encrypt(phone))
        db.add(contact)
        db.flush()
        center = db.scalars(sa.select(Center).where(Center.code == "07")).one()
        call_id, _ = queue_call(db, contact_id=contact.id, center_id=center.id,
                                flow_id="maternal_care", dedupe_key=f"test:{phone}")
        dispatch_after_commit(db, services.queue, [call_id])
    drain()
    [placed] = [r for r in twilio_standin.requests if r.path.endswith("/Calls.json")]
    assert placed.form["To"] == phone and placed.form["From"] == NUMBER
    assert (placed.form["Url"], placed.form["StatusCallback"]) == (VOICE, STATUS)
    [sid] = twilio_standin.calls
    return sid


def answers(services) -> dict[str, Answer]:
    with services.sessionmaker() as db:
        return {a.step_id: a for a in db.scalars(sa.select(Answer))}


def the_call(services) -> Call:
    with services.sessionmaker() as db:
        return db.scalars(sa.select(Call).order_by(Call.id)).first()


def test_whole_call_in_french_lands_in_the_database(client, services, drain, twilio_standin,
                                                    twilio_worker):
    call = TwilioCall(client, place_a_call(services, drain, twilio_standin))
    heard = call.answer(FR_KEYS)

    assert all(h.status == 200 and h.verbs == ["Gather", "Redirect"] for h in heard[:-1])
    assert heard[1].plays[0].endswith("/media/maternal_care/fr/consent.wav")
    # The French recording left out is read aloud, in French.
    assert ("fr-FR", "Pendant la visite, vous a-t-on crié dessus, insultée ou humiliée ?") \
        in [say for h in heard for say in h.says]
    assert heard[-1].final and heard[-1].verbs == ["Play", "Hangup"]
    assert heard[-1].plays == [f"{PUBLIC_URL}/media/maternal_care/fr/thanks.wav"]
    assert call.ended(seconds=95).status == 200
    drain()

    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()
        assert (session.channel, session.language, session.status) == ("voice", "fr",
                                                                        "completed")
        assert session.center_id is not None and session.key == f"voice:{call.sid}"
    stored = answers(services)
    assert stored["visit"].value == "delivery" and stored["respect"].score == 100
    assert "comment" not in stored  # free text is not asked by call
    placed = the_call(services)
    assert (placed.status, placed.duration_s, placed.provider) == ("completed", 95, "twilio")
    assert placed.provider_call_id == call.sid
    assert placed.cost is None  # Twilio's status callback has no price


def test_whole_call_in_bambara_never_reads_bambara_aloud(client, services, drain,
                                                         twilio_standin, twilio_worker):
    call = TwilioCall(client, place_a_call(services, drain, twilio_standin))
    heard = call.answer(BM_KEYS)

    assert heard[-1].final
    after_the_language = [url for h in heard[1:] for url in h.plays]
    assert after_the_language and all("/bm/" in url for url in after_the_language)
    assert not [say for h in heard[1:] for say in h.says]
    call.ended(seconds=120)
    drain()
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()
        assert (session.language, session.status) == ("bm", "completed")
    stored = answers(services)
    assert stored["visit"].value == "prenatal" and "anc_explained" in stored
    assert the_call(services).duration_s == 120


def test_a_repeated_gather_action_gets_the_same_twiml_and_advances_once(
        client, services, drain, twilio_standin, twilio_worker):
    call = TwilioCall(client, place_a_call(services, drain, twilio_standin))
    call.answer(["1", "1"])                  # French, consent
    asked = call.last
    first = call.press("2")                  # delivery
    call.last = asked
    again = call.press("2")                  # Twilio's retry of the same action
    call.last = asked
    other = call.press("1")                  # the same turn, other keys: still that reply
    assert first.xml == again.xml == other.xml
    assert first.turn == asked.turn + 1
    call.last = first
    for key in FR_KEYS[3:]:
        call.press(key)
    assert call.last.final
    call.ended()
    drain()
    stored = answers(services)
    assert stored["visit"].value == "delivery"
    with services.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count(Answer.id))) == len(stored) == 10


def test_concurrent_copies_of_one_callback_advance_once(client, settings, services, drain,
                                                        twilio_standin, twilio_worker):
    call = TwilioCall(client, place_a_call(services, drain, twilio_standin))
    call.answer(["1", "1"])
    action, form = call.last.action, call.form(Digits="2", FinishedOnKey="")
    app = create_app(settings, services=services)

    def post(_):
        response = post_signed(app.test_client(), action, form)
        return response.status_code, response.text

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(post, range(4)))
    bodies = {text for status, text in results if status == 200}
    assert len(bodies) == 1 and all(status in (200, 503) for status, _ in results)
    drain()
    assert sorted(answers(services)) == ["consent", "visit"]


def test_no_key_within_the_timeout_asks_again_then_ends_politely(
        client, services, drain, twilio_standin, twilio_worker):
    call = TwilioCall(client, place_a_call(services, drain, twilio_standin))
    call.answer(["1", "1"])
    asked = call.last
    again = call.silence()                   # the Redirect: no Digits
    assert again.plays == asked.plays and again.turn == asked.turn + 1
    assert not any("not_an_answer" in url for url in again.plays)
    wrong = call.press("9")
    assert wrong.plays[0].endswith("/_gateway/fr/not_an_answer.wav")
    assert wrong.plays[1:] == asked.plays
    last = call.silence()
    assert last.final and last.plays == [f"{PUBLIC_URL}/media/_gateway/fr/goodbye.wav"]
    call.ended(seconds=60)
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(SurveySession.status)).one() == "abandoned"
    assert "visit" not in answers(services)


def test_a_repeated_status_callback_files_the_outcome_once(client, services, drain,
                                                           twilio_standin, twilio_worker):
    call = TwilioCall(client, place_a_call(services, drain, twilio_standin))
    call.answer(FR_KEYS)
    call.ended(seconds=95)
    call.ended(seconds=95)
    drain()
    call.ended(seconds=300)                  # a late copy, after it was filed
    drain()
    placed = the_call(services)
    assert (placed.status, placed.duration_s, placed.attempts) == ("completed", 95, 1)


def test_an_unanswered_call_is_tried_again(client, services, drain, twilio_standin,
                                           twilio_worker):
    call = TwilioCall(client, place_a_call(services, drain, twilio_standin))
    assert call.ended("no-answer", seconds=0).status == 200
    drain()
    placed = the_call(services)
    assert (placed.status, placed.attempts) == ("queued", 1)
    assert placed.next_attempt_at is not None


def test_a_mothers_call_is_rejected_unanswered_and_called_back(client, services, drain,
                                                               twilio_standin, twilio_worker):
    inbound = TwilioCall(client, "CA" + "d" * 32, direction="inbound")
    heard = inbound.connect()
    assert heard.status == 200 and heard.verbs == ["Reject"]
    assert heard.root.find("Reject").get("reason") == "busy"
    assert inbound.connect().verbs == ["Reject"]       # Twilio's retry: still one call back
    assert inbound.ended("busy", seconds=0).status == 200
    drain()

    placed = [r for r in twilio_standin.requests if r.path.endswith("/Calls.json")]
    assert len(placed) == 1 and placed[0].form["To"] == PHONE
    [sid] = twilio_standin.calls
    back = TwilioCall(client, sid)
    first = back.connect()
    assert first.turn == 1 and not first.final
    assert the_call(services).status == "ringing"


def test_a_call_with_a_withheld_number_is_rejected_free_and_not_called_back(
        client, services, drain, twilio_standin, twilio_worker):
    inbound = TwilioCall(client, "CA" + "e" * 32, direction="inbound", phone="Anonymous")
    heard = inbound.connect()
    assert heard.status == 200 and heard.verbs == ["Reject"]  # not a 4xx she would pay for
    assert inbound.ended("busy", seconds=0).status == 200
    drain()
    assert not [r for r in twilio_standin.requests if r.path.endswith("/Calls.json")]


def test_a_dropped_call_resumes_at_the_same_question(client, services, drain, twilio_standin,
                                                     twilio_worker):
    first = TwilioCall(client, place_a_call(services, drain, twilio_standin))
    first.answer(FR_KEYS[:4])
    asked = first.last
    first.ended("completed", seconds=40)     # she hung up mid-survey
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(SurveySession.status)).one() == "abandoned"

    inbound = TwilioCall(client, "CA" + "e" * 32, direction="inbound")
    assert inbound.connect().verbs == ["Reject"]
    drain()                                  # the call back is placed
    [sid] = [s for s in twilio_standin.calls if s != first.sid]
    again = TwilioCall(client, sid)
    resumed = again.connect()
    assert resumed.plays == asked.plays      # the same question
    for key in FR_KEYS[4:]:
        again.press(key)
    assert again.last.final
    again.ended(seconds=70)
    drain()
    with services.sessionmaker() as db:
        session = db.scalars(sa.select(SurveySession)).one()   # one session, not two
        assert session.status == "completed"
        assert db.scalar(sa.select(sa.func.count(Answer.id))) == 10


def test_the_price_is_read_from_twilio_after_the_end(client, services, drain, twilio_standin,
                                                     twilio_worker):
    call = TwilioCall(client, place_a_call(services, drain, twilio_standin))
    call.answer(FR_KEYS)
    call.ended(seconds=95)
    call.ended(seconds=95)                   # a repeated notice schedules no second look-up
    drain()
    assert the_call(services).cost is None
    scheduled = services.queue.scheduled_job_registry
    assert scheduled.get_job_ids() == [f"call-price-twilio-{call.sid}-1"]

    assert jobs.record_call_price("twilio", call.sid, 1) is None   # Twilio has no price yet
    assert f"call-price-twilio-{call.sid}-2" in scheduled.get_job_ids()
    twilio_standin.finish_call(call.sid, duration=95, price="-0.04500")
    assert jobs.record_call_price("twilio", call.sid, 2) == "0.04500"
    placed = the_call(services)
    assert (placed.cost, placed.currency) == (Decimal("0.0450"), "USD")
    assert jobs.record_call_price("twilio", call.sid, 3) == "0.0450"  # stored once
