"""/healthz against real, stopped and hung backends; /metrics as Prometheus reads it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway import metrics
from gateway.app import create_app
from gateway.services import Services
from tests.web.conftest import metric_sample


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Yield a loopback port that accepts connections and never answers (a hung server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)  # the kernel completes handshakes; nobody ever reads
        yield sock.getsockname()[1]


def test_healthy_gateway_answers_200_with_queue_counts(services: Services) -> None:
    services.queue.enqueue("gateway.jobs.refresh_directory")
    services.queue.enqueue("gateway.jobs.refresh_directory")
    client = create_app(services.settings, services=services).test_client()

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "ok",
                                   "queue": {"queued": 2, "failed": 0},
                                   "filing": {"status": "ok", "oldest_unfiled_seconds": None,
                                              "dead_letters": 0}}


def test_stopped_redis_is_named_and_answered_503(services_with, closed_port: int,
                                                caplog) -> None:
    services = services_with(redis_url=f"redis://127.0.0.1:{closed_port}/0")
    client = create_app(services.settings, services=services).test_client()

    started = time.monotonic()
    response = client.get("/healthz")

    assert time.monotonic() - started < 2.5
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["redis"] == "error"  # the status word only: no host, port or driver
    assert str(closed_port) not in response.text
    assert "queue" not in body and "filing" not in body
    assert f"127.0.0.1:{closed_port}" in caplog.text or str(closed_port) in caplog.text


def test_stopped_database_is_named_and_answered_503(services_with, closed_port: int,
                                                   caplog) -> None:
    url = f"postgresql+psycopg://kuma:secret-password@127.0.0.1:{closed_port}/kuma"
    services = services_with(database_url=url)
    client = create_app(services.settings, services=services).test_client()

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["redis"] == "ok"
    assert body == {"status": "error", "database": "error", "redis": "ok",
                    "queue": {"queued": 0, "failed": 0},
                    "filing": {"status": "ok", "oldest_unfiled_seconds": None, "dead_letters": 0}}
    for detail in (str(closed_port), "127.0.0.1", "psycopg", "OperationalError"):
        assert detail not in response.text
    assert "OperationalError" in caplog.text  # the detail is the operator's, in the log
    assert "secret-password" not in caplog.text


def test_hung_redis_still_gets_an_answer_within_two_seconds(services_with,
                                                            silent_port: int) -> None:
    services = services_with(redis_url=f"redis://127.0.0.1:{silent_port}/0")
    client = create_app(services.settings, services=services).test_client()
    before = metric_sample("kuma_failures_total", kind="health_redis")

    started = time.monotonic()
    response = client.get("/healthz")

    assert time.monotonic() - started < 2.5
    assert response.status_code == 503
    assert response.get_json()["redis"] == "error"
    assert response.get_json()["database"] == "ok"
    assert metric_sample("kuma_failures_total", kind="health_redis") == before + 1


def test_metrics_endpoint_shows_webhooks_sessions_and_the_queue(services: Services) -> None:
    client = create_app(services.settings, services=services).test_client()
    endpoint = "webhooks.test_metrics_endpoint"
    metrics.observe_webhook(endpoint, 200, 0.012)
    metrics.observe_webhook(endpoint, 200, 0.3)
    metrics.observe_webhook(endpoint, 403, 0.004)
    services.queue.enqueue("gateway.jobs.refresh_directory")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(response.get_data(as_text=True))
               for s in family.samples}
    assert samples[("kuma_webhook_requests_total",
                    (("endpoint", endpoint), ("status", "200")))] == 2
    assert samples[("kuma_webhook_requests_total",
                    (("endpoint", endpoint), ("status", "403")))] == 1
    assert samples[("kuma_webhook_latency_seconds_bucket",
                    (("endpoint", endpoint), ("le", "0.005")))] == 1
    assert samples[("kuma_webhook_latency_seconds_bucket",
                    (("endpoint", endpoint), ("le", "0.025")))] == 2
    assert samples[("kuma_webhook_latency_seconds_count", (("endpoint", endpoint),))] == 3
    assert samples[("kuma_queue_jobs", (("queue", "kuma"),))] == 1
    assert samples[("kuma_queue_failed_jobs", (("queue", "kuma"),))] == 0
    for event in metrics.SESSION_EVENT_NAMES:
        assert ("kuma_session_events_total", (("event", event),)) in samples


def test_session_events_count_each_outcome_once() -> None:
    names = (*metrics.SESSION_EVENT_NAMES,)
    before = {name: metric_sample("kuma_session_events_total", event=name) for name in names}
    failed_before = metric_sample("kuma_failures_total", kind="session_failed")

    metrics.count_session_events([
        {"type": "session_started", "flow_id": "maternal_care"},
        {"type": "answer_given", "step": "q1"},
        {"type": "session_ended", "status": "completed"},
        {"type": "session_started"},
        {"type": "opted_out"},
        {"type": "session_ended", "status": "opted_out"},
        {"type": "opted_out"},  # STOP outside any session
        {"type": "session_ended", "status": "declined"},
        {"type": "session_ended", "status": "failed"},
    ])

    after = {name: metric_sample("kuma_session_events_total", event=name) for name in names}
    assert {name: after[name] - before[name] for name in names} == {
        "started": 2, "completed": 1, "abandoned": 0, "expired": 0, "opted_out": 2,
        "declined": 1}
    assert metric_sample("kuma_failures_total", kind="session_failed") == failed_before + 1


def test_metrics_scrape_survives_a_stopped_redis(services_with, closed_port: int) -> None:
    services = services_with(redis_url=f"redis://127.0.0.1:{closed_port}/0")
    client = create_app(services.settings, services=services).test_client()

    response = client.get("/metrics")

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "kuma_webhook_requests_total" in text
    assert "kuma_queue_jobs{" not in text
