"""Replies leave through the providers' real SDKs (to loopback stand-ins), and the
providers' delivery webhooks move each message's status and opt contacts out."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from gateway.models import Contact, OutboundMessage
from tests.channels.standins import AfricasTalkingStandIn, TwilioStandIn
from tests.integration.test_sms_conversations import PHONE

TOKEN = "at-hook-token"


@pytest.fixture
def at_standin():
    with AfricasTalkingStandIn(username="kuma", api_key="at-key") as standin:
        yield standin


@pytest.fixture
def twilio_standin():
    with TwilioStandIn() as standin:
        yield standin


@pytest.fixture
def settings(settings, at_standin, twilio_standin):
    """Both providers configured against their stand-ins; outbound through AT."""
    return settings.replace(
        sms_outbox="provider", sms_provider="africastalking", at_username="kuma",
        at_api_key="at-key", at_sender="KUMA", at_api_base=at_standin.url,
        at_webhook_token=TOKEN, twilio_account_sid=twilio_standin.account_sid,
        twilio_auth_token=twilio_standin.auth_token, twilio_from="+15005550006",
        twilio_api_base=twilio_standin.url)


@pytest.fixture
def provider_environment(monkeypatch, settings, worker_environment):
    """The worker's environment, with the providers as the test's settings have them."""
    for name, value in {"SMS_OUTBOX": "provider", "SMS_PROVIDER": "africastalking",
                        "AT_USERNAME": "kuma", "AT_API_KEY": "at-key", "AT_SENDER": "KUMA",
                        "AT_WEBHOOK_TOKEN": TOKEN,
                        "AT_API_BASE": settings.at_api_base,
                        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
                        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
                        "TWILIO_FROM": settings.twilio_from,
                        "TWILIO_API_BASE": settings.twilio_api_base}.items():
        monkeypatch.setenv(name, value)


def at_sms(client, text: str, message_id: str) -> None:
    response = client.post(f"/webhooks/africastalking/sms?token={TOKEN}", data={
        "from": PHONE, "to": "36010", "text": text, "date": "2026-11-27 10:00:00",
        "id": message_id, "linkId": "", "networkCode": "61001"})
    assert response.status_code == 200


def test_a_reply_goes_out_through_the_sdk_and_its_delivery_report_lands(
        client, services, drain, at_standin, provider_environment):
    at_sms(client, "AVIS 07", "ATXid_in_1")
    drain()
    sent = [r for r in at_standin.requests if r.path.endswith("/messaging")]
    assert len(sent) == 1
    assert sent[0].form["to"] == PHONE and sent[0].form["from"] == "KUMA"
    assert sent[0].form["message"].startswith("Choisissez votre langue")
    assert sent[0].headers["apikey"] == "at-key"
    with services.sessionmaker() as db:
        message = db.scalars(sa.select(OutboundMessage)).one()
        assert message.status == "sent" and message.provider == "africastalking"
        assert message.provider_message_id.startswith("ATXid_")
    response = client.post(f"/webhooks/africastalking/delivery?token={TOKEN}", data={
        "id": message.provider_message_id, "status": "Success", "phoneNumber": PHONE,
        "networkCode": "61001", "failureReason": "", "retryCount": "0"})
    assert response.status_code == 200
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(OutboundMessage.status)).one() == "delivered"


def test_a_provider_blacklist_report_opts_the_mother_out(client, services, drain,
                                                        at_standin, provider_environment):
    at_sms(client, "AVIS 07", "ATXid_in_2")
    drain()
    with services.sessionmaker() as db:
        message = db.scalars(sa.select(OutboundMessage)).one()
    client.post(f"/webhooks/africastalking/delivery?token={TOKEN}", data={
        "id": message.provider_message_id, "status": "Rejected", "phoneNumber": PHONE,
        "networkCode": "61001", "failureReason": "UserInBlacklist", "retryCount": "0"})
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(Contact.opted_out_at)).one() is not None
    assert services.store.is_opted_out(services.vault.hash(PHONE))
    at_sms(client, "1", "ATXid_in_3")  # her answer: writing again opts her back in
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(Contact.opted_out_at)).one() is None


def test_twilio_21610_in_a_status_callback_opts_the_contact_out(
        client, services, drain, twilio_standin, provider_environment, monkeypatch):
    monkeypatch.setenv("SMS_PROVIDER", "twilio")
    url = "http://localhost/webhooks/twilio/sms"
    form = {"From": PHONE, "To": "+15005550006", "Body": "AVIS 07",
            "MessageSid": "SM" + "1" * 32, "AccountSid": twilio_standin.account_sid}
    signature = RequestValidator(twilio_standin.auth_token).compute_signature(url, form)
    assert client.post(url, data=form, headers={"X-Twilio-Signature": signature}
                       ).status_code == 200
    drain()
    sent = [r for r in twilio_standin.requests if r.path.endswith("/Messages.json")]
    assert len(sent) == 1 and sent[0].form["To"] == PHONE
    with services.sessionmaker() as db:
        message = db.scalars(sa.select(OutboundMessage)).one()
    status_url = "http://localhost/webhooks/twilio/status"
    callback = {"MessageSid": message.provider_message_id, "MessageStatus": "failed",
                "ErrorCode": "21610", "AccountSid": twilio_standin.account_sid, "To": PHONE}
    signature = RequestValidator(twilio_standin.auth_token).compute_signature(status_url,
                                                                              callback)
    assert client.post(status_url, data=callback,
                       headers={"X-Twilio-Signature": signature}).status_code == 200
    drain()
    with services.sessionmaker() as db:
        assert db.scalars(sa.select(Contact.opted_out_at)).one() is not None
