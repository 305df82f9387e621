"""`gateway invite` (a mother, after her visit) and `gateway staff` (phones that may invite)."""

from __future__ import annotations

import datetime as dt
import logging
import re

import click
import sqlalchemy as sa

from gateway import invitations, phones
from gateway.cli.common import open_services
from gateway.db import session_scope
from gateway.errors import KumaError, NotFoundError
from gateway.models import Center, Contact, StaffPhone
from gateway.services import Services
from gateway.sql import insert_ignore

log = logging.getLogger(__name__)

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
REASONS = {"opted_out": "the contact opted out of SMS",
           "recent": "already invited within INVITATION_MIN_INTERVAL days"}


def parse_time(text: str, tz: dt.tzinfo, now: dt.datetime) -> dt.datetime:
    """Read `HH:MM` (today) or an ISO date and time, local unless it names its offset."""
    match = _CLOCK.match(text.strip())
    if match:
        today = now.astimezone(tz).date()
        local = dt.datetime.combine(today, dt.time(int(match[1]), int(match[2])), tzinfo=tz)
        return local.astimezone(dt.timezone.utc)
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"expected HH:MM or an ISO date and time such as "
                                 f"2025-03-04T09:30, got {text!r}", param_hint="--at") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(dt.timezone.utc)


@click.command()
@click.option("--center", "center_code", required=True, help="Code of the centre visited.")
@click.option("--phone", required=True, help="The mother's number (76123456 or +22376123456).")
@click.option("--flow", "flow_id", default=None, help="Survey flow id (default: the default flow).")
@click.option("--at", "at_text", default=None, metavar="TIME",
              help="Time of the visit: HH:MM today or an ISO date and time, in "
                   "GATEWAY_TIMEZONE (default: now). The SMS goes INVITATION_DELAY minutes "
                   "later, outside QUIET_HOURS.")
@click.option("--channel", type=click.Choice(["sms", "voice"]), default="sms", show_default=True,
              help="An SMS, or a call (free for her) to answer with the keypad.")
def invite(center_code: str, phone: str, flow_id: str | None, at_text: str | None,
           channel: str) -> None:
    """Invite a mother to a survey after her visit: an SMS, or a call."""
    with open_services() as services:
        tz = services.settings.tz
        now = dt.datetime.now(dt.timezone.utc)
        visit_at = parse_time(at_text, tz, now) if at_text else None
        done = invitations.invite(services, center_code=center_code, phone=phone,
                                  flow_id=flow_id, visit_at=visit_at, now=now, channel=channel)
    local = done.send_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    where = f"{done.center_name} ({done.center_code})"
    if done.reason:
        click.echo(f"invitation {done.invitation_id} skipped: {done.phone} at {where}: "
                   f"{REASONS[done.reason]}")
        return
    click.echo(f"invitation {done.invitation_id} scheduled: {done.phone} at {where}, "
               f"flow {done.flow_id}, {'call' if channel == 'voice' else 'SMS'} at {local} "
               f"({services.settings.timezone})")


@click.group()
def staff() -> None:
    """Staff phones allowed to invite mothers by SMS (VISITE 76123456)."""


@staff.command("add")
@click.option("--center", "center_code", required=True, help="Code of the staff's centre.")
@click.option("--phone", required=True, help="The staff phone's number.")
@click.option("--lang", "language", type=click.Choice(["fr", "bm"]), default=None,
              help="Language of the confirmations it gets (default: kept, else fr).")
@click.option("--role", default="staff", show_default=True, help="Free label, e.g. midwife.")
def add(center_code: str, phone: str, language: str | None, role: str) -> None:
    """Register a staff phone for a centre (again: updates its language)."""
    with open_services(load_flows=False) as services, \
            session_scope(services.sessionmaker) as db:
        e164 = phones.normalise(phone)
        center = db.scalars(sa.select(Center).where(
            sa.func.upper(Center.code) == center_code.strip().upper())).first()
        if center is None:
            raise NotFoundError(f"centre {center_code!r} not found (see `gateway centers list`)")
        phone_hash = services.vault.hash(e164)
        insert_ignore(db, Contact, {"phone_hash": phone_hash,
                                    "phone_encrypted": services.vault.encrypt(e164)},
                      ["phone_hash"])
        contact = db.scalars(sa.select(Contact).where(Contact.phone_hash == phone_hash)).one()
        contact.language = language or contact.language or "fr"
        language = contact.language
        new = db.scalar(sa.select(StaffPhone.id).where(
            StaffPhone.center_id == center.id, StaffPhone.contact_id == contact.id)) is None
        if new:
            insert_ignore(db, StaffPhone, {"center_id": center.id, "contact_id": contact.id,
                                           "role": role}, ["center_id", "contact_id"])
        code = center.code
    with open_services(load_flows=False) as services, \
            session_scope(services.sessionmaker) as db:
        services.directory.refresh(db)  # the webhooks know the new staff phone at once
    click.echo(f"staff phone {phones.mask(e164)} {'added to' if new else 'already in'} "
               f"centre {code} ({language})")


@staff.command("list")
@click.option("--center", "center_code", default=None, help="Only this centre.")
def list_(center_code: str | None) -> None:
    """List staff phones (masked numbers)."""
    with open_services(load_flows=False) as services, \
            session_scope(services.sessionmaker) as db:
        query = (sa.select(Center.code, Contact.phone_encrypted, Contact.language, StaffPhone.role)
                 .select_from(StaffPhone).join(Center, Center.id == StaffPhone.center_id)
                 .join(Contact, Contact.id == StaffPhone.contact_id)
                 .order_by(Center.code, StaffPhone.id))
        if center_code:
            query = query.where(sa.func.upper(Center.code) == center_code.strip().upper())
        rows = db.execute(query).all()
        for code, token, language, role in rows:
            click.echo(f"{code}\t{masked_phone(services, token)}\t{language or '-'}\t{role}")
    if not rows:
        click.echo("no staff phones (add one with `gateway staff add`)")


def masked_phone(services: Services, token: str) -> str:
    """Return a contact's masked number, or a note when its token cannot be read."""
    try:
        return phones.mask(services.vault.decrypt(token))
    except KumaError:
        return "(unreadable: another GATEWAY_SECRET_KEY?)"
