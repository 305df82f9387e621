"""Token-bucket send limits with a given clock."""

from __future__ import annotations

import pytest

from gateway.sms.ratelimit import LocalRateLimiter, TokenBucket


def test_bucket_allows_a_burst_then_spaces_sends():
    bucket = TokenBucket(rate=2, burst=3)
    assert [bucket.take(0.0) for _ in range(3)] == [0, 0, 0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    # A refusal takes nothing: waiting the answer is enough.
    assert bucket.take(0.5) == 0
    assert bucket.take(0.5) == pytest.approx(0.5)


def test_bucket_refills_up_to_the_burst_only():
    bucket = TokenBucket(rate=1, burst=2)
    bucket.take(0.0)
    bucket.take(0.0)
    assert bucket.take(100.0) == 0
    assert bucket.take(100.0) == 0
    assert bucket.take(100.0) == pytest.approx(1.0)


def test_bucket_ignores_a_clock_going_backwards():
    bucket = TokenBucket(rate=1, burst=1)
    assert bucket.take(10.0) == 0
    assert bucket.take(5.0) == pytest.approx(1.0)


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 5), (1, 0)])
def test_bucket_refuses_nonsense_limits(rate, burst):
    with pytest.raises(ValueError, match="rate must be"):
        TokenBucket(rate=rate, burst=burst)


def test_local_limiter_keeps_one_bucket_per_provider():
    now = [0.0]
    limiter = LocalRateLimiter({"twilio": (1, 1), "africastalking": (10, 1)},
                               clock=lambda: now[0])
    assert limiter.reserve("twilio") == 0
    assert limiter.reserve("twilio") == pytest.approx(1.0)
    assert limiter.reserve("africastalking") == 0
    assert limiter.reserve("africastalking") == pytest.approx(0.1)
    assert limiter.reserve("log") == 0
    now[0] = 1.0
    assert limiter.reserve("twilio") == 0
