"""The AT token is masked in every logged URL, whoever logs it."""

from __future__ import annotations

import io
import logging

import pytest

from gateway.logmask import install, mask_secrets


@pytest.mark.parametrize("text, expected", [
    ("POST /webhooks/africastalking/ussd?token=s3cret HTTP/1.1",
     "POST /webhooks/africastalking/ussd?token=*** HTTP/1.1"),
    ("GET /x?a=1&token=Ab%2Bc%2F&b=2", "GET /x?a=1&token=***&b=2"),
    ("https://h/ussd?TOKEN=abc", "https://h/ussd?TOKEN=***"),
    ("url='https://h/sms?token=abc'", "url='https://h/sms?token=***'"),
    ("https://h/sms%3Ftoken%3Dabc", "https://h/sms%3Ftoken%3D***"),
    ("csrf_token=abc and token: abc", "csrf_token=abc and token: abc"),  # not a query's token
])
def test_mask_secrets(text: str, expected: str) -> None:
    assert mask_secrets(text) == expected


def test_an_installed_filter_masks_every_record_through_the_handler() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.logmask")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install(logger)
        logging.getLogger("tests.logmask.child").warning("refused %s", "/ussd?token=s3cret")
        logger.info("plain %d", 1)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert "s3cret" not in stream.getvalue()
    assert "/ussd?token=***" in stream.getvalue()
