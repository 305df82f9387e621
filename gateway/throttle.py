"""A failure throttle in Redis, shared by every process: slow down, then lock out, guessing.

Each key (an account, an address) counts its recent failures. The first `policy.free`
cost nothing; after them each failure makes the next attempt wait (1 s, 2 s, 4 s …, up to
`max_delay`), and failure number `policy.lock_after` locks the key for `lockout` seconds.
An attempt that comes too early is refused *without being checked*, with the seconds to
wait, which the caller shows (the dashboard's form) or sends as `Retry-After` (the API's
429). Refusing instead of sleeping keeps a guesser from holding the server's workers.

The counters live under `kuma:throttle:{scope}:{digest}`: the digest is a keyed hash of
the username or address (HMAC with the gateway's secret), so Redis never holds either in
clear. Counters expire `window` seconds after the last failure. When Redis cannot be
reached the throttle lets attempts through and logs it: the API and the dashboard read
SQL and keep working, as they did before there was a throttle.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable, Sequence

import redis

log = logging.getLogger(__name__)

KEY = "kuma:throttle:{scope}:{digest}"

# KEYS: the counters; ARGV: now, free, lock_after, lockout, base_delay, max_delay, window.
# Each counter is a hash {failures, next_at}; returns nothing.
_FAIL = """
local now, free, lock_after = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local lockout, base, cap, window = tonumber(ARGV[4]), tonumber(ARGV[5]),
                                   tonumber(ARGV[6]), tonumber(ARGV[7])
for _, key in ipairs(KEYS) do
  local failures = redis.call('HINCRBY', key, 'failures', 1)
  local wait = 0
  if failures >= lock_after then
    wait = lockout
  elseif failures > free then
    wait = math.min(base * 2 ^ (failures - free - 1), cap)
  end
  if wait > 0 then
    redis.call('HSET', key, 'next_at', tostring(now + wait))
  end
  redis.call('EXPIRE', key, math.ceil(math.max(window, wait)))
end
return 0
"""


@dataclasses.dataclass(frozen=True)
class Policy:
    """How many failures are free, how the wait grows, and when and how long to lock."""

    free: int = 5
    lock_after: int = 10
    lockout: float = 15 * 60
    base_delay: float = 1.0
    max_delay: float = 60.0
    window: float = 15 * 60

    def __post_init__(self) -> None:
        if not 0 <= self.free < self.lock_after:
            raise ValueError(f"need 0 <= free < lock_after, got {self.free}, {self.lock_after}")


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Whether an attempt may be checked now, else how long to wait and whether locked."""

    allowed: bool
    retry_after: int = 0
    locked: bool = False


ALLOWED = Verdict(True)


class Throttle:
    """Failure counters for one scope (e.g. `login-account`), shared through Redis."""

    def __init__(self, client: redis.Redis, scope: str, secret: str, *,
                 policy: Policy = Policy(), clock: Callable[[], float] = time.time) -> None:
        self.redis = client
        self.scope = scope
        self.policy = policy
        self.clock = clock
        self._secret = hashlib.sha256(f"kuma throttle {secret}".encode()).digest()
        self._fail = client.register_script(_FAIL)

    def key(self, subject: str) -> str:
        """Return the Redis key of `subject`, which never appears in it in clear."""
        digest = hmac.new(self._secret, f"{self.scope}\0{subject}".encode("utf-8", "replace"),
                          hashlib.sha256).hexdigest()[:32]
        return KEY.format(scope=self.scope, digest=digest)

    def check(self, subject: str) -> Verdict:
        """Say whether an attempt for `subject` may be checked now."""
        try:
            failures, next_at = self.redis.hmget(self.key(subject), "failures", "next_at")
        except redis.RedisError as error:
            log.warning("throttle %s not checked: Redis unavailable (%s)", self.scope, error)
            return ALLOWED
        wait = float(next_at or 0) - self.clock()
        if wait <= 0:
            return ALLOWED
        return Verdict(False, retry_after=max(1, math.ceil(wait)),
                       locked=int(failures or 0) >= self.policy.lock_after)

    def failed(self, subject: str) -> None:
        """Count a failed attempt for `subject`."""
        p = self.policy
        try:
            self._fail(keys=[self.key(subject)],
                       args=[repr(self.clock()), p.free, p.lock_after, p.lockout,
                             p.base_delay, p.max_delay, p.window])
        except redis.RedisError as error:
            log.warning("throttle %s: failure not counted, Redis unavailable (%s)",
                        self.scope, error)

    def succeeded(self, subject: str) -> None:
        """Forget `subject`'s failures."""
        try:
            self.redis.delete(self.key(subject))
        except redis.RedisError as error:
            log.warning("throttle %s: success not noted, Redis unavailable (%s)",
                        self.scope, error)


def strictest(verdicts: Sequence[Verdict]) -> Verdict:
    """Return the refusal that waits longest among `verdicts`, or ALLOWED if none refuses."""
    refused = [v for v in verdicts if not v.allowed]
    return max(refused, key=lambda v: (v.retry_after, v.locked)) if refused else ALLOWED


# The limits each caller uses. An address is shared by a whole clinic behind one NAT, so
# it gets more room than one account; an API script that fails keeps failing, so few free.
POLICIES = {
    "login-account": Policy(free=5, lock_after=10),
    "login-address": Policy(free=20, lock_after=50),
    "api-address": Policy(free=5, lock_after=20),
}
