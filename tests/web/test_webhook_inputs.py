"""Bad input on every webhook: a clear 4xx (or a polite END), never a 500, nothing changed."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from tests.integration.conftest import client, drain, services, worker_environment  # noqa: F401

TOKEN = "s3cret-token"
TWILIO_TOKEN = "twilio-auth-token"
USSD = {"sessionId": "ATUid_bad", "serviceCode": "*384*123*07#", "phoneNumber": "+22376123456",
        "networkCode": "61001", "text": ""}
SMS = {"from": "+22376123456", "to": "36010", "text": "AVIS 07", "date": "2026-11-27 10:00:00",
       "id": "ATXid_1", "linkId": "", "networkCode": "61001"}
DELIVERY = {"id": "ATXid_9", "status": "Success", "phoneNumber": "+22376123456",
            "networkCode": "61001", "failureReason": "", "retryCount": "0"}
EVENT = {"sessionId": "ATUid_bad", "serviceCode": "*384*123#", "phoneNumber": "+22376123456",
         "networkCode": "61001", "status": "Incomplete", "durationInMillis": "3000",
         "cost": "KES 0.00", "input": "1*2", "date": "2026-11-27 10:00:00",
         "lastAppResponse": "CON ...", "errorMessage": ""}
VOICE = {"isActive": "1", "sessionId": "ATVId_bad", "direction": "Outbound",
         "callerNumber": "+22376123456", "destinationNumber": "+22320000000"}
TWILIO_SMS = {"From": "+22376123456", "To": "+15005550006", "Body": "AVIS 07",
              "MessageSid": "SM" + "a" * 32, "AccountSid": "AC" + "b" * 32, "NumMedia": "0"}
TWILIO_STATUS = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered",
                 "AccountSid": "AC" + "b" * 32, "To": "+22376123456"}


@pytest.fixture
def settings(settings):
    """Settings with both providers' webhook secrets configured."""
    return settings.replace(at_webhook_token=TOKEN, twilio_account_sid="AC" + "b" * 32,
                            twilio_auth_token=TWILIO_TOKEN, twilio_from="+15005550006")


def without(form: dict, field: str) -> dict:
    return {k: v for k, v in form.items() if k != field}


AT_CASES = [
    # label, path, form, expected status
    ("ussd without sessionId", "/ussd", without(USSD, "sessionId"), 400),
    ("ussd without phoneNumber", "/ussd", without(USSD, "phoneNumber"), 400),
    ("ussd with a phone that is no number", "/ussd", {**USSD, "phoneNumber": "abc"}, 400),
    ("ussd with an empty sessionId", "/ussd", {**USSD, "sessionId": ""}, 400),
    ("ussd with an over-long sessionId", "/ussd", {**USSD, "sessionId": "x" * 5000}, 400),
    ("sms without from", "/sms", without(SMS, "from"), 400),
    ("sms without id", "/sms", without(SMS, "id"), 400),
    ("sms with a bad phone", "/sms", {**SMS, "from": "12"}, 400),
    ("delivery without id", "/delivery", without(DELIVERY, "id"), 400),
    ("delivery with an unknown status", "/delivery", {**DELIVERY, "status": "Exploded"}, 400),
    ("ussd event without sessionId", "/ussd/events", without(EVENT, "sessionId"), 400),
    ("ussd event with an unknown status", "/ussd/events", {**EVENT, "status": "Weird"}, 400),
    ("voice without sessionId", "/voice", without(VOICE, "sessionId"), 400),
    ("voice without isActive", "/voice", without(VOICE, "isActive"), 400),
    ("voice with isActive neither 1 nor 0", "/voice", {**VOICE, "isActive": "yes"}, 400),
    ("voice without direction", "/voice", without(VOICE, "direction"), 400),
    ("voice with an unknown direction", "/voice", {**VOICE, "direction": "Sideways"}, 400),
    ("voice without callerNumber", "/voice", without(VOICE, "callerNumber"), 400),
    ("voice with a caller that is no number", "/voice", {**VOICE, "callerNumber": "abc"}, 400),
    ("voice with keys no phone has", "/voice", {**VOICE, "dtmfDigits": "12ab"}, 400),
    ("voice with over-long keys", "/voice", {**VOICE, "dtmfDigits": "1" * 500}, 400),
    ("voice end with a cost that is no number", "/voice",
     {**VOICE, "isActive": "0", "amount": "lots"}, 400),
    ("voice end with a negative duration", "/voice",
     {**VOICE, "isActive": "0", "durationInSeconds": "-4"}, 400),
]


def redis_snapshot(services) -> set[bytes]:
    return set(services.redis.keys("*"))


