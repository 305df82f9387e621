"""Session state in Redis: per-session locks, states with a TTL, replies to repeated requests,
and what the webhooks must know fast about a phone (language, centre, opt-out, a dropped
USSD session to resume).

Every key comes from `KEYS`, under one prefix (`kuma` by default). Values are small JSON
documents or plain strings; phones appear only as their keyed hash.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import enum
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any, NamedTuple

import redis
import redis.exceptions

from gateway.errors import SessionBusyError

log = logging.getLogger(__name__)

KEYS = {
    "session": "{prefix}:session:{channel}:{id}",
    "lock": "{prefix}:lock:{channel}:{id}",
    "replies": "{prefix}:replies:{channel}:{id}",
    "contact": "{prefix}:contact:{phone_hash}",
    "opted_out": "{prefix}:opted_out:{phone_hash}",
    "dropped": "{prefix}:dropped:{phone_hash}",
    "invitation": "{prefix}:invitation:{phone_hash}",
    "call": "{prefix}:call:{provider}:{id}",  # a call seen (a mother's call, called back once)
}

CONTACT_TTL = 400 * 24 * 3600  # a mother may come back for her next child's visits
INVITATION_TTL = 3 * 24 * 3600  # she may answer the evening after, or the next days

class SessionStore:
    """Session state and phone memory in Redis, all keys under `prefix`."""

    def __init__(self, redis_client: redis.Redis, *, prefix: str = "kuma") -> None:
        self.redis = redis_client
        self.prefix = prefix

    def key(self, kind: str, **parts: str) -> str:
        """Return the Redis key of `kind` (one of KEYS) for `parts`."""
        return KEYS[kind].format(prefix=self.prefix, **parts)

    @contextlib.contextmanager
    def lock(self, channel: str, session_id: str, *, timeout: float = 10,
             blocking_timeout: float = 5) -> Iterator[None]:
        """Hold the session's lock for the block; raise SessionBusyError if not had in time.

        `timeout` bounds how long a crashed holder can keep others out.
        """
        lock = self.redis.lock(self.key("lock", channel=channel, id=session_id),
                               timeout=timeout, blocking_timeout=blocking_timeout)
        if not lock.acquire():
            raise SessionBusyError(f"session {channel}:{session_id} is busy: its lock was "
                                   f"not free within {blocking_timeout} s")
        try:
            yield
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                # The work outlasted `timeout`; another request may have run concurrently.
                log.warning("lock of session %s:%s expired before release (timeout %s s)",
                            channel, session_id, timeout)

    def load(self, channel: str, session_id: str) -> dict[str, Any] | None:
        """Return the session's state, or None if there is none (or it expired)."""
        raw = self.redis.get(self.key("session", channel=channel, id=session_id))
        if raw is None:
            return None
        try:
            state = json.loads(raw)
        except ValueError:
            state = None
        if not isinstance(state, dict):
            log.error("state of session %s:%s is not a JSON object; starting afresh",
                      channel, session_id)
            return None
        return state

    def save(self, channel: str, session_id: str, state: dict[str, Any], *,
             ttl: int | None = None, expire_at: int | None = None, pipe: Any = None) -> None:
        """Store the session's state for `ttl` seconds, or until the Unix time `expire_at`.

        With `pipe`, the write joins the caller's Redis transaction.
        """
        payload = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
        expiry = {"exat": expire_at} if expire_at is not None else {"ex": _seconds(ttl or 0)}
        (pipe or self.redis).set(self.key("session", channel=channel, id=session_id), payload,
                                 **expiry)

    def delete(self, channel: str, session_id: str, *, pipe: Any = None) -> None:
        """Forget the session's state and remembered replies."""
        (pipe or self.redis).delete(self.key("session", channel=channel, id=session_id),
                                    self.key("replies", channel=channel, id=session_id))

    def contact_prefs(self, phone_hash: str) -> dict[str, str]:
        """Return what is remembered of a phone: `language` and `center`, when known."""
        stored = self.redis.hgetall(self.key("contact", phone_hash=phone_hash))
        return {_text(name): _text(value) for name, value in stored.items()}

    def set_contact_prefs(self, phone_hash: str, *, language: str | None = None,
                          center: str | None = None) -> None:
        """Remember a phone's language and/or centre for CONTACT_TTL."""
        fields = {name: value for name, value in (("language", language), ("center", center))
                  if value is not None}
        key = self.key("contact", phone_hash=phone_hash)
        with self.redis.pipeline(transaction=True) as pipe:
            if fields:
                pipe.hset(key, mapping=fields)
            pipe.expire(key, CONTACT_TTL)
            pipe.execute()

    def is_opted_out(self, phone_hash: str) -> bool:
        """Whether the phone opted out (the Redis mirror of contacts.opted_out_at)."""
        return bool(self.redis.exists(self.key("opted_out", phone_hash=phone_hash)))

    def set_opted_out(self, phone_hash: str, opted_out: bool, *, pipe: Any = None) -> None:
        """Mirror the phone's opt-out flag; kept without expiry, as the SQL flag is."""
        key = self.key("opted_out", phone_hash=phone_hash)
        if opted_out:
            (pipe or self.redis).set(key, "1")
        else:
            (pipe or self.redis).delete(key)

    def remember_invitation(self, phone_hash: str, *, center: str, flow: str) -> None:
        """Remember which centre and flow her reply to an invitation starts."""
        self.redis.set(self.key("invitation", phone_hash=phone_hash),
                       json.dumps({"center": center, "flow": flow}), ex=INVITATION_TTL)

    def invitation(self, phone_hash: str) -> dict[str, str] | None:
        """Return the centre and flow of the invitation she may be answering, or None."""
        raw = self.redis.get(self.key("invitation", phone_hash=phone_hash))
        return json.loads(raw) if raw else None

    def forget_invitation(self, phone_hash: str, *, pipe: Any = None) -> None:
        """Forget her invitation once she answered it."""
        (pipe or self.redis).delete(self.key("invitation", phone_hash=phone_hash))


