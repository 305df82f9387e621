"""Control characters at the door, the same on every endpoint (issue 12, item 1).

An identifier holding one (NUL included) is a 400 naming the field, and changes nothing;
free text has them removed (tabs and line breaks kept), so what reaches SQL never holds a
NUL, which PostgreSQL's text refuses. Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from gateway.models import Answer, SurveySession
from tests.integration.test_sms_conversations import PHONE, sms

TWILIO_TOKEN = "twilio-auth-token"
USSD = {"sessionId": "ATUid_ctl", "serviceCode": "*384*123*07#", "phoneNumber": PHONE,
        "networkCode": "61001", "text": ""}
AT_SMS = {"from": PHONE, "to": "36010", "text": "AVIS 07", "date": "2026-11-27 10:00:00",
          "id": "ATXid_ctl", "linkId": "", "networkCode": "61001"}
DELIVERY = {"id": "ATXid_9", "status": "Success", "phoneNumber": PHONE, "networkCode": "61001",
            "failureReason": "", "retryCount": "0"}
EVENT = {"sessionId": "ATUid_ctl", "phoneNumber": PHONE, "status": "Incomplete",
         "durationInMillis": "3000"}
OPT_OUT = {"senderId": "KUMA", "phoneNumber": PHONE}
TWILIO_SMS = {"From": PHONE, "To": "+15005550006", "Body": "AVIS 07",
              "MessageSid": "SM" + "a" * 32, "AccountSid": "AC" + "b" * 32}
TWILIO_STATUS = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered",
                 "AccountSid": "AC" + "b" * 32, "To": PHONE}

# label, path, form, the field the 400 names
IDENTIFIERS = [
    ("NUL in a USSD sessionId", "africastalking/ussd", {**USSD, "sessionId": "ATUid_\x00"},
     "sessionId"),
    ("NUL in a USSD phoneNumber", "africastalking/ussd", {**USSD, "phoneNumber": PHONE + "\x00"},
     "phoneNumber"),
    ("escape in a USSD serviceCode", "africastalking/ussd",
     {**USSD, "serviceCode": "*384*123#\x1b"}, "serviceCode"),
    ("NUL in an AT SMS id", "africastalking/sms", {**AT_SMS, "id": "ATXid_\x00"}, "id"),
    ("NUL in an AT SMS from", "africastalking/sms", {**AT_SMS, "from": "\x00" + PHONE}, "from"),
    ("NUL in a delivery report id", "africastalking/delivery", {**DELIVERY, "id": "AT\x00"},
     "id"),
    ("NUL in a session notice's sessionId", "africastalking/ussd/events",
     {**EVENT, "sessionId": "ATUid\x00"}, "sessionId"),
    ("NUL in an opt-out phoneNumber", "africastalking/optout",
     {**OPT_OUT, "phoneNumber": PHONE + "\x00"}, "phoneNumber"),
    ("NUL in a Twilio MessageSid", "twilio/sms", {**TWILIO_SMS, "MessageSid": "SM\x00"},
     "MessageSid"),
    ("C1 control in a Twilio status MessageSid", "twilio/status",
     {**TWILIO_STATUS, "MessageSid": "SM\x85"}, "MessageSid"),
]


@pytest.fixture
def settings(settings):
    return settings.replace(twilio_account_sid="AC" + "b" * 32, twilio_auth_token=TWILIO_TOKEN,
                            twilio_from="+15005550006")


@pytest.mark.parametrize("label,path,form,field", IDENTIFIERS, ids=[c[0] for c in IDENTIFIERS])
def test_an_identifier_holding_a_control_character_is_a_400_naming_it(
        client, services, label, path, form, field):
    url = f"http://localhost/webhooks/{path}"
    headers = ({"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)}
               if path.startswith("twilio/") else {})
    before = set(services.redis.keys("*"))

    response = client.post(url, data=form, headers=headers)

    assert response.status_code == 400, response.text
    assert f"'{field}'" in response.text and "control character" in response.text
    assert set(services.redis.keys("*")) == before and services.queue.count == 0


def test_percent_00_in_a_ussd_session_id_is_a_400(client, services):
    body = (b"sessionId=ATUid_%00&serviceCode=%2A384%2A123%2A07%23&phoneNumber=%2B22376123456"
            b"&networkCode=61001&text=")
    response = client.post("/webhooks/africastalking/ussd", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "'sessionId' holds a control character" in response.text


def test_a_nul_in_sms_text_is_stored_without_it_and_filing_goes_on(client, services, drain):
    sms(client, "AVIS 07")
    for answer in ["2", "awɔ", "kelen", "ayi", "1", "AWO", "1", "1", "1", "1", "2", "1",
                   "A ka di\x00 n ye\tkosɛbɛ\x07"]:
        sms(client, answer)
    sms(client, "AVIS 07", phone="+22376123457")  # another mother, after her
    drain()
    with services.sessionmaker() as db:
        answers = {a.step_id: a.raw for a in db.scalars(sa.select(Answer))}
        assert answers["comment"] == "A ka di n ye\tkosɛbɛ"
        assert db.scalar(sa.select(sa.func.count(SurveySession.id))) == 2
    assert services.redis.llen("kuma:events") == 0
    assert services.redis.hlen("kuma:events:dead") == 0


def test_a_nul_typed_in_a_ussd_answer_is_removed(client, services, drain):
    post = lambda text: client.post("/webhooks/africastalking/ussd",  # noqa: E731
                                    data=MultiDict({**USSD, "text": text}))
    assert post("").text.startswith("CON ")
    response = post("1\x00")
    assert response.status_code == 200 and response.text.startswith("CON ")
    drain()
    with services.sessionmaker() as db:
        assert all("\x00" not in a.raw for a in db.scalars(sa.select(Answer)))
