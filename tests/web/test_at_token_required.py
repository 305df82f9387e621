"""Africa's Talking webhooks need AT_WEBHOOK_TOKEN, except under `gateway serve` on loopback.

Issue 12, item 4: with no AT credentials set (a gateway that only receives USSD) the
webhooks were open to anyone. Now they answer 403 and the log names the missing setting;
the settings check at start (create_app) says it too.
"""

from __future__ import annotations

import logging

import pytest

from gateway.app import create_app
from tests.integration.conftest import services  # noqa: F401

USSD = {"sessionId": "ATUid_open", "serviceCode": "*384*123*07#", "phoneNumber": "+22376123456",
        "networkCode": "61001", "text": ""}
SMS = {"from": "+22376123456", "to": "36010", "text": "STOP", "date": "2026-11-27 10:00:00",
       "id": "ATXid_open", "linkId": "", "networkCode": "61001"}
OPT_OUT = {"senderId": "KUMA", "phoneNumber": "+22376123456"}
ROUTES = [("/ussd", USSD), ("/sms", SMS), ("/optout", OPT_OUT)]


@pytest.fixture
def settings(settings):
    """No AT token, and not `gateway serve` on loopback: as under gunicorn with no token."""
    return settings.replace(at_webhook_token=None, at_webhook_open_on_loopback=False)


@pytest.mark.parametrize("path,form", ROUTES, ids=[route[0] for route in ROUTES])
def test_without_the_token_setting_at_webhooks_are_refused_and_logged(
        settings, services, caplog, path, form):
    client = create_app(settings, services=services).test_client()
    before = set(services.redis.keys("*"))
    caplog.clear()

    response = client.post(f"/webhooks/africastalking{path}", data=form)

    assert response.status_code == 403
    assert "AT_WEBHOOK_TOKEN is not set" in response.text
    assert any("AT_WEBHOOK_TOKEN is not set" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)
    assert set(services.redis.keys("*")) == before and services.queue.count == 0
    assert not services.store.is_opted_out(services.vault.hash("+22376123456"))


def test_the_settings_check_at_start_says_which_setting_is_missing(settings, services, caplog):
    with caplog.at_level(logging.WARNING):
        create_app(settings, services=services)
    assert any("AT_WEBHOOK_TOKEN is not set" in r.getMessage() and "refused" in r.getMessage()
               for r in caplog.records)


def test_gateway_serve_on_loopback_takes_them_from_this_machine_only(settings, services):
    open_settings = settings.replace(at_webhook_open_on_loopback=True)
    services.settings = open_settings  # the USSD endpoint's provider is built from them
    client = create_app(open_settings, services=services).test_client()

    mine = client.post("/webhooks/africastalking/ussd", data=USSD)
    other = client.post("/webhooks/africastalking/ussd", data={**USSD, "sessionId": "b"},
                        environ_base={"REMOTE_ADDR": "203.0.113.7"})

    assert mine.status_code == 200 and mine.text.startswith("CON ")
    assert other.status_code == 403
