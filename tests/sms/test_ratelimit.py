"""The send rate shared by all workers: a token bucket in Redis, with an injected clock."""

from __future__ import annotations

import pytest

from gateway.sms import ratelimit, send, senders
from gateway.sms.ratelimit import TokenBucket
from gateway.models import MessageStatus
from tests.sms.support import add_contact, add_message, message


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_redis_bucket_does_the_token_bucket_arithmetic(redis_client):
    clock = FakeClock()
    limiter = ratelimit.RedisRateLimiter(redis_client, rate=2, burst=3, clock=clock)
    bucket = TokenBucket(rate=2, burst=3)
    for step in [0, 0, 0, 0, 0.25, 0.25, 0.5, 0, 10, 0, 0, 0, 0]:
        clock.now += step
        assert limiter.reserve("twilio") == pytest.approx(bucket.take(clock.now), abs=1e-6)


def test_burst_then_one_send_per_interval(redis_client):
    clock = FakeClock()
    limiter = ratelimit.RedisRateLimiter(redis_client, rate=5, clock=clock)

    assert [limiter.reserve("africastalking") for _ in range(5)] == [0] * 5
    assert limiter.reserve("africastalking") == pytest.approx(0.2)
    clock.now += 0.2
    assert limiter.reserve("africastalking") == 0
    assert limiter.reserve("africastalking") == pytest.approx(0.2)


def test_workers_share_one_bucket_per_provider(redis_client):
    clock = FakeClock()
    first = ratelimit.RedisRateLimiter(redis_client, rate=1, burst=1, clock=clock)
    second = ratelimit.RedisRateLimiter(redis_client, rate=1, burst=1, clock=clock)

    assert first.reserve("twilio") == 0
    assert second.reserve("twilio") == pytest.approx(1.0)
    # Another provider has its own limit.
    assert second.reserve("africastalking") == 0


def test_the_default_clock_is_redis_s(redis_client):
    limiter = ratelimit.RedisRateLimiter(redis_client, rate=1, burst=1)
    assert limiter.reserve("twilio") == 0
    assert 0.9 < limiter.reserve("twilio") <= 1.0


class ScriptedLimiter:
    def __init__(self, *waits: float) -> None:
        self.waits = list(waits)

    def reserve(self, provider: str) -> float:
        return self.waits.pop(0) if self.waits else 0.0


def test_a_short_wait_is_slept_then_the_sms_goes(services, at_standin, at_settings):
    message_id = add_message(services, add_contact(services))
    slept: list[float] = []
    sender = senders.sender_for(at_settings)

    status = send.deliver(services, message_id, sender=sender,
                              limiter=ScriptedLimiter(0.2, 0.05), sleep=slept.append)
    sender.close()

    assert status is MessageStatus.SENT
    assert slept == [0.2, 0.05]
    assert len(at_standin.requests) == 1


def test_a_long_wait_gives_the_worker_back(services, at_standin, at_settings):
    message_id = add_message(services, add_contact(services))
    sender = senders.sender_for(at_settings)

    status = send.deliver(services, message_id, sender=sender,
                              limiter=ScriptedLimiter(30), sleep=pytest.fail)
    sender.close()

    assert status is MessageStatus.QUEUED
    assert at_standin.requests == []
    assert message(services, message_id).attempts == 0
    assert len(services.queue.scheduled_job_registry.get_job_ids()) == 1
