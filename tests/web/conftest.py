"""Fixtures for the web tests: services on the test's Redis and database, nothing loaded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.services import Services
from gateway.settings import Settings


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """Yield services on the test's Redis and database."""
    built = Services.build(settings)
    yield built
    built.close()
