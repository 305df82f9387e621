"""While Redis is down every webhook answers 503 with Retry-After, never 500, and a USSD
screen ends with an apology in French and Bambara (issue 12, item 7).

A redis-server of the test's own, on a free port, is stopped mid-survey, as
tests/integration/test_faults.py does.
"""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from gateway.app import create_app
from gateway.engine import gsm
from gateway.runner import Runner
from gateway.services import Services
from tests.integration.test_faults import RedisProcess

PHONE = "+22376123456"
TWILIO_TOKEN = "twilio-auth-token"
WEBHOOKS = [
    ("USSD session end", "africastalking/ussd/events",
     {"sessionId": "ATUid_down", "phoneNumber": PHONE, "status": "Incomplete"}),
    ("AT incoming SMS", "africastalking/sms",
     {"from": PHONE, "to": "36010", "text": "AVIS 07", "id": "ATXid_down"}),
    ("AT delivery report", "africastalking/delivery",
     {"id": "ATXid_9", "status": "Success", "phoneNumber": PHONE}),
    ("AT opt-out", "africastalking/optout", {"senderId": "KUMA", "phoneNumber": PHONE}),
    ("Twilio incoming SMS", "twilio/sms",
     {"From": PHONE, "To": "+15005550006", "Body": "AVIS 07", "MessageSid": "SM" + "a" * 32}),
    ("Twilio status callback", "twilio/status",
     {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered", "To": PHONE}),
]


@pytest.fixture
def down(tmp_path, settings):
    """Return a client of a gateway whose own Redis has just been stopped."""
    server = RedisProcess(tmp_path)
    server.start()
    own = settings.replace(redis_url=server.url, twilio_account_sid="AC" + "b" * 32,
                           twilio_auth_token=TWILIO_TOKEN, twilio_from="+15005550006")
    services = Services.build(own)
    client = create_app(own, services=services).test_client()
    ussd = {"sessionId": "ATUid_down", "serviceCode": "*384*123#", "phoneNumber": PHONE,
            "networkCode": "61001", "text": ""}
    assert client.post("/webhooks/africastalking/ussd", data=ussd).text.startswith("CON ")
    server.stop()
    yield client, services
    services.close()


@pytest.mark.parametrize("label,path,form", WEBHOOKS, ids=[w[0] for w in WEBHOOKS])
def test_every_webhook_answers_503_with_retry_after_while_redis_is_down(down, label, path,
                                                                        form):
    client, _ = down
    url = f"http://localhost/webhooks/{path}"
    headers = ({"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)}
               if path.startswith("twilio/") else {})

    response = client.post(url, data=form, headers=headers)

    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0


def test_a_ussd_screen_ends_with_the_apology_in_both_languages(down):
    client, services = down

    response = client.post("/webhooks/africastalking/ussd", data={
        "sessionId": "ATUid_down", "serviceCode": "*384*123#", "phoneNumber": PHONE,
        "networkCode": "61001", "text": "1"})

    assert response.status_code == 200
    assert response.text.startswith("END ")
    assert "Désolé" in response.text and "Hakèto" in response.text  # French, then Bambara


def test_the_two_language_apologies_fit_one_ussd_screen(services):
    runner = Runner(services)
    for key in ("error", "unavailable", "expired"):
        body = runner.ussd.render(runner.in_both_languages(key), True)
        assert len(body) <= 182, (key, len(body))
        assert gsm.is_gsm7(body), body
