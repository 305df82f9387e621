"""Per-provider send rate limits: the token-bucket arithmetic and a protocol to share it.

Providers cap messages per second per account; going over gets 429s (Twilio 20429,
14107) or silent queueing. Workers ask a RateLimiter before each send and wait (or
requeue the job) for the time it answers. `TokenBucket` is the pure arithmetic, with the
clock given; `LocalRateLimiter` holds buckets in one process. The limiter every worker
shares, `RedisRateLimiter`, keeps the same two numbers per provider (tokens, updated)
under one Redis key and applies `TokenBucket.take` in a Lua script.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import redis


class RateLimiter(Protocol):
    """Reserves sends per provider."""

    def reserve(self, provider: str) -> float:
        """Reserve one send for `provider`; return the seconds to wait first (0: go now)."""
        ...  # pragma: no cover


@dataclass
class TokenBucket:
    """`rate` sends per second on average, up to `burst` at once."""

    rate: float
    burst: float
    tokens: float = field(default=-1.0)
    updated: float | None = None

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, not {self.rate}, {self.burst}")
        if self.tokens < 0:
            self.tokens = self.burst

    def take(self, now: float, count: float = 1) -> float:
        """Take `count` tokens at time `now`; return 0, or the seconds until they exist.

        A refusal takes nothing, so a caller that waits the answer and asks again gets in.
        """
        if self.updated is not None and now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now if self.updated is None else max(now, self.updated)
        if self.tokens >= count:
            self.tokens -= count
            return 0.0
        return (count - self.tokens) / self.rate


class LocalRateLimiter:
    """A RateLimiter for one process: one TokenBucket per provider, thread-safe."""

    def __init__(self, limits: Mapping[str, tuple[float, float]], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets = {name: TokenBucket(rate, burst) for name, (rate, burst) in limits.items()}
        self._clock = clock
        self._lock = threading.Lock()

    def reserve(self, provider: str) -> float:
        """Reserve one send for `provider`; providers without a limit always go now."""
        bucket = self._buckets.get(provider)
        if bucket is None:
            return 0.0
        with self._lock:
            return bucket.take(self._clock())


# --- the Redis twin ----------------------------------------------------------------------

RATE_KEY = "kuma:send-rate:{provider}"

# Token bucket (TokenBucket.take above), applied atomically for every
# worker. KEYS[1]: the provider's bucket; ARGV: rate, burst, now, ttl.
_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2])
if updated ~= nil and now > updated then
  tokens = math.min(burst, tokens + (now - updated) * rate)
end
if updated == nil or now > updated then updated = now end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens),
           'updated', string.format('%.6f', updated))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return string.format('%.6f', wait)
"""


class RedisRateLimiter:
    """A RateLimiter shared by every worker: one token bucket per provider in Redis."""

    def __init__(self, redis_client: redis.Redis, *, rate: float, burst: float | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, not {rate}")
        self.redis = redis_client
        self.rate = rate
        self.burst = max(1.0, rate if burst is None else burst)
        # Redis's clock by default: workers on several machines then agree on "now".
        self._clock = clock or self._redis_time
        self._take = redis_client.register_script(_TAKE)

    def _redis_time(self) -> float:
        seconds, micros = self.redis.time()
        return seconds + micros / 1e6

    def reserve(self, provider: str) -> float:
        """Reserve one send for `provider`; return the seconds to wait first (0: go now)."""
        ttl = int(self.burst / self.rate) + 60
        wait = self._take(keys=[RATE_KEY.format(provider=provider)],
                          args=[self.rate, self.burst, f"{self._clock():.6f}", ttl])
        return float(wait)