def _seconds(ttl: int | float) -> int:
    seconds = int(ttl)
    if seconds <= 0:
        raise ValueError(f"ttl must be at least 1 second, got {ttl!r}")
    return seconds


def _text(value: bytes | str | None) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


# --- USSD turns without a lock ------------------------------------------------------------
# A USSD screen has a few seconds: each turn is one read and one compare-and-set in Redis.
# The write succeeds only if the state is still the one the turn was computed from, so two
# deliveries of one request, or two racing requests, can never advance a session twice: the
# loser reads again and finds the winner's reply to its very request.

_USSD_READ = """
return {
  redis.call('HGET', KEYS[2], ARGV[1]),
  redis.call('GET', KEYS[1]),
  redis.call('EXISTS', KEYS[2]),
  redis.call('HGET', KEYS[3], 'language'),
  redis.call('HGET', KEYS[3], 'center'),
  redis.call('GET', KEYS[4])
}
"""

# KEYS: session, replies, dropped pointer, events list, flush flag, session resumed from,
#       the phone's memory, the phone's opt-out flag
# ARGV: expected state ('' = none), new state ('' = ended), fingerprint, reply, state TTL,
#       replies TTL, dropped pointer value ('' = clear), its TTL, '1' if she opted out,
#       flush flag TTL, language learnt ('' = none), centre learnt ('' = none), memory TTL,
#       then the event records to file, if any
_USSD_COMMIT = """
local given = redis.call('HGET', KEYS[2], ARGV[3])
if given then return given end
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
if KEYS[6] ~= KEYS[1] and redis.call('DEL', KEYS[6]) == 0 then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[5]))
end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
if ARGV[7] == '' then
  redis.call('DEL', KEYS[3])
else
  redis.call('SET', KEYS[3], ARGV[7], 'EX', tonumber(ARGV[8]))
end
if ARGV[11] ~= '' then redis.call('HSET', KEYS[7], 'language', ARGV[11]) end
if ARGV[12] ~= '' then redis.call('HSET', KEYS[7], 'center', ARGV[12]) end
if ARGV[11] ~= '' or ARGV[12] ~= '' then redis.call('EXPIRE', KEYS[7], tonumber(ARGV[13])) end
if ARGV[9] == '1' then redis.call('SET', KEYS[8], '1') end
if #ARGV > 13 then
  for i = 14, #ARGV do redis.call('RPUSH', KEYS[4], ARGV[i]) end
  if redis.call('SET', KEYS[5], '1', 'NX', 'EX', tonumber(ARGV[10])) then return 2 end
end
return 1
"""


class EventsList(NamedTuple):
    """Where a turn's event records go: the list, its flush flag and the flag's lifetime."""

    key: str
    flush_flag: str
    flush_ttl: int


class UssdLifetimes(NamedTuple):
    """How long, in seconds, a USSD turn's writes are kept."""

    state: int    # the session's state (resumable after a dropped call)
    replies: int  # the screens given, for repeated requests
    dropped: int  # the phone's pointer to its dropped session


@dataclasses.dataclass(frozen=True, slots=True)
class UssdWrite:
    """One USSD turn to write, if the session's state is still `expected`."""

    session_id: str
    phone_hash: str
    expected: str | None    # the state the turn was computed from (None: a new session)
    state: str | None       # the new state (None: the session ended)
    fingerprint: str        # of the request, to answer a repeat with the same screen
    reply: str              # the screen's body, as the provider rendered it
    answered: str = ""      # the request's text, kept in memory with the state
    records: tuple[str, ...] = ()  # event records to append
    resumed_from: str | None = None  # a dropped session this one takes over
    language: str | None = None      # learnt this turn, remembered for the phone
    center: str | None = None
    opted_out: bool = False


