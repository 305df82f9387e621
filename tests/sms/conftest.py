"""Fixtures: services, provider stand-ins, and settings that send through them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.sms import senders
from gateway.services import Services
from gateway.settings import Settings
from tests.channels.standins import AfricasTalkingStandIn, TwilioStandIn
from tests.sms.support import build_services, close_worker_services

TWILIO_FROM = "+15005550006"


@pytest.fixture
def at_settings(settings: Settings, at_standin: AfricasTalkingStandIn) -> Settings:
    """Settings that send through the Africa's Talking stand-in."""
    return settings.replace(sms_outbox="provider", sms_provider="africastalking",
                            at_username="kuma", at_api_key="at-test-key", at_sender="KUMA",
                            at_api_base=at_standin.url)


@pytest.fixture
def twilio_settings(settings: Settings, twilio_standin: TwilioStandIn) -> Settings:
    """Settings that send through the Twilio stand-in, with status callbacks."""
    return settings.replace(sms_outbox="provider", sms_provider="twilio",
                            twilio_account_sid=twilio_standin.account_sid,
                            twilio_auth_token=twilio_standin.auth_token,
                            twilio_from=TWILIO_FROM, twilio_api_base=twilio_standin.url,
                            public_url="https://kuma.example.org")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """Yield services on the test's database and Redis (log outbox), with two centres."""
    built = build_services(settings)
    yield built
    built.close()


@pytest.fixture(autouse=True)
def fresh_senders() -> Iterator[None]:
    """Forget senders and worker services cached by a previous test."""
    senders.process_sender.cache_clear()
    yield
    senders.process_sender.cache_clear()
    close_worker_services()
