"""The USSD webhook answered beneath Flask: what Flask gave its views, it gives too."""

from __future__ import annotations

import logging

from gateway.app import create_app
from gateway.errors import SessionBusyError
from gateway.runner import Runner
from tests.integration.conftest import client, services  # noqa: F401
from tests.web.conftest import metric_sample

PATH = "/webhooks/africastalking/ussd"
USSD = {"sessionId": "ATUid_endpoint", "serviceCode": "*384*123*07#",
        "phoneNumber": "+22376123456", "networkCode": "61001", "text": ""}


def test_each_screen_is_logged_once_and_counted_without_her_number_or_answers(
        client, caplog):
    labels = {"endpoint": "webhooks.africastalking_ussd", "status": "200"}
    before = metric_sample("kuma_webhook_requests_total", **labels)
    caplog.set_level(logging.INFO, logger="gateway.web.ussd")

    client.post(PATH, data=USSD)
    screen = client.post(PATH, data={**USSD, "text": "1"})

    assert screen.status_code == 200 and screen.text.startswith("CON ")
    assert screen.headers["Content-Type"] == "text/plain; charset=utf-8"
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.web.ussd"]
    assert len(lines) == 2
    assert lines[1].startswith("webhook webhooks.africastalking_ussd status=200 "
                               "session=ATUid_endpoint step=")
    assert " ms=" in lines[1] and "step=- " not in lines[1]
    assert "76123456" not in caplog.text
    assert metric_sample("kuma_webhook_requests_total", **labels) == before + 2


def test_a_form_sent_as_multipart_is_read_as_flask_would(client):
    response = client.post(PATH, data=USSD, content_type="multipart/form-data")
    assert response.status_code == 200 and response.text.startswith("CON ")


def test_other_paths_still_reach_flask(client):
    assert client.get("/healthz").status_code in (200, 503)
    assert client.post(PATH + "/").status_code == 404  # not the endpoint: Flask's 404


def test_a_busy_session_asks_the_aggregator_to_retry(client, monkeypatch):
    def busy(self, request):
        raise SessionBusyError("USSD session ATUid_endpoint kept changing under us")

    monkeypatch.setattr(Runner, "handle_ussd", busy)
    response = client.post(PATH, data=USSD)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"


def test_a_session_whose_flow_version_is_gone_ends_politely(client, services, caplog):
    client.post(PATH, data=USSD)
    key = services.store.key("session", channel="ussd", id=USSD["sessionId"])
    state = services.redis.get(key).decode().replace('"version":"', '"version":"gone-', 1)
    services.redis.set(key, state)

    response = client.post(PATH, data={**USSD, "text": "1"})

    assert response.status_code == 200
    assert response.text.startswith("END ") and "disponible" in response.text
    assert "cannot go on" in caplog.text


def test_a_redis_outage_ends_the_screen_with_an_apology_and_a_traceback_in_the_log(
        services_with, closed_port, caplog):
    services = services_with(redis_url=f"redis://127.0.0.1:{closed_port}/0")
    client = create_app(services.settings, services=services).test_client()
    before = metric_sample("kuma_failures_total", kind="webhook_error")

    response = client.post(PATH, data=USSD)

    assert response.status_code == 200
    assert response.text.startswith("END ") and "Désolé" in response.text
    failure = next(r for r in caplog.records if "failed" in r.getMessage())
    assert failure.exc_info is not None  # the cause is in the log, in full
    assert metric_sample("kuma_failures_total", kind="webhook_error") == before + 1