class Outcome(str, enum.Enum):
    """What a compare-and-set did."""

    WRITTEN = "written"
    STALE = "stale"        # the state changed since it was read: read and run again
    ANSWERED = "answered"  # this very request was answered already: its screen


class Committed(NamedTuple):
    """The result of `UssdTurns.commit`."""

    outcome: Outcome
    screen: str | None = None   # ANSWERED: the screen given to this request before
    flush_needed: bool = False  # WRITTEN: records appended and no flush queued yet


class RecentTurn(NamedTuple):
    """A session's state as this process last wrote it, and the request text it answered."""

    state: str
    answered: str


class UssdSnapshot(NamedTuple):
    """What one USSD turn reads before it runs the engine."""

    reply: str | None       # the screen already given to this very request, if any
    raw_state: str | None   # the session's state as stored (compared on write)
    seen: bool              # the session id had turns before (its state may be gone)
    language: str | None    # remembered for this phone
    center: str | None
    dropped: str | None     # a dropped session of this phone, resumable


class UssdTurns:
    """Read and compare-and-set one USSD turn, each in a single Redis round trip.

    The states this process wrote are kept in memory too, with the request text each one
    answered: a session's next request, when it reaches the same process, skips the read
    and goes straight to the compare-and-set, which refuses it if another process moved
    the session on meanwhile.
    """

    RECENT = 20_000  # sessions remembered per process (~1 KB each)

    def __init__(self, store: SessionStore, *, lifetimes: UssdLifetimes,
                 events: EventsList) -> None:
        self.store = store
        self.lifetimes = lifetimes
        self.events = events
        self._read = store.redis.register_script(_USSD_READ)
        self._commit = store.redis.register_script(_USSD_COMMIT)
        self._recent: collections.OrderedDict[str, RecentTurn] = collections.OrderedDict()
        self._recent_lock = threading.Lock()

    def recent(self, session_id: str) -> RecentTurn | None:
        """Return the state this process last wrote for a session, if it still has it."""
        with self._recent_lock:
            return self._recent.get(session_id)

    def _remember(self, session_id: str, state: str | None, answered: str = "") -> None:
        with self._recent_lock:
            self._recent.pop(session_id, None)
            if state is not None and self.RECENT:
                self._recent[session_id] = RecentTurn(state, answered)
                if len(self._recent) > self.RECENT:
                    self._recent.popitem(last=False)

    def read(self, session_id: str, phone_hash: str, fingerprint: str) -> UssdSnapshot:
        """Read the session, the reply to this request, and the phone's memory."""
        key = self.store.key
        values = self._read(keys=[key("session", channel="ussd", id=session_id),
                                  key("replies", channel="ussd", id=session_id),
                                  key("contact", phone_hash=phone_hash),
                                  key("dropped", phone_hash=phone_hash)],
                            args=[fingerprint])
        reply, raw, seen, language, center, dropped = (_text(v) if not isinstance(v, int)
                                                       else v for v in values)
        return UssdSnapshot(reply, raw, bool(seen), language, center, dropped)

    def commit(self, write: UssdWrite) -> Committed:
        """Write the turn if the state is unchanged; say what was done.

        When this very request (same fingerprint) was answered already, nothing is written
        and the screen then given comes back (`Outcome.ANSWERED`).
        """
        key = self.store.key
        session_id, phone_hash = write.session_id, write.phone_hash
        session_key = key("session", channel="ussd", id=session_id)
        old_key = key("session", channel="ussd", id=write.resumed_from) if write.resumed_from \
            else session_key
        lifetimes, events = self.lifetimes, self.events
        result = self._commit(
            keys=[session_key, key("replies", channel="ussd", id=session_id),
                  key("dropped", phone_hash=phone_hash), events.key, events.flush_flag,
                  old_key, key("contact", phone_hash=phone_hash),
                  key("opted_out", phone_hash=phone_hash)],
            args=[write.expected or "", write.state or "", write.fingerprint, write.reply,
                  _seconds(lifetimes.state), _seconds(lifetimes.replies),
                  session_id if write.state else "", _seconds(lifetimes.dropped),
                  "1" if write.opted_out else "", _seconds(events.flush_ttl),
                  write.language or "", write.center or "", CONTACT_TTL, *write.records])
        if isinstance(result, (bytes, str)):
            return Committed(Outcome.ANSWERED, screen=_text(result))
        if result:
            self._remember(session_id, write.state, write.answered)
            return Committed(Outcome.WRITTEN, flush_needed=result == 2)
        if write.expected is not None:
            self._remember(session_id, None)  # stale: read it again next time
        return Committed(Outcome.STALE)
