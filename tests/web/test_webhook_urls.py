"""`gateway webhooks urls` prints URLs that work exactly as printed, whatever the token holds."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gateway.cli import main
from tests.integration.conftest import client, services  # noqa: F401

TOKEN = "Ab+c/d==e+"  # base64's + / = : each means something else in a URL's query
USSD = {"sessionId": "ATUid_urls", "serviceCode": "*384*123*07#",
        "phoneNumber": "+22376123456", "networkCode": "61001", "text": ""}


@pytest.fixture
def settings(settings):
    return settings.replace(at_webhook_token=TOKEN, public_url="http://localhost")


def printed_urls(settings) -> dict[str, str]:
    result = CliRunner().invoke(main, ["webhooks", "urls"], env={
        "AT_WEBHOOK_TOKEN": TOKEN, "PUBLIC_URL": settings.public_url})
    assert result.exit_code == 0, result.output
    return {line.split()[-1].split("?")[0].rsplit("/webhooks/", 1)[1]: line.split()[-1]
            for line in result.output.splitlines() if "/webhooks/" in line}


def test_every_printed_url_carries_the_whole_token(settings):
    urls = printed_urls(settings)
    assert set(urls) == {"africastalking/ussd", "africastalking/ussd/events",
                         "africastalking/sms", "africastalking/delivery",
                         "africastalking/optout", "twilio/sms", "africastalking/voice",
                         "twilio/status", "twilio/voice", "twilio/voice/status"}
    for path, url in urls.items():
        if path.startswith("africastalking/"):
            assert url.endswith("?token=Ab%2Bc%2Fd%3D%3De%2B")
        else:
            assert "token" not in url


def test_the_printed_ussd_url_is_accepted_as_printed(client, settings):
    url = printed_urls(settings)["africastalking/ussd"]

    response = client.post(url, data=USSD)

    assert response.status_code == 200, response.text
    assert response.text.startswith("CON ")
    # The same token pasted raw would reach the gateway with spaces for its '+': refused.
    raw = client.post(f"{settings.public_url}/webhooks/africastalking/ussd?token={TOKEN}",
                      data={**USSD, "sessionId": "ATUid_raw"})
    assert raw.status_code == 403
