"""Per-provider send rate limits: the token-bucket arithmetic and a protocol to share it.

Providers cap messages per second per account; going over gets 429s (Twilio 20429,
14107) or silent queueing. Workers ask a RateLimiter before each send and wait (or
requeue the job) for the time it answers. `TokenBucket` is the pure arithmetic, with the
clock given; `LocalRateLimiter` holds buckets in one process. The limiter every worker
shares, `gateway.outbound.RedisRateLimiter`, keeps the same two numbers per provider
(tokens, updated) under one Redis key and applies `TokenBucket.take` in a Lua script
(channels know no Redis, so it lives there).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


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