@pytest.mark.parametrize("label,path,form,status", AT_CASES, ids=[c[0] for c in AT_CASES])
def test_malformed_africastalking_webhooks_get_a_4xx_and_change_nothing(
        client, services, caplog, label, path, form, status):
    before = redis_snapshot(services)
    response = client.post(f"/webhooks/africastalking{path}?token={TOKEN}", data=form)
    assert response.status_code == status, response.text
    assert response.text.strip()  # says why
    assert redis_snapshot(services) == before
    assert services.queue.count == 0
    assert any("refused" in r.getMessage() for r in caplog.records)
    assert "76123456" not in caplog.text  # never a whole phone number in the logs


@pytest.mark.parametrize("path,form", [("/ussd", USSD), ("/sms", SMS), ("/delivery", DELIVERY),
                                       ("/ussd/events", EVENT), ("/voice", VOICE)])
@pytest.mark.parametrize("token", [None, "wrong"])
def test_africastalking_webhooks_without_the_token_are_forbidden(client, services, path, form,
                                                                 token):
    before = redis_snapshot(services)
    query = f"?token={token}" if token else ""
    response = client.post(f"/webhooks/africastalking{path}{query}", data=form)
    assert response.status_code == 403
    assert redis_snapshot(services) == before and services.queue.count == 0


def test_a_huge_body_is_refused(client, services):
    response = client.post(f"/webhooks/africastalking/ussd?token={TOKEN}",
                           data={**USSD, "text": "1*" * 100_000})
    assert response.status_code == 413
    assert services.queue.count == 0


def test_invalid_utf8_is_not_a_500(client, services):
    body = (b"sessionId=ATUid_utf&serviceCode=%2A384%2A123%2A07%23&phoneNumber=%2B22376123456"
            b"&networkCode=61001&text=\xff\xfe%C3")
    response = client.post(f"/webhooks/africastalking/ussd?token={TOKEN}", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500
    if response.status_code == 200:
        assert response.text.startswith(("CON ", "END "))


def test_wrong_types_and_methods(client):
    assert client.get(f"/webhooks/africastalking/ussd?token={TOKEN}").status_code == 405
    response = client.post(f"/webhooks/africastalking/ussd?token={TOKEN}", json=USSD)
    assert response.status_code == 400  # a JSON body is not AT's form


def test_an_unknown_centre_extension_asks_for_the_centre(client, services):
    response = client.post(f"/webhooks/africastalking/ussd?token={TOKEN}",
                           data={**USSD, "serviceCode": "*384*123*99#", "sessionId": "u1"})
    assert response.status_code == 200
    for text in ("1", "1*1"):
        screen = client.post(f"/webhooks/africastalking/ussd?token={TOKEN}",
                             data={**USSD, "serviceCode": "*384*123*99#", "sessionId": "u1",
                                   "text": text}).text
    assert screen.startswith("CON ") and "CSCom" in screen


def test_a_request_for_a_session_that_expired_ends_politely(client, services):
    post = lambda text: client.post(f"/webhooks/africastalking/ussd?token={TOKEN}",  # noqa
                                    data={**USSD, "sessionId": "old", "text": text})
    post("")
    services.redis.delete(services.store.key("session", channel="ussd", id="old"))
    response = post("1")
    assert response.status_code == 200
    assert response.text.startswith("END ") and "expir" in response.text


def _signed(url: str, form: dict) -> dict:
    return {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)}


@pytest.mark.parametrize("path,form", [("/sms", TWILIO_SMS), ("/status", TWILIO_STATUS)])
def test_twilio_webhooks_need_a_valid_signature(client, services, path, form):
    before = redis_snapshot(services)
    url = f"http://localhost/webhooks/twilio{path}"
    assert client.post(url, data=form).status_code == 403
    assert client.post(url, data=form, headers={"X-Twilio-Signature": "bad"}).status_code == 403
    tampered = _signed(url, form)
    assert client.post(url, data={**form, "Body": "STOP"}, headers=tampered).status_code == 403
    assert redis_snapshot(services) == before and services.queue.count == 0


def test_twilio_malformed_but_signed_is_a_400(client, services):
    url = "http://localhost/webhooks/twilio/sms"
    form = without(TWILIO_SMS, "From")
    response = client.post(url, data=form, headers=_signed(url, form))
    assert response.status_code == 400
    assert services.queue.count == 0


def test_twilio_signed_sms_is_accepted_with_empty_twiml(client, services):
    url = "http://localhost/webhooks/twilio/sms"
    response = client.post(url, data=TWILIO_SMS, headers=_signed(url, TWILIO_SMS))
    assert response.status_code == 200
    assert response.mimetype == "text/xml" and "<Response" in response.text
    assert services.queue.count == 1


def test_an_sms_for_a_session_that_cannot_go_on_is_taken_not_retried(client, services,
                                                                     caplog):
    phone_hash = services.vault.hash("+22376123456")
    services.store.save("sms", phone_hash, {"flow": "maternal_care", "version": "gone",
                                            "status": "active", "step": "visit"}, ttl=600)
    response = client.post(f"/webhooks/africastalking/sms?token={TOKEN}", data=SMS)
    assert response.status_code == 200  # a retry would fail the same way
    assert "cannot go on" in caplog.text
    assert services.queue.count == 0
