"""Wrong bearer tokens are counted per address in Redis: slowed, then refused with 429."""

from __future__ import annotations

import pytest
import redis
from flask import Flask

from gateway.api_tokens import create_token
from gateway.app import create_app
from gateway.db import session_scope
from gateway.services import Services
from gateway.throttle import Policy

WRONG = {"Authorization": "Bearer kuma_wrong-guess"}


@pytest.fixture
def app(services: Services) -> Flask:
    app = create_app(services.settings, services=services)
    app.config["KUMA_THROTTLE_POLICIES"] = {
        "api-address": Policy(free=3, lock_after=6, base_delay=2, lockout=900)}
    return app


def get(app: Flask, headers: dict, address: str = "10.0.0.7"):
    return app.test_client().get("/api/v1/centers", headers=headers,
                                 environ_base={"REMOTE_ADDR": address})


def test_a_burst_of_wrong_tokens_is_slowed_then_refused(app: Flask) -> None:
    statuses = [get(app, WRONG).status_code for _ in range(3)]
    slowed = get(app, WRONG)
    assert statuses == [401, 401, 401] and slowed.status_code == 401
    refused = get(app, WRONG)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"
    assert "try again in 2 s" in refused.get_json()["error"]


def test_a_refused_address_is_not_checked_even_with_a_good_token(
        app: Flask, services: Services, redis_client: redis.Redis) -> None:
    with session_scope(services.sessionmaker) as db:
        token = create_token(db, "script")
    for _ in range(4):
        get(app, WRONG)
    assert get(app, {"Authorization": f"Bearer {token}"}).status_code == 429
    assert get(app, {"Authorization": f"Bearer {token}"}, "10.0.0.8").status_code == 200


def test_the_lockout_holds_for_its_whole_time(app: Flask, redis_client: redis.Redis) -> None:
    for _ in range(6):
        get(app, WRONG)
        for key in redis_client.scan_iter("kuma:throttle:api-address:*"):
            redis_client.hdel(key, "next_at")  # as if the client waited each time
    get(app, WRONG)
    refused = get(app, WRONG)
    assert refused.status_code == 429
    assert 890 < int(refused.headers["Retry-After"]) <= 900


def test_the_count_is_shared_by_every_process(services: Services, app: Flask) -> None:
    other_process = create_app(services.settings, services=Services.build(services.settings))
    other_process.config["KUMA_THROTTLE_POLICIES"] = app.config["KUMA_THROTTLE_POLICIES"]
    try:
        for target in (app, other_process, app, other_process):
            get(target, WRONG)
        assert get(other_process, WRONG).status_code == 429
    finally:
        other_process.extensions["kuma"].close()


def test_requests_without_any_token_are_not_counted(app: Flask) -> None:
    for _ in range(10):
        assert get(app, {}).status_code == 401
    assert get(app, WRONG).status_code == 401


def test_the_default_policy_stops_600_guesses_early(services: Services) -> None:
    app = create_app(services.settings, services=services)
    statuses = [get(app, WRONG).status_code for _ in range(30)]
    assert statuses.count(401) <= 6
    assert statuses[-1] == 429


def test_with_redis_down_the_api_still_checks_tokens(services_with, closed_port: int,
                                                     caplog) -> None:
    services = services_with(redis_url=f"redis://127.0.0.1:{closed_port}/0")
    with session_scope(services.sessionmaker) as db:
        token = create_token(db, "script")
    app = create_app(services.settings, services=services)
    assert get(app, WRONG).status_code == 401
    assert get(app, {"Authorization": f"Bearer {token}"}).status_code == 200
    assert "Redis unavailable" in caplog.text


def _counted_from(services: Services, proxy_hops: int, forwarded_for: str) -> Flask:
    import dataclasses

    settings = dataclasses.replace(services.settings, proxy_hops=proxy_hops)
    app = create_app(settings, services=services)
    app.config["KUMA_THROTTLE_POLICIES"] = {
        "api-address": Policy(free=1, lock_after=2, base_delay=2, lockout=900)}
    for _ in range(3):  # every one from the proxy's address, each naming the same client
        app.test_client().get("/api/v1/centers", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                              headers={**WRONG, "X-Forwarded-For": forwarded_for})
    return app


def test_behind_a_proxy_the_client_is_counted_not_the_proxy(services: Services) -> None:
    app = _counted_from(services, proxy_hops=1, forwarded_for="198.51.100.9")
    from_the_proxy = app.test_client().get(
        "/api/v1/centers", environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={**WRONG, "X-Forwarded-For": "203.0.113.5"})
    assert from_the_proxy.status_code == 401  # another client through the same proxy


def test_without_proxy_hops_a_forwarded_header_is_not_believed(services: Services) -> None:
    app = _counted_from(services, proxy_hops=0, forwarded_for="198.51.100.9")
    other_name = app.test_client().get(
        "/api/v1/centers", environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={**WRONG, "X-Forwarded-For": "203.0.113.5"})
    assert other_name.status_code == 429  # still the one address that guessed
