"""`gateway messages list`: outbound SMS as people check them, numbers masked."""

from __future__ import annotations

import datetime as dt
import json

import click
import sqlalchemy as sa

from gateway.cli.common import echo_table, open_services
from gateway.cli.invite import masked_phone
from gateway.db import session_scope
from gateway.models import Center, Contact, MessageStatus, OutboundMessage

COLUMNS = ("id", "to", "center", "purpose", "status", "segments", "provider", "created",
           "sent")


@click.group()
def messages() -> None:
    """Outbound SMS: replies, summaries, invitations, notices."""


@messages.command("list")
@click.option("--status", type=click.Choice([s.value for s in MessageStatus]), default=None,
              help="Only messages with this status.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True,
              help="Newest messages first, at most this many.")
def list_(status: str | None, output: str, limit: int) -> None:
    """List outbound SMS, newest first, with masked numbers."""
    with open_services(load_flows=False) as services, \
            session_scope(services.sessionmaker) as db:
        query = (sa.select(OutboundMessage, Contact.phone_encrypted, Center.code)
                 .join(Contact, Contact.id == OutboundMessage.contact_id)
                 .outerjoin(Center, Center.id == OutboundMessage.center_id)
                 .order_by(OutboundMessage.id.desc()).limit(limit))
        if status:
            query = query.where(OutboundMessage.status == MessageStatus(status))
        rows = [_row(message, masked_phone(services, token), code)
                for message, token, code in db.execute(query)]
        tz = services.settings.tz
    if output == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no outbound messages" + (f" with status {status}" if status else ""))
        return
    echo_table(COLUMNS, [[_cell(row, name, tz) for name in COLUMNS] for row in rows])


def _row(message: OutboundMessage, phone: str, center: str | None) -> dict:
    """Return a message as JSON-safe values; times in UTC ISO 8601."""
    return {
        "id": message.id, "to": phone, "center": center, "purpose": message.purpose.value,
        "status": message.status.value, "segments": message.segments,
        "encoding": message.encoding, "provider": message.provider,
        "provider_message_id": message.provider_message_id,
        "cost_estimate": message.cost_estimate, "error_code": message.error_code,
        "attempts": message.attempts,
        "created_at": message.created_at.isoformat() if message.created_at else None,
        "send_after": message.send_after.isoformat() if message.send_after else None,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
    }


def _cell(row: dict, name: str, tz: dt.tzinfo) -> str:
    key = {"created": "created_at", "sent": "sent_at"}.get(name, name)
    value = row[key]
    if name in ("created", "sent") and value:
        value = dt.datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if name == "status" and row["error_code"]:
        value = f"{value} ({row['error_code']})"
    return "-" if value is None else str(value)
