"""Delivery reports move a message's status forward only, and carry opt-outs."""

from __future__ import annotations

import pytest

from gateway.sms import delivery, send, senders
from gateway.channels import twilio
from gateway.channels.base import LogSender
from gateway.models import MessageStatus
from tests.sms.support import PHONE, add_contact, add_message, contact, message


@pytest.fixture
def sent(services, at_standin, at_settings):
    """Send one SMS through the AT stand-in; return (message id, provider message id)."""
    sender = senders.sender_for(at_settings)
    message_id = add_message(services, add_contact(services))
    send.deliver(services, message_id, sender=sender)
    sender.close()
    return message_id, message(services, message_id).provider_message_id


def report(services, provider_id, status, *, provider="africastalking", error_code=None,
           reason=None, opted_out=False):
    return delivery.apply_delivery(services, provider, provider_id, status, error_code, reason,
                                   opted_out)


def test_statuses_move_forward_and_never_back(services, sent):
    message_id, provider_id = sent

    assert report(services, provider_id, "delivered") is MessageStatus.DELIVERED
    # A late "sent" (reports arrive out of order) does not undo the delivery.
    assert report(services, provider_id, "sent") is MessageStatus.DELIVERED
    assert report(services, provider_id, "failed", reason="DeliveryFailure") \
        is MessageStatus.DELIVERED
    assert message(services, message_id).status is MessageStatus.DELIVERED


def test_a_delivery_after_a_failure_report_wins(services, sent):
    message_id, provider_id = sent

    assert report(services, provider_id, "failed", reason="AbsentSubscriber") \
        is MessageStatus.FAILED
    assert message(services, message_id).error_code == "AbsentSubscriber"
    assert report(services, provider_id, "delivered") is MessageStatus.DELIVERED


def test_a_report_of_another_provider_or_an_unknown_id_changes_nothing(services, sent):
    message_id, provider_id = sent

    assert report(services, provider_id, "delivered", provider="twilio") is None
    assert report(services, "ATXid_unknown", "delivered") is None
    assert message(services, message_id).status is MessageStatus.SENT


def test_an_opt_out_report_opts_the_contact_out(services):
    contact_id = add_contact(services)
    message_id = add_message(services, contact_id)
    send.deliver(services, message_id, sender=LogSender())
    provider_id = message(services, message_id).provider_message_id
    # What the Twilio status webhook parses out of a 21610 failure.
    parsed = twilio.parse_status({"MessageSid": "SM" + "a" * 32, "MessageStatus": "failed",
                                  "ErrorCode": "21610"})

    status = report(services, provider_id, str(parsed.status), provider="log",
                    error_code=parsed.error_code, reason=parsed.failure_reason,
                    opted_out=parsed.opted_out)

    # "logged" is final: the message keeps it, but the contact is opted out all the same.
    assert status is MessageStatus.LOGGED
    assert contact(services, contact_id).opted_out
    assert services.store.is_opted_out(services.vault.hash(PHONE))


def test_an_opt_out_report_marks_a_sent_message(services, sent):
    message_id, provider_id = sent

    status = report(services, provider_id, "failed", reason="UserInBlacklist", opted_out=True)

    assert status is MessageStatus.OPTED_OUT
    assert message(services, message_id).error_code == "UserInBlacklist"
    assert services.store.is_opted_out(services.vault.hash(PHONE))
