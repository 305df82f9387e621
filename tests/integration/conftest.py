"""Fixtures for whole-gateway tests: the app, its services, a real RQ worker, centres."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import rq

from gateway import services as services_module
from gateway.app import create_app
from gateway.db import session_scope
from gateway.models import Center
from gateway.services import Services
from gateway.settings import Settings

CENTERS = [("07", "CSCom de Banconi", "Commune I", "07", "BANCONI"),
           ("12", "CSCom de Sabalibougou", "Commune V", "12", None)]


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """Yield the services of a gateway on this test's database and Redis, with two centres."""
    built = Services.build(settings)
    with session_scope(built.sessionmaker) as db:
        for code, name, district, extension, keyword in CENTERS:
            db.add(Center(code=code, name=name, district=district, ussd_extension=extension,
                          sms_keyword=keyword))
    with session_scope(built.sessionmaker) as db:
        built.directory.refresh(db)
    yield built
    built.close()


@pytest.fixture
def client(settings: Settings, services: Services):
    """Return a test client of the web app."""
    return create_app(settings, services=services).test_client()


@pytest.fixture
def worker_environment(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[None]:
    """Point jobs' `for_worker()` at this test's database and Redis, as a worker's env would."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("GATEWAY_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("KUMA_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("SMS_OUTBOX", "log")
    monkeypatch.setenv("FLOWS_DIR", str(Path(settings.flows_dir)))
    services_module.for_worker.cache_clear()
    yield
    if services_module.for_worker.cache_info().currsize:
        services_module.for_worker().close()
    services_module.for_worker.cache_clear()


@pytest.fixture
def drain(services: Services, worker_environment: None):
    """Return a function that runs every queued job with a real RQ worker, then returns."""

    def run() -> None:
        worker = rq.SimpleWorker([services.queue], connection=services.redis)
        worker.work(burst=True, with_scheduler=False)

    return run
