"""Fixtures: services with two centres on the test's database and Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.services import Services
from gateway.settings import Settings
from tests.sms.support import build_services


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """Yield services (log outbox, Africa/Bamako, quiet hours 21:00-07:00), two centres."""
    built = build_services(settings)
    yield built
    built.close()
