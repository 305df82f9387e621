"""One callback of a call: the voice turn, where a call meets the engine, the store and events.

A call's session lives in the store under the mother's phone hash (`session:voice:<hash>`),
not the provider's call id, so that the next call within VOICE_RESUME_WINDOW (a call back,
a retry) finds a dropped session and plays the same question again. Each turn holds the
phone's lock. The reply to each callback is kept (`replies:voice:<hash>`, field
`<call id>:<turn>`): the action URL carries the turn number (`?turn=N`), and a callback whose
turn is not the session's current one gets the reply that turn got, never a second advance.
Events go to the events list in the same Redis transaction as the state, as for SMS.

A mother who calls in is rejected before the call is answered (free for her) and called
back by a queued call (`gateway.jobs.call_back`); the end-of-call notice is filed by
`gateway.jobs.record_call_end` (outcome, duration, cost).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway import eventlog, recordings
from gateway.channels.base import HANGUP, CallEvent, CallReply, VoiceSegment
from gateway.engine import voice
from gateway.engine.definition import Flow
from gateway.engine.session import Trigger, end
from gateway.errors import EngineUsageError

if TYPE_CHECKING:  # the runner builds this room's object and hands itself in
    from gateway.runner import Runner

log = logging.getLogger(__name__)

CHANNEL = "voice"
CALL_BACK_JOB = "gateway.jobs.call_back"
CALL_ENDED_JOB = "gateway.jobs.record_call_end"
REPLIES_TTL = 3 * 3600   # a provider's late retry of a callback still gets its reply
CALL_TTL = 2 * 3600      # no call lasts longer: a live state outlives its call this long
CALLED_BACK_TTL = 24 * 3600
CONNECT = "connect"      # the replies field of a call's first callback (no turn yet)


class VoiceTurns:
    """Answers a call's callbacks: start, resume, replay, reject, and the end of the call."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.services = runner.services
        self.store = runner.store
        self.settings = runner.settings

    def handle(self, event: CallEvent) -> CallReply:
        """Answer one callback of a call with what she hears next."""
        if not event.phone:  # caller ID withheld: refuse before answering (free), no call back
            log.info("voice call=%s with no caller ID: rejected", event.call_id)
            return CallReply((), None, None, reject=True) if event.active else HANGUP
        phone, phone_hash = self.runner.identify(event.phone)
        if not event.active:
            self._ended(event, phone_hash)
            return HANGUP
        if event.direction == "inbound" and event.turn is None:
            return self._reject(event, phone, phone_hash)
        with self.store.lock(CHANNEL, phone_hash):
            state = self.store.load(CHANNEL, phone_hash)
            if state is not None and state.get("_call") == event.call_id:
                replay = self._replay(phone_hash, event, state)
                if replay is not None:
                    return replay
                return self._advance(event, phone_hash, state)
            if event.turn is not None:
                # A turn of a call the session no longer follows (ended, or taken over).
                return self._stored(phone_hash, event.call_id, str(event.turn)) or HANGUP
            return self._open(event, phone, phone_hash, state)

    # --- the turns ------------------------------------------------------------------------

    def _replay(self, phone_hash: str, event: CallEvent,
                state: dict[str, Any]) -> CallReply | None:
        """Return the reply a repeated callback got; None when this callback is the next turn."""
        if event.turn is None:  # the connect callback again
            return self._stored(phone_hash, event.call_id, CONNECT) or _load(state["_reply"])
        if event.turn == state["_turn"]:
            return None
        log.info("voice call=%s turn %s repeated (now %s): same reply", event.call_id,
                 event.turn, state["_turn"])
        return self._stored(phone_hash, event.call_id, str(event.turn)) or _load(state["_reply"])

    def _advance(self, event: CallEvent, phone_hash: str, state: dict[str, Any]) -> CallReply:
        flow = self.runner.flow_of(state)
        turn = voice.resume(flow, state, event.keys or "", self.runner.environment())
        state = {**state, **turn.state}
        return self._commit(event, phone_hash, flow, state, turn, str(event.turn))

    def _open(self, event: CallEvent, phone: str, phone_hash: str,
              state: dict[str, Any] | None) -> CallReply:
        """Resume her dropped session at the same question, or start one."""
        env = self.runner.environment()
        if state is not None and state.get("status") == "active" and state.get("step"):
            flow = self.runner.flow_of(state)
            turn = voice.show(flow, state, env)
            log.info("voice call=%s resumes session %s", event.call_id, state["_key"])
            state = {**state, **turn.state}
        else:
            flow = self._flow(phone_hash)
            if flow is None:
                log.error("voice call=%s: no live flow is offered on voice", event.call_id)
                return HANGUP
            prefs = self.store.contact_prefs(phone_hash)
            invitation = self.store.invitation(phone_hash) or {}
            trigger = Trigger(CHANNEL, language=prefs.get("language"),
                              center=invitation.get("center") or prefs.get("center"))
            turn = voice.start(flow, trigger, env)
            state = self.runner.new_state(turn.state, f"voice:{event.call_id}", phone,
                                          phone_hash)
            state["_invited"] = bool(invitation)
        state["_call"], state["_turn"] = event.call_id, 0
        return self._commit(event, phone_hash, flow, state, turn, CONNECT)

    def _commit(self, event: CallEvent, phone_hash: str, flow: Flow, state: dict[str, Any],
                turn: voice.VoiceTurn, answered: str) -> CallReply:
        """Save the state, the reply to this callback and the turn's events, in one transaction."""
        final = turn.prompt.final
        number = state["_turn"] + 1
        reply = CallReply(self.segments(flow, turn.prompt.segments),
                          None if final else turn.prompt.keys,
                          None if final else self.action_url(event.provider, number))
        state.update(_turn=number, _reply=_dump(reply))
        replies = self.store.key("replies", channel=CHANNEL, id=phone_hash)
        with self.services.redis.pipeline(transaction=True) as pipe:
            pipe.multi()
            if final:
                pipe.delete(self.store.key("session", channel=CHANNEL, id=phone_hash))
            else:
                self.store.save(CHANNEL, phone_hash, state, pipe=pipe,
                                ttl=CALL_TTL + self.settings.voice_resume_window)
            pipe.hset(replies, f"{event.call_id}:{answered}", state["_reply"])
            pipe.expire(replies, REPLIES_TTL)
            if state.get("_invited") and turn.events:
                self.store.forget_invitation(phone_hash, pipe=pipe)  # she is answering it
            if turn.events:
                eventlog.append(pipe, [self.runner.record(state, turn.events)])
            pipe.execute()
        eventlog.kick(self.services.redis, self.services.queue)
        self.runner.remember(phone_hash, state, turn.events)
        log.info("voice call=%s session=%s turn=%s step=%s final=%s", event.call_id,
                 state["_key"], number, state.get("step"), final)
        return reply

    def _stored(self, phone_hash: str, call_id: str, field: str) -> CallReply | None:
        raw = self.services.redis.hget(self.store.key("replies", channel=CHANNEL, id=phone_hash),
                                       f"{call_id}:{field}")
        return _load(raw) if raw else None

    # --- calls in, calls over -------------------------------------------------------------

    def _reject(self, event: CallEvent, phone: str, phone_hash: str) -> CallReply:
        """Refuse her call before it is answered (no charge to her) and queue the call back."""
        seen = self.store.key("call", provider=event.provider, id=event.call_id)
        if self.services.redis.set(seen, "1", nx=True, ex=CALLED_BACK_TTL):
            # Her number travels encrypted: RQ keeps a job's arguments in Redis.
            self.services.queue.enqueue_call(
                CALL_BACK_JOB, args=(event.provider, event.call_id,
                                     self.services.vault.encrypt(phone), phone_hash),
                description="call back a mother who called")
            log.info("voice call=%s from a mother: rejected, call back queued", event.call_id)
        return CallReply((), None, None, reject=True)

    def _ended(self, event: CallEvent, phone_hash: str) -> None:
        """File the call's outcome; a call that ended mid-survey leaves it resumable."""
        self.services.queue.enqueue_call(
            CALL_ENDED_JOB, args=(event.provider, event.call_id, str(event.outcome),
                                  event.duration_s, str(event.cost) if event.cost is not None
                                  else None, event.currency),
            description="record the end of a call")
        with self.store.lock(CHANNEL, phone_hash):
            state = self.store.load(CHANNEL, phone_hash)
            if state is None or state.get("_call") != event.call_id:
                return
            if state.get("status") != "active":
                self.store.delete(CHANNEL, phone_hash)
                return
            # Kept for the resume window: the next call plays the same question, and the
            # session_resumed event then sets the session active again.
            turn = end(self.runner.flow_of(state), state, "abandoned", self.runner.environment())
            kept = {**state, "_call": None}
            with self.services.redis.pipeline(transaction=True) as pipe:
                pipe.multi()
                if self.settings.voice_resume_window:
                    self.store.save(CHANNEL, phone_hash, kept, pipe=pipe,
                                    ttl=self.settings.voice_resume_window)
                else:
                    pipe.delete(self.store.key("session", channel=CHANNEL, id=phone_hash))
                eventlog.append(pipe, [self.runner.record(state, turn.events)])
                pipe.execute()
            eventlog.kick(self.services.redis, self.services.queue)
            log.info("voice call=%s dropped at step %s: resumable", event.call_id,
                     state.get("step"))

    # --- what she hears -------------------------------------------------------------------

    def segments(self, flow: Flow, segments: tuple[voice.Segment, ...]) -> tuple[VoiceSegment, ...]:
        """Map each segment to its recording's URL, else its text read aloud, else nothing."""
        root = recordings.folder(flow)
        spoken = []
        for segment in segments:
            if self.settings.public_url and _plays(root / segment.file):
                spoken.append(VoiceSegment(f"{self.settings.public_url}/media/{segment.file}",
                                           segment.text, segment.language))
            elif segment.language in flow.voice.read_aloud:
                spoken.append(VoiceSegment(None, segment.text, segment.language))
            else:  # Bambara is never read in a French voice
                log.warning("recording %s cannot be played: skipped", segment.file)
        return tuple(spoken)

    def action_url(self, provider: str, turn: int) -> str:
        """Return where the provider posts the keys of turn `turn` (the provider adds secrets)."""
        return f"{self.settings.public_url or ''}/webhooks/{provider}/voice?turn={turn}"

    def _flow(self, phone_hash: str) -> Flow | None:
        """Return the flow of her invitation, else the default one, else any offered on voice."""
        flows = self.services.flows
        invited = (self.store.invitation(phone_hash) or {}).get("flow")
        candidates = [flows.live(invited) if invited else None, flows.default(),
                      *(flows.live(name) for name in sorted(flows.flows))]
        return next((flow for flow in candidates if flow and CHANNEL in flow.channels), None)


def _plays(path: Path) -> bool:
    try:
        stat = path.stat()
    except OSError:
        return False
    return _plays_file(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _plays_file(path: str, mtime_ns: int, size: int) -> bool:
    # Keyed by mtime and size: a recording made again is checked again.
    return recordings.problem(Path(path)) is None


def _dump(reply: CallReply) -> str:
    return json.dumps(dataclasses.asdict(reply), separators=(",", ":"), ensure_ascii=False)


def _load(raw: str | bytes) -> CallReply:
    data = json.loads(raw)
    keys = voice.KeySpec(**data["keys"]) if data.get("keys") else None
    if data.get("keys") is None and data.get("action_url"):
        raise EngineUsageError("a stored call reply has an action URL but no keys")
    return CallReply(tuple(VoiceSegment(**s) for s in data["segments"]), keys,
                     data.get("action_url"), bool(data.get("reject")))

