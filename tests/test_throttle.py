"""The failure throttle against real Redis: free failures, growing waits, lockout, expiry."""

from __future__ import annotations

import pytest
import redis

from gateway.throttle import ALLOWED, Policy, Throttle, Verdict, strictest


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guesses(redis_client: redis.Redis, clock: Clock) -> Throttle:
    return Throttle(redis_client, "login-account", "secret", clock=clock,
                    policy=Policy(free=3, lock_after=8, base_delay=1, max_delay=3,
                                  lockout=600, window=900))


def fail(throttle: Throttle, subject: str, times: int) -> None:
    for _ in range(times):
        throttle.failed(subject)


def test_the_first_failures_are_free(guesses: Throttle) -> None:
    fail(guesses, "amina", 3)
    assert guesses.check("amina") == ALLOWED


def test_each_further_failure_makes_the_next_attempt_wait_longer(guesses: Throttle,
                                                                  clock: Clock) -> None:
    waits = []
    for _ in range(2):
        fail(guesses, "amina", 1 if waits else 4)
        waits.append(guesses.check("amina"))
        clock.now += waits[-1].retry_after
        assert guesses.check("amina") == ALLOWED
    assert waits == [Verdict(False, 1), Verdict(False, 2)]


def test_the_wait_is_capped(guesses: Throttle) -> None:
    fail(guesses, "amina", 6)  # 4 s uncapped
    assert guesses.check("amina") == Verdict(False, 3)


def test_enough_failures_lock_the_key_for_the_lockout(guesses: Throttle, clock: Clock) -> None:
    fail(guesses, "amina", 8)
    assert guesses.check("amina") == Verdict(False, 600, locked=True)
    clock.now += 599.5
    assert guesses.check("amina") == Verdict(False, 1, locked=True)
    clock.now += 1
    assert guesses.check("amina").allowed


def test_counters_expire_after_the_window(guesses: Throttle, redis_client: redis.Redis) -> None:
    fail(guesses, "amina", 1)
    assert 890 < redis_client.ttl(guesses.key("amina")) <= 900
    fail(guesses, "amina", 7)
    assert redis_client.ttl(guesses.key("amina")) >= 900


def test_success_forgets_and_subjects_are_apart(guesses: Throttle) -> None:
    fail(guesses, "amina", 8)
    fail(guesses, "fatou", 1)
    guesses.succeeded("amina")
    assert guesses.check("amina") == ALLOWED
    assert int(guesses.redis.hget(guesses.key("fatou"), "failures")) == 1


def test_processes_share_the_counters(redis_client: redis.Redis, clock: Clock,
                                      redis_url: str) -> None:
    policy = Policy(free=1, lock_after=2)
    first = Throttle(redis_client, "api-address", "secret", policy=policy, clock=clock)
    other_connection = redis.Redis.from_url(redis_url)
    try:
        second = Throttle(other_connection, "api-address", "secret", policy=policy, clock=clock)
        first.failed("10.0.0.1")
        second.failed("10.0.0.1")
        assert first.check("10.0.0.1").locked and second.check("10.0.0.1").locked
    finally:
        other_connection.close()


def test_keys_are_keyed_hashes_without_the_subject(guesses: Throttle,
                                                   redis_client: redis.Redis) -> None:
    other_secret = Throttle(redis_client, "login-account", "another secret")
    assert guesses.key("amina").startswith("kuma:throttle:login-account:")
    assert "amina" not in guesses.key("amina")
    assert guesses.key("amina") != other_secret.key("amina")
    assert guesses.key("amina") != Throttle(redis_client, "x", "secret").key("amina")


def test_strictest_picks_the_longest_refusal() -> None:
    assert strictest([ALLOWED, ALLOWED]) == ALLOWED
    assert strictest([Verdict(False, 5), ALLOWED, Verdict(False, 60, True)]) == Verdict(
        False, 60, True)


def test_a_policy_must_leave_room_before_the_lockout() -> None:
    with pytest.raises(ValueError, match="free < lock_after"):
        Policy(free=5, lock_after=5)
