"""AfricasTalkingSender through the real SDK against the loopback stand-in."""

from __future__ import annotations

import contextlib
import logging
import socket
import time

import pytest

from gateway.channels.africastalking import AfricasTalkingSender
from gateway.channels.base import MessageStatus
from gateway.errors import RecipientOptedOutError, SendError

PHONE = "+22376123456"


@pytest.fixture
def sender(at_standin):
    sender = AfricasTalkingSender("kuma", "at-test-key", "KUMA", api_base=at_standin.url,
                                  timeout=0.5)
    yield sender
    sender.close()


def test_send_posts_the_sdk_request_and_reads_the_answer(at_standin, sender):
    result = sender.send(PHONE, "Bonjour, votre avis compte.")

    [request] = at_standin.requests
    assert (request.method, request.path) == ("POST", "/version1/messaging")
    assert request.headers["apikey"] == "at-test-key"
    assert request.headers["accept"] == "application/json"
    assert request.form == {"username": "kuma", "to": PHONE, "from": "KUMA",
                            "message": "Bonjour, votre avis compte.", "bulkSMSMode": "1"}
    assert result.provider == "africastalking"
    assert result.message_id.startswith("ATXid_")
    assert result.status is MessageStatus.SENT
    assert result.cost == "XOF 15.0000"


def test_send_without_sender_id_leaves_from_out(at_standin):
    sender = AfricasTalkingSender("kuma", "at-test-key", None, api_base=at_standin.url)
    try:
        sender.send(PHONE, "Test")
    finally:
        sender.close()
    assert "from" not in at_standin.requests[0].form


def test_send_logs_the_masked_number_only(at_standin, sender, caplog):
    with caplog.at_level(logging.INFO, logger="gateway.channels"):
        sender.send(PHONE, "Bonjour")
    assert "+223******56" in caplog.text
    assert "76123456" not in caplog.text


@pytest.mark.parametrize(("code", "status", "retryable", "error"), [
    (401, "RiskHold", False, SendError),
    (402, "InvalidSenderId", False, SendError),
    (403, "InvalidPhoneNumber", False, SendError),
    (404, "UnsupportedNumberType", False, SendError),
    (405, "InsufficientBalance", True, SendError),
    (406, "UserInBlacklist", False, RecipientOptedOutError),
    (407, "CouldNotRoute", True, SendError),
    (500, "InternalServerError", True, SendError),
    (501, "GatewayError", True, SendError),
    (502, "RejectedByGateway", False, SendError),
])
def test_recipient_status_codes(at_standin, sender, code, status, retryable, error):
    at_standin.reject_next(code, status)
    with pytest.raises(error, match=status) as caught:
        sender.send(PHONE, "Test")
    assert type(caught.value) is error
    assert caught.value.retryable is retryable
    assert caught.value.provider_code == str(code)
    assert "76123456" not in str(caught.value)


@pytest.mark.parametrize(("code", "status", "expected"), [
    (100, "Processed", MessageStatus.QUEUED),
    (102, "Queued", MessageStatus.QUEUED),
])
def test_accepted_status_codes(at_standin, sender, code, status, expected):
    at_standin.reject_next(code, status)
    assert sender.send(PHONE, "Test").status is expected


@pytest.mark.parametrize(("http", "retryable"), [(500, True), (503, True), (429, True),
                                                 (400, False)])
def test_http_errors(at_standin, sender, http, retryable):
    at_standin.answer_next(http, "Something went wrong")
    with pytest.raises(SendError, match=f"HTTP {http}") as caught:
        sender.send(PHONE, "Test")
    assert caught.value.retryable is retryable


def test_wrong_api_key_is_not_retryable(at_standin):
    sender = AfricasTalkingSender("kuma", "wrong-key", "KUMA", api_base=at_standin.url)
    with contextlib.closing(sender), \
            pytest.raises(SendError, match="401.*authentication is invalid") as caught:
        sender.send(PHONE, "Test")
    assert caught.value.retryable is False


def test_refusal_of_the_whole_request(at_standin, sender):
    at_standin.answer_next(201, {"SMSMessageData": {"Message": "InvalidSenderId",
                                                    "Recipients": []}})
    with pytest.raises(SendError, match="InvalidSenderId") as caught:
        sender.send(PHONE, "Test")
    assert caught.value.retryable is False


def test_unreadable_answer_is_not_retried(at_standin, sender):
    # The SMS may have gone out: retrying could send it twice.
    at_standin.answer_next(201, {"unexpected": True})
    with pytest.raises(SendError, match="unreadable") as caught:
        sender.send(PHONE, "Test")
    assert caught.value.retryable is False


def test_hung_provider_times_out_as_retryable(at_standin, sender):
    at_standin.delay_next(3)
    started = time.monotonic()
    with pytest.raises(SendError, match="unreachable: ReadTimeout") as caught:
        sender.send(PHONE, "Test")
    assert time.monotonic() - started < 2
    assert caught.value.retryable is True


def test_connection_refused_is_retryable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sender = AfricasTalkingSender("kuma", "k", None, api_base=f"http://127.0.0.1:{port}")
    with contextlib.closing(sender), pytest.raises(SendError, match="unreachable") as caught:
        sender.send(PHONE, "Test")
    assert caught.value.retryable is True


@pytest.mark.parametrize("number", ["76123456", "+223 76 12 34 56", ""])
def test_number_not_in_e164_is_refused_before_any_request(at_standin, sender, number):
    with pytest.raises(SendError, match="not an E.164 number") as caught:
        sender.send(number, "Test")
    assert caught.value.retryable is False
    assert at_standin.requests == []


@pytest.mark.parametrize(("username", "host"), [("sandbox", "api.sandbox.africastalking.com"),
                                                ("kuma", "api.africastalking.com")])
def test_without_api_base_the_sdk_picks_its_host(username, host):
    sender = AfricasTalkingSender(username, "k", None)
    try:
        assert sender._service._make_url("/messaging") == f"https://{host}/version1/messaging"
    finally:
        sender.close()
