"""Fixtures: running stand-ins for Africa's Talking and Twilio on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.standins import AfricasTalkingStandIn, TwilioStandIn


@pytest.fixture
def at_standin() -> Iterator[AfricasTalkingStandIn]:
    """Yield an Africa's Talking stand-in (username "kuma", api_key "at-test-key")."""
    with AfricasTalkingStandIn(username="kuma", api_key="at-test-key") as standin:
        yield standin


@pytest.fixture
def twilio_standin() -> Iterator[TwilioStandIn]:
    """Yield a Twilio stand-in (its account_sid and auth_token are attributes)."""
    with TwilioStandIn() as standin:
        yield standin
