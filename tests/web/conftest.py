"""Fixtures for the web tests: services on the test's Redis and database, or on broken ones."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway import metrics
from gateway.services import Services
from gateway.settings import Settings


@pytest.fixture
def closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def services_with(settings: Settings) -> Iterator:
    """Yield a builder of services with changed settings; closes what it built."""
    built: list[Services] = []

    def build(**changes) -> Services:
        # No flows: loading them writes their sources to Redis, which may be the broken part.
        built.append(Services.build(settings.replace(**changes), load_flows=False))
        return built[-1]

    yield build
    for services in built:
        services.close()


def metric_sample(name: str, **labels: str) -> float:
    """Return a sample's value as a scrape of /metrics shows it (0 when absent)."""
    body, _ = metrics.exposition()
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0
