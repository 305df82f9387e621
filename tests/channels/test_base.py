"""Shared channel values: statuses, masking, field helpers and the log-only sender."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from gateway.channels.base import (LogSender, MessageStatus, int_field, mask_phone, text_field,
                                   time_field)
from gateway.errors import ChannelRequestError


def test_message_statuses_are_the_ones_internals_lists():
    assert [s.value for s in MessageStatus] == [
        "queued", "sent", "delivered", "failed", "undelivered", "rejected", "opted_out",
        "dry_run", "logged"]
    assert MessageStatus("delivered") == "delivered"


@pytest.mark.parametrize(("phone", "masked"), [
    ("+22376123456", "+223******56"),
    ("+15005550006", "+1********06"),
    ("+254711082300", "+254*******00"),
    ("22376123456", "+223******56"),
    ("+999123456789", "**********89"),
    ("", "<none>"),
    (None, "<none>"),
])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_log_sender_logs_a_masked_line_and_sends_nothing(caplog):
    sender = LogSender()
    with caplog.at_level(logging.INFO, logger="gateway.channels"):
        result = sender.send("+22376123456", "Résumé de la semaine")
    sender.close()
    assert result.provider == "log"
    assert result.status is MessageStatus.LOGGED
    assert result.message_id.startswith("log-")
    assert result.cost is None
    assert "+223******56" in caplog.text
    assert "76123456" not in caplog.text
    assert "Résumé" not in caplog.text
    assert sender.send("+22376123456", "x").message_id != result.message_id


@pytest.mark.parametrize(("form", "kwargs", "expected"), [
    ({"a": "x"}, {}, "x"),
    ({}, {"required": False}, None),
    ({"a": ""}, {"required": False}, None),
    ({"a": ""}, {"allow_empty": True}, ""),
    ({"a": "abc"}, {"max_length": 3}, "abc"),
])
def test_text_field(form, kwargs, expected):
    assert text_field(form, "a", **kwargs) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-05 10:31:00", datetime(2024, 3, 5, 10, 31, tzinfo=timezone.utc)),
    ("2024-03-05T10:31:00.459Z", datetime(2024, 3, 5, 10, 31, 0, 459000, tzinfo=timezone.utc)),
    ("2024-03-05T12:31:00+02:00", datetime(2024, 3, 5, 10, 31, tzinfo=timezone.utc)),
])
def test_time_field_reads_utc(value, expected):
    assert time_field({"date": value}, "date") == expected


def test_int_field_rejects_overlong_numbers():
    with pytest.raises(ChannelRequestError, match="'n' is longer than 20"):
        int_field({"n": "9" * 30}, "n")
