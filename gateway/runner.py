"""Apply one inbound message: the one place where engine, store and queue meet.

For each request: take the session's lock, load its state, run the engine, and then in one
Redis transaction save the new state, remember the reply (a repeated request gets the same
screen) and enqueue the events for the worker. Nothing here touches SQL: answers reach the
database through `gateway.eventlog` (a Redis list drained in batches by a job), idempotently.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from gateway import eventlog, keywords, metrics, phones
from gateway.channels import registry
from gateway.channels.base import (CallEvent, CallReply, InboundSms, OptOutNotice, UssdProvider,
                                   UssdRequest, UssdSessionEnded)
from gateway.engine import events as ev
from gateway.engine import gsm, inputs
from gateway.engine.definition import Flow
from gateway.engine.step_types import TextStep
from gateway.engine.session import (Environment, Trigger, Turn, end, opt_in, opt_out, resume,
                                    show, start)
from gateway.errors import (ChannelRequestError, EngineUsageError, PhoneNumberError,
                            SessionBusyError)
from gateway.services import Services
from gateway.session_store import Outcome, UssdLifetimes, UssdSnapshot, UssdTurns, UssdWrite
from gateway.voice_turn import VoiceTurns

log = logging.getLogger(__name__)

CAS_ATTEMPTS = 8
REPLIES_TTL = 3600  # a USSD session id is remembered this long: a late retry is not a new dial
INBOUND_SEEN_TTL = 3 * 24 * 3600   # longer than any provider keeps retrying a webhook
INBOUND_SEEN_KEY = "kuma:inbound:{provider}:{message_id}"
STAFF_JOB = "gateway.jobs.staff_sms"
NOT_A_PREFIX = "\x00"


@dataclasses.dataclass(frozen=True)
class UssdReply:
    """The screen to return to the USSD aggregator, rendered once by its provider."""

    body: str
    step: str | None = None  # the step now asked, for the webhook's log line


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Runner:
    """Turns inbound USSD requests and SMS into replies and queued events."""

    def __init__(self, services: Services, *, clock: Callable[[], datetime] = _utcnow,
                 ussd: UssdProvider | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.store = services.store
        settings = services.settings
        self.turns = UssdTurns(services.store, events=eventlog.EVENTS, lifetimes=UssdLifetimes(
            state=settings.ussd_session_ttl + settings.ussd_resume_window,
            replies=REPLIES_TTL, dropped=max(settings.ussd_resume_window, 1)))
        self.ussd = ussd or registry.ussd_provider(services.settings)
        self.clock = clock
        self.calls = VoiceTurns(self)

    # --- shared ---------------------------------------------------------------------------

    def environment(self) -> Environment:
        """Return what the engine is given for one call."""
        return Environment(now=self.clock(), messages=self.services.messages,
                           ussd_limit=self.settings.ussd_max_chars,
                           center_lookup=self.services.directory.lookup)

    def identify(self, raw_phone: str) -> tuple[str, str]:
        """Return (E.164, keyed hash) of a provider's phone field; bad numbers are a 400."""
        return _identify(self.services.vault, raw_phone)

    def texts(self, language: str | None) -> dict[str, str]:
        """Return the gateway's messages in `language`, French when it is unknown."""
        return self.services.messages.get(language or "fr") or self.services.messages["fr"]

    def message_for(self, raw_phone: str, key: str) -> str:
        """Return one of the gateway's messages in the phone's remembered language."""
        try:
            _, phone_hash = self.identify(raw_phone)
            language = self.store.contact_prefs(phone_hash).get("language")
        except ChannelRequestError:
            language = None
        return self.texts(language)[key] if language else self.in_both_languages(key)

    def in_both_languages(self, key: str) -> str:
        """Return one of the gateway's messages in French and Bambara, folded to GSM-7.

        For when her language cannot be known (it lives in Redis, which may be down).
        """
        messages = self.services.messages
        both = " / ".join(messages[lang][key] for lang in ("fr", "bm") if lang in messages)
        return gsm.fold_to_gsm7(both)

    def flow_of(self, state: dict[str, Any]) -> Flow:
        """Return the exact flow version a session is pinned to."""
        flow = self.services.flows.version(state["version"])
        if flow is None:
            raise EngineUsageError(f"flow version {state['version']} is no longer known")
        return flow

    def context(self, state: dict[str, Any]) -> dict[str, Any]:
        """Return what the worker needs to file a session's events."""
        return {"key": state["_key"], "channel": state["channel"], "phone_hash": state["_hash"],
                "phone_token": state["_phone"], "flow_id": state["flow"],
                "flow_version": state["version"], "center": state.get("center"),
                "language": state.get("lang"), "started_at": state["_started"],
                "no_session": bool(state.get("_no_session"))}

    def _carry_over(self, turn: Turn, state: dict[str, Any],
                    key_prefix: str) -> tuple[Turn, dict[str, Any], list[str]]:
        """Merge the engine's new state into the runner's; split a restart into two sessions.

        On a restart the events up to `session_started` close the old session (filed under
        its key, returned as a ready record) and the rest open a new one under a new key.
        """
        if not turn.restart:
            return turn, {**state, **turn.state}, []
        split = ev.index_of(turn.events, ev.SESSION_STARTED)
        closing = self.record(state, turn.events[:split])
        fresh = {**state, **turn.state, "_key": f"{key_prefix}:{uuid.uuid4().hex[:8]}",
                 "_started": self.clock().isoformat()}
        return Turn(turn.state, turn.reply, turn.events[split:]), fresh, [closing]

    def new_state(self, engine_state: dict[str, Any], key: str, phone: str,
                  phone_hash: str) -> dict[str, Any]:
        """Add what the runner keeps beside the engine's own state."""
        state = dict(engine_state)
        state.update(_key=key, _hash=phone_hash, _phone=self.services.vault.encrypt(phone),
                     _started=self.clock().isoformat())
        return state

    def record(self, state: dict[str, Any], events: list[dict],
               reply: dict[str, Any] | None = None) -> str:
        """Return the record that files a turn's events (and an SMS reply) for the worker."""
        return eventlog.record(self.context(state), events, reply)

    def remember(self, phone_hash: str, state: dict[str, Any], events: list[dict]) -> None:
        """Keep the contact's language and centre in Redis for her next session."""
        metrics.count_session_events(events)
        language = ev.first_value(events, ev.LANGUAGE_CHOSEN, "language")
        center = ev.first_value(events, ev.CENTER_IDENTIFIED, "center")
        if language or center:
            self.store.set_contact_prefs(phone_hash, language=language, center=center)

    # --- USSD -----------------------------------------------------------------------------

    def handle_ussd(self, request: UssdRequest) -> UssdReply:
        """Answer one USSD request with the next screen."""
        phone, phone_hash = self.identify(request.phone)
        fingerprint = hashlib.sha256(request.text.encode()).hexdigest()[:24]
        recent = self.turns.recent(request.session_id)
        if recent is not None and self.ussd.follows(recent.answered, request.text):
            # This process probably wrote the session's state last: try the turn without
            # reading. A state that answered an earlier screen than the one before this
            # request is surely stale (another process served her since), so skip it.
            reply = self._ussd_turn(request, phone, phone_hash, fingerprint,
                                    UssdSnapshot(None, recent.state, True, None, None, None))
            if reply is not None:
                return reply
        for _ in range(CAS_ATTEMPTS):
            snapshot = self.turns.read(request.session_id, phone_hash, fingerprint)
            if snapshot.reply is not None:
                log.info("ussd session=%s repeated request: same screen", request.session_id)
                return UssdReply(snapshot.reply)
            if snapshot.raw_state is None and snapshot.seen:
                # Seen before, state gone: it ended or expired. Do not start over mid-menu.
                return UssdReply(self.ussd.render(self.texts(snapshot.language)["expired"], True))
            reply = self._ussd_turn(request, phone, phone_hash, fingerprint, snapshot)
            if reply is not None:
                return reply
        raise SessionBusyError(f"USSD session {request.session_id} kept changing under us")

    def _ussd_turn(self, request: UssdRequest, phone: str, phone_hash: str, fingerprint: str,
                   snapshot: Any) -> UssdReply | None:
        """Run one turn and write it; None when another request changed the session first."""
        resumed_from = None
        records: list[str] = []
        if snapshot.raw_state is None:
            turn, state, resumed_from = self._open_ussd(request, phone, phone_hash, snapshot)
        else:
            state = json.loads(snapshot.raw_state)
            typed = self.ussd.new_input(self._previous_text(state, request.text), request.text)
            flow = self.flow_of(state)
            turn = show(flow, state, self.environment()) if typed is None \
                else resume(flow, state, typed, self.environment())
            turn, state, records = self._carry_over(turn, state, f"ussd:{request.session_id}")
        # Her typed text is kept as its length and a keyed digest, never in clear in Redis.
        state["_text"] = [len(request.text), self.services.vault.text_digest(request.text)]
        final = turn.reply.final
        reply = UssdReply(self.ussd.render(turn.reply.text, final),
                          state.get("step") or state.get("status"))
        if turn.events:
            records.append(self.record(state, turn.events))
        committed = self.turns.commit(UssdWrite(
            request.session_id, phone_hash, expected=snapshot.raw_state,
            state=None if final else _dump(_private(state, self.flow_of(state))),
            fingerprint=fingerprint,
            reply=reply.body, answered=request.text, records=tuple(records),
            resumed_from=resumed_from,
            language=ev.first_value(turn.events, ev.LANGUAGE_CHOSEN, "language"),
            center=ev.first_value(turn.events, ev.CENTER_IDENTIFIED, "center"),
            opted_out=ev.has(turn.events, ev.OPTED_OUT)))
        if committed.outcome is Outcome.ANSWERED:  # a repeat of an answered request
            return UssdReply(committed.screen)
        if committed.outcome is Outcome.STALE:
            return None
        if committed.flush_needed:
            eventlog.queue_flush(self.services.queue)
        if resumed_from:
            log.info("ussd session=%s resumes dropped session %s", request.session_id,
                     resumed_from)
        metrics.count_session_events(turn.events)
        return reply

    def _previous_text(self, state: dict[str, Any], text: str) -> str | None:
        """Return the `text` the session's last request sent, if this one starts with it.

        The state keeps it as [length, digest]; a request that does not start with it gets
        a text no request can extend (control characters never pass the door), which the
        provider's `new_input` reads as "not an extension", as it would the text itself.
        """
        kept = state.get("_text")
        if kept is None or isinstance(kept, str):  # a first request; a state from before
            return kept
        length, digest = kept
        prefix = text[:length]
        return prefix if self.services.vault.text_digest(prefix) == digest else NOT_A_PREFIX

    def _open_ussd(self, request: UssdRequest, phone: str, phone_hash: str,
                   snapshot: Any) -> tuple[Turn, dict[str, Any], str | None]:
        if snapshot.dropped and snapshot.dropped != request.session_id:
            old = self.store.load("ussd", snapshot.dropped)
            if old and old.get("status") == "active":
                turn = show(self.flow_of(old), old, self.environment())
                return turn, {**old, **turn.state}, snapshot.dropped
        extension = self.ussd.center_extension(request)
        center = self.services.directory.by_extension(extension) if extension else None
        if extension and center is None:
            center = self.services.directory.by_code(extension)
        if extension and center is None:
            log.warning("ussd session=%s dialled unknown centre extension %r",
                        request.session_id, extension)
        flow = self.services.flows.default()
        turn = start(flow, Trigger("ussd", language=snapshot.language, center=center),
                     self.environment())
        key = f"ussd:{request.session_id}"
        return turn, self.new_state(turn.state, key, phone, phone_hash), None

    def handle_ussd_ended(self, notice: UssdSessionEnded) -> None:
        """File a USSD session that ended without its last screen as abandoned (resumable)."""
        if notice.status == "completed":
            return
        state = self.store.load("ussd", notice.session_id)
        if state is None or state.get("status") != "active":
            return
        # The state stays for the resume window: dialling again brings her back to it, and
        # the session_resumed event then sets the session active again.
        turn = end(self.flow_of(state), state, "abandoned", self.environment())
        eventlog.append(self.services.redis, [self.record(state, turn.events)])
        eventlog.kick(self.services.redis, self.services.queue)

    # --- opt-outs a provider reports -----------------------------------------------------

    def handle_opt_out(self, notice: OptOutNotice) -> None:
        """Opt out the number a provider says wants no more SMS, as a STOP would, unanswered."""
        phone, phone_hash = self.identify(notice.phone)
        turn, state = self._opt_out_without_session(phone, phone_hash)
        with self.services.redis.pipeline(transaction=True) as pipe:
            pipe.multi()
            self.store.set_opted_out(phone_hash, True, pipe=pipe)
            # No reply: the provider already stops our SMS to her.
            eventlog.append(pipe, [self.record(state, turn.events)])
            pipe.execute()
        eventlog.kick(self.services.redis, self.services.queue)
        log.info("opt-out of %s reported by %s", phones.mask(phone), notice.provider)

    # --- voice ----------------------------------------------------------------------------

    def handle_call(self, event: CallEvent) -> CallReply:
        """Answer one callback of a call (gateway.voice_turn does the work)."""
        return self.calls.handle(event)

    # --- SMS ------------------------------------------------------------------------------

    def handle_sms(self, message: InboundSms) -> bool:
        """Run one inbound SMS through its session; False when it was a repeat delivery."""
        phone, phone_hash = self.identify(message.phone)
        seen_key = INBOUND_SEEN_KEY.format(provider=message.provider,
                                           message_id=message.message_id)
        with self.store.lock("sms", phone_hash):
            if self.services.redis.exists(seen_key):
                log.info("sms %s delivered again: ignored", message.message_id)
                return False
            state = self.store.load("sms", phone_hash)
            if state is None and self._is_staff_command(message.text, phone_hash):
                # A staff phone naming a mother to invite: SQL work, so the worker's.
                with self.services.redis.pipeline(transaction=True) as pipe:
                    pipe.multi()
                    pipe.set(seen_key, "1", ex=INBOUND_SEEN_TTL)
                    # Sealed: the text holds the invited mother's number.
                    self.services.queue.enqueue_call(
                        STAFF_JOB, args=(message.provider, message.message_id, phone_hash,
                                         self.services.vault.seal(message.text)),
                        pipeline=pipe, description="staff visit command")
                    pipe.execute()
                return True
            turn, state, closing = self._sms_turn(message, phone, phone_hash, state)
            reply = {"text": turn.reply.text,
                     "dedupe_key": f"reply:{message.provider}:{message.message_id}",
                     "purpose": "notice" if state.get("status") == "opted_out" else "reply"} \
                if turn.reply.text else None
            with self.services.redis.pipeline(transaction=True) as pipe:
                pipe.multi()  # RQ queues into an explicit MULTI when given a pipeline
                pipe.set(seen_key, "1", ex=INBOUND_SEEN_TTL)
                if turn.reply.final:
                    self.store.delete("sms", phone_hash, pipe=pipe)
                else:
                    self.store.save("sms", phone_hash, _private(state, self.flow_of(state)), pipe=pipe,
                                    expire_at=self._sms_expiry(state))
                if state.get("status") == "opted_out":
                    self.store.set_opted_out(phone_hash, True, pipe=pipe)
                elif ev.has(turn.events, ev.OPTED_IN):
                    self.store.set_opted_out(phone_hash, False, pipe=pipe)
                if state.get("_invited"):
                    self.store.forget_invitation(phone_hash, pipe=pipe)  # answered
                if turn.events or reply is not None:
                    closing.append(self.record(state, turn.events, reply))
                eventlog.append(pipe, closing)
                pipe.execute()
            eventlog.kick(self.services.redis, self.services.queue)
        self.remember(phone_hash, state, turn.events)
        log.info("sms session=%s step=%s final=%s", state["_key"], state.get("step"),
                 turn.reply.final)
        return True

    def _is_staff_command(self, text: str, phone_hash: str) -> bool:
        """Tell a registered staff phone's `VISITE 76123456` from a mother's ordinary SMS."""
        return (keywords.names_a_phone(keywords.visit_command(text))
                and self.services.directory.is_staff(phone_hash))

    def _sms_turn(self, message: InboundSms, phone: str, phone_hash: str,
                  state: dict[str, Any] | None) -> tuple[Turn, dict[str, Any], list[str]]:
        """Run the engine on one SMS; also return records that close a restarted session."""
        closing: list[str] = []
        stop = inputs.keyword(message.text) == "stop"
        if state is not None:
            turn = resume(self.flow_of(state), state, message.text, self.environment())
            turn, state, closing = self._carry_over(turn, state, "sms")
        elif stop:
            turn, state = self._opt_out_without_session(phone, phone_hash)
        else:
            turn, state = self._open_sms(message, phone, phone_hash)
        if not stop and self.store.is_opted_out(phone_hash):
            # Writing again is how an opted-out mother opts back in.
            turn = opt_in(turn, self.environment())
        return turn, state, closing

    def _open_sms(self, message: InboundSms, phone: str,
                  phone_hash: str) -> tuple[Turn, dict[str, Any]]:
        prefs = self.store.contact_prefs(phone_hash)
        # Where the centre comes from, in DESIGN's order: the invitation, the keyword and
        # code she wrote, else the flow asks. Not the centre of a visit months ago.
        center = self._center_from_sms(message.text)
        invitation = self.store.invitation(phone_hash)
        flow = self.services.flows.default()
        if invitation:
            center = invitation.get("center") or center
            flow = self.services.flows.live(invitation.get("flow") or "") or flow
        turn = start(flow, Trigger("sms", language=prefs.get("language"), center=center),
                     self.environment())
        key = f"sms:{uuid.uuid4().hex}"
        state = self.new_state(turn.state, key, phone, phone_hash)
        state["_invited"] = bool(invitation)
        return turn, state

    def _opt_out_without_session(self, phone: str, phone_hash: str) -> tuple[Turn, dict]:
        """STOP outside a survey: opt the phone out and confirm it, with no session filed."""
        language = self.store.contact_prefs(phone_hash).get("language")
        turn = opt_out(self.services.flows.default(), Trigger("sms", language=language),
                       self.environment())
        state = self.new_state({**turn.state, "_no_session": True}, f"sms:{uuid.uuid4().hex}",
                               phone, phone_hash)
        return turn, state

    def _center_from_sms(self, text: str) -> str | None:
        """Read `AVIS 07` (a survey keyword and a code) or a centre's own keyword."""
        keyword, code = keywords.survey_code(text)
        if code is not None:
            return self.services.directory.lookup(code)
        return self.services.directory.by_keyword(keyword) if keyword else None

    def _sms_expiry(self, state: dict[str, Any]) -> int:
        flow = self.flow_of(state)
        started = datetime.fromisoformat(state["_started"])
        expiry = started + timedelta(hours=flow.sms.expiry_hours)
        return int(max(expiry, self.clock() + timedelta(minutes=1)).timestamp())


@functools.lru_cache(maxsize=4096)
def _identify(vault: Any, raw_phone: str) -> tuple[str, str]:
    # Cached: each USSD screen of a session carries the same number.
    try:
        phone = phones.normalise(raw_phone)
    except PhoneNumberError as error:
        raise ChannelRequestError(f"phone number: {error}") from None
    return phone, vault.hash(phone)


def _private(state: dict[str, Any], flow: Flow) -> dict[str, Any]:
    """Return `state` with phone numbers masked in its free-text answers, for Redis."""
    answers = state.get("answers")
    # Only text steps hold what she typed; options and numbers are the flow's own values.
    free = [step for step in answers or () if isinstance(flow.steps.get(step), TextStep)]
    if not free:
        return state
    return {**state, "answers": {**answers, **{
        step: phones.mask_numbers_in_text(answers[step]) for step in free
        if isinstance(answers[step], str)}}}


def _dump(state: dict[str, Any]) -> str:
    return json.dumps(state, separators=(",", ":"), ensure_ascii=False)
