"""`gateway recipients add|remove|list`: who gets the weekly summaries."""

from __future__ import annotations

import dataclasses
import json

import click
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.cli.common import echo_table, open_services
from gateway.db import session_scope
from gateway.errors import NotFoundError, PhoneTokenError
from gateway.i18n import LANGUAGES
from gateway.models import Center, Contact, RecipientRole, SummaryRecipient
from gateway.phones import TEXT_MASK, PhoneVault, mask, normalise
from gateway.sql import insert_ignore

COLUMNS = ("center", "role", "language", "phone", "active", "opted_out")


@dataclasses.dataclass(frozen=True)
class Added:
    """What `add_recipient` did."""

    center: str
    phone: str  # masked
    role: str
    language: str
    created: bool


def add_recipient(db: so.Session, vault: PhoneVault, *, center_code: str, phone: str,
                  language: str, role: str) -> Added:
    """Add (or update the language of) a centre's summary recipient; return what was done."""
    center = _center(db, center_code)
    e164 = normalise(phone)
    phone_hash = vault.hash(e164)
    insert_ignore(db, Contact, {"phone_hash": phone_hash, "phone_encrypted": vault.encrypt(e164),
                                "language": language}, ["phone_hash"])
    contact = db.scalars(sa.select(Contact).where(Contact.phone_hash == phone_hash)).one()
    recipient = db.scalar(sa.select(SummaryRecipient).where(
        SummaryRecipient.center_id == center.id, SummaryRecipient.contact_id == contact.id,
        SummaryRecipient.role == RecipientRole(role)))
    created = recipient is None
    if created:
        recipient = SummaryRecipient(center_id=center.id, contact_id=contact.id,
                                     role=RecipientRole(role), language=language)
        db.add(recipient)
    recipient.language = language
    recipient.active = True
    db.flush()
    return Added(center.code, mask(e164), role, language, created)


@dataclasses.dataclass(frozen=True)
class Removed:
    """What `remove_recipient` did."""

    center: str
    phone: str  # masked
    roles: list[str]


def remove_recipient(db: so.Session, vault: PhoneVault, *, center_code: str, phone: str,
                     role: str | None = None) -> Removed:
    """Stop a centre's summaries to a phone (in `role`, or every role); say what was done.

    The row stays, marked inactive, so that the summaries already sent keep their
    recipient; `add` makes it active again.
    """
    center = _center(db, center_code)
    e164 = normalise(phone)
    query = (sa.select(SummaryRecipient)
             .join(Contact, Contact.id == SummaryRecipient.contact_id)
             .where(SummaryRecipient.center_id == center.id, SummaryRecipient.active,
                    Contact.phone_hash == vault.hash(e164)))
    if role:
        query = query.where(SummaryRecipient.role == RecipientRole(role))
    found = list(db.scalars(query))
    if not found:
        raise NotFoundError(f"{mask(e164)} receives no summaries of {center.code}"
                            + (f" as {role}" if role else "") + " (see `gateway recipients list`)")
    for recipient in found:
        recipient.active = False
    db.flush()
    return Removed(center.code, mask(e164), sorted(recipient.role.value for recipient in found))


def list_recipients(db: so.Session, vault: PhoneVault) -> list[dict]:
    """Return every summary recipient, by centre and role, with masked numbers."""
    found = db.execute(
        sa.select(SummaryRecipient, Center.code, Contact)
        .join(Center, Center.id == SummaryRecipient.center_id)
        .join(Contact, Contact.id == SummaryRecipient.contact_id)
        .order_by(Center.code, SummaryRecipient.role, SummaryRecipient.id)).all()
    rows = []
    for recipient, code, contact in found:
        try:
            phone = mask(vault.decrypt(contact.phone_encrypted))
        except PhoneTokenError:
            phone = TEXT_MASK
        rows.append({"center": code, "role": recipient.role.value, "language": recipient.language,
                     "phone": phone, "active": recipient.active, "opted_out": contact.opted_out})
    return rows


@click.group()
def recipients() -> None:
    """Who receives each centre's weekly SMS summary."""


@recipients.command()
@click.option("--center", "center_code", required=True, help="The centre's code.")
@click.option("--phone", required=True, help="Phone number, e.g. +22376123456 or 76 12 34 56.")
@click.option("--lang", "language", type=click.Choice(LANGUAGES), required=True,
              help="Language of the summaries.")
@click.option("--role", type=click.Choice([role.value for role in RecipientRole]),
              required=True)
def add(center_code: str, phone: str, language: str, role: str) -> None:
    """Add a summary recipient to a centre; adding again updates the language."""
    with open_services(load_flows=False) as services, \
            session_scope(services.sessionmaker) as db:
        added = add_recipient(db, services.vault, center_code=center_code, phone=phone,
                              language=language, role=role)
    verb = "added" if added.created else "updated"
    click.echo(f"{verb} {added.phone} as {added.role} of {added.center} ({added.language})")


@recipients.command()
@click.option("--center", "center_code", required=True, help="The centre's code.")
@click.option("--phone", required=True, help="Phone number, e.g. +22376123456 or 76 12 34 56.")
@click.option("--role", type=click.Choice([role.value for role in RecipientRole]),
              help="Only this role (default: every role the phone has at the centre).")
def remove(center_code: str, phone: str, role: str | None) -> None:
    """Stop sending a centre's summaries to a phone (someone who left, a wrong number)."""
    with open_services(load_flows=False) as services, \
            session_scope(services.sessionmaker) as db:
        removed = remove_recipient(db, services.vault, center_code=center_code, phone=phone,
                                   role=role)
    click.echo(f"removed {removed.phone} as {', '.join(removed.roles)} of {removed.center}: "
               "no more summaries")


@recipients.command("list")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def list_(output: str) -> None:
    """List the summary recipients, by centre, with masked numbers."""
    with open_services(load_flows=False) as services, \
            session_scope(services.sessionmaker) as db:
        rows = list_recipients(db, services.vault)
    if output == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No summary recipients yet: add one with `gateway recipients add`.")
        return
    echo_table(COLUMNS, [[_cell(row[column]) for column in COLUMNS] for row in rows])


def _center(db: so.Session, code: str) -> Center:
    center = db.scalar(sa.select(Center).where(sa.func.upper(Center.code) == code.strip().upper()))
    if center is None:
        raise NotFoundError(f"center: no centre with code {code!r} (see `gateway centers list`)")
    return center


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)

