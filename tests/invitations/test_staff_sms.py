"""Staff invite a mother by SMS: `VISITE 76123456` (fr) or `TAALI 76123456` (bm)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from gateway import invitations
from gateway.db import session_scope
from gateway.models import Center, Contact, Invitation, StaffPhone
from tests.sms.support import add_contact

NOW = dt.datetime(2025, 3, 4, 10, 0, tzinfo=dt.timezone.utc)
STAFF = "+22370000011"


@pytest.fixture
def staff_hash(services):
    """Register a Bambara-speaking staff phone at centre 07; return its hash."""
    contact_id = add_contact(services, STAFF, language="bm")
    with session_scope(services.sessionmaker) as db:
        center_id = db.scalar(sa.select(Center.id).where(Center.code == "07"))
        db.add(StaffPhone(center_id=center_id, contact_id=contact_id))
    return services.vault.hash(STAFF)


def handle(services, phone_hash, text):
    with session_scope(services.sessionmaker) as db:
        return invitations.handle_staff_sms(db, services, phone_hash, text, NOW)


def test_staff_sms_invites_and_confirms_masked(services, staff_hash):
    reply = handle(services, staff_hash, "TAALI 76123456")

    assert reply == "Welekan +223******56 ye: SMS bèna taa 04/03 12:00."
    with session_scope(services.sessionmaker) as db:
        invitation = db.scalars(sa.select(Invitation)).one()
        center = db.get(Center, invitation.center_id)
        mother = db.get(Contact, invitation.contact_id)
    assert center.code == "07"
    assert mother.phone_hash == services.vault.hash("+22376123456")
    assert len(services.queue.scheduled_job_registry) == 1


def test_staff_hear_why_nothing_was_sent(services, staff_hash):
    add_contact(services, "+22366123456", opted_out=True)
    assert handle(services, staff_hash, "VISITE 66123456") == \
        "Welekan tè +223******56 ye: a ma sòn SMS ma tugun."
    handle(services, staff_hash, "VISITE 76123456")
    assert handle(services, staff_hash, "VISITE 76123456") == \
        "Welekan tè +223******56 ye: a welela tile 7 laban ninnu kònò."
    assert handle(services, staff_hash, "VISITE 12") == \
        "Nimòrò ma se ka kalan. A sèbèn i n'a fò: TAALI 76123456"


def test_french_is_the_default(services):
    contact_id = add_contact(services, STAFF)
    with session_scope(services.sessionmaker) as db:
        db.add(StaffPhone(center_id=db.scalar(sa.select(Center.id).where(Center.code == "12")),
                          contact_id=contact_id))

    assert handle(services, services.vault.hash(STAFF), "VISITE 76123456") == \
        "Invitation pour +223******56: SMS le 04/03 12:00."


def test_others_are_not_staff_commands(services, staff_hash):
    mother_hash = services.vault.hash("+22376123456")
    add_contact(services, "+22376123456")

    assert handle(services, mother_hash, "VISITE 66123456") is None
    assert handle(services, services.vault.hash("+22399999999"), "VISITE 66123456") is None
    assert handle(services, staff_hash, "1") is None
    with session_scope(services.sessionmaker) as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
