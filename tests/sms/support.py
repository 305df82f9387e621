"""Helpers shared by the outbound and invitation tests: services, centres, contacts, messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gateway import services as services_module
from gateway.db import session_scope
from gateway.models import Center, Contact, MessagePurpose, OutboundMessage
from gateway.services import Services
from gateway.settings import Settings
from gateway.sms import outbox

PHONE = "+22376123456"
CENTERS = [("07", "CSCom de Banconi", "07"), ("12", "Sabalibougou", "12")]


def build_services(settings: Settings) -> Services:
    """Build services on the test's database and Redis, with two centres."""
    built = Services.build(settings)
    with session_scope(built.sessionmaker) as db:
        for code, name, extension in CENTERS:
            db.add(Center(code=code, name=name, ussd_extension=extension))
    with session_scope(built.sessionmaker) as db:
        built.directory.refresh(db)
    return built


def add_contact(services: Services, phone: str = PHONE, *, opted_out: bool = False,
                language: str | None = None) -> int:
    """Store a contact; return its id."""
    with session_scope(services.sessionmaker) as db:
        contact = Contact(phone_hash=services.vault.hash(phone),
                          phone_encrypted=services.vault.encrypt(phone), language=language,
                          opted_out_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
                          if opted_out else None)
        db.add(contact)
        db.flush()
        return contact.id


def add_message(services: Services, contact_id: int, body: str = "Merci pour votre avis.", *,
                purpose: MessagePurpose = MessagePurpose.REPLY,
                send_after: dt.datetime | None = None) -> int:
    """Queue an outbound SMS (not dispatched); return its id."""
    with session_scope(services.sessionmaker) as db:
        message_id, _ = outbox.queue_message(db, contact_id=contact_id, body=body,
                                             purpose=purpose, send_after=send_after)
    return message_id


def message(services: Services, message_id: int) -> OutboundMessage:
    """Read a message back."""
    with session_scope(services.sessionmaker) as db:
        return db.get(OutboundMessage, message_id)


def contact(services: Services, contact_id: int) -> Contact:
    """Read a contact back."""
    with session_scope(services.sessionmaker) as db:
        return db.get(Contact, contact_id)


def point_worker_at(monkeypatch: pytest.MonkeyPatch, settings: Settings,
                    **extra: str) -> None:
    """Set the environment a worker process would have, so `for_worker()` matches `settings`."""
    env = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "GATEWAY_SECRET_KEY": settings.secret_key, "KUMA_VAR_DIR": str(settings.var_dir),
           "FLOWS_DIR": str(Path(settings.flows_dir)), "SMS_OUTBOX": "log", **extra}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    services_module.for_worker.cache_clear()


def close_worker_services() -> None:
    """Close what `for_worker()` built, if anything."""
    if services_module.for_worker.cache_info().currsize:
        services_module.for_worker().close()
    services_module.for_worker.cache_clear()
