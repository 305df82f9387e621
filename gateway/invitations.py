"""Invitations to an SMS survey after a visit: mothers rarely dial on their own.

Staff invite a mother from the command line (`gateway invite`) or by SMS from a registered
staff phone: `VISITE 76123456` in French, `TAALI 76123456` in Bambara ("taali", going: the
visit made). The invitation SMS goes out `INVITATION_DELAY` minutes after the visit, moved
out of the quiet hours, at most once per contact per `INVITATION_MIN_INTERVAL` days, and
never to an opted-out contact. When it is sent, the store remembers for her phone which
centre and flow her reply starts (`SessionStore.remember_invitation`).

An invitation can be a call instead (`channel="voice"`: `gateway invite --channel voice`, the
API's `"channel": "voice"`, or `VISITE 76123456 APPEL` / `TAALI 76123456 WELE`): the same
delay, quiet hours, interval and opt-outs, and a queued call (`gateway.calls`) instead of
the SMS; the flow must then be offered on voice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import zoneinfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway import i18n, keywords, phones
from gateway.i18n import N_
from gateway.db import session_scope
from gateway.engine import gsm
from gateway.errors import ArgumentError, NotFoundError, PhoneNumberError
from gateway.models import (Call, Center, Contact, Invitation, InvitationStatus, MessagePurpose,
                            MessageStatus, OutboundMessage, StaffPhone, utcnow)
from gateway.calls import outbox as calls
from gateway.services import Services
from gateway.sms import outbox
from gateway.sms.outbox import AfterCommit
from gateway.sql import insert_ignore
from gateway.session_store import SessionStore

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "fr"
SINGLE_SEGMENT = 160  # GSM-7 septets
MIN_NAME = 12  # below this, a second segment is better than an unreadable name

# The texts, in locales/ (fr, bm), are folded to GSM-7 before sending.
INVITATION = N_("%(center)s: thank you for your visit. Give your opinion (free, 3 min): "
                "reply 1 to this SMS.")
SCHEDULED = N_("Invitation for %(phone)s: SMS on %(when)s.")
SCHEDULED_CALL = N_("Invitation for %(phone)s: call on %(when)s.")
CHANNELS = ("sms", "voice")
REFUSED_OPTED_OUT = N_("No invitation for %(phone)s: this number wants no more SMS.")
REFUSED_RECENT = N_("No invitation for %(phone)s: already invited in the last %(days)s days.")
BAD_NUMBER = N_("Unreadable number. Write for example: VISITE 76123456")
NO_CALLS = N_("No survey is offered by call yet. Write VISITE and the number for an SMS.")


@dataclasses.dataclass(frozen=True)
class Scheduled:
    """What `invite` did, for a person to read: never the whole number."""

    invitation_id: int
    status: InvitationStatus
    reason: str | None  # why skipped: "opted_out" or "recent"
    phone: str  # masked
    center_code: str
    center_name: str
    flow_id: str
    send_at: dt.datetime
    message_id: int | None
    channel: str = "sms"
    call_id: int | None = None


# --- scheduling ---------------------------------------------------------------------------

def outside_quiet_hours(moment: dt.datetime, window: tuple[dt.time, dt.time] | None,
                        tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """Return `moment`, or the end of the quiet hours it falls in (window may cross midnight)."""
    if window is None or window[0] == window[1]:
        return moment
    start, end = window
    local = moment.astimezone(tz)
    clock = local.time()
    day = local.date()
    if start < end:
        quiet = start <= clock < end
    else:
        quiet = clock >= start or clock < end
        if clock >= start:
            day += dt.timedelta(days=1)
    if not quiet:
        return moment
    return dt.datetime.combine(day, end, tzinfo=tz).astimezone(dt.timezone.utc)


def invitation_text(center_name: str, language: str | None) -> str:
    """Return the invitation SMS for a centre, in GSM-7, in one segment when it fits."""
    language = language or DEFAULT_LANGUAGE
    name = gsm.prepare_sms(center_name.strip())
    if not name.lower().startswith("cscom"):
        name = f"CSCom {name}"
    text = gsm.prepare_sms(i18n.gettext(language, INVITATION, center=name))
    overflow = gsm.count(text).units - SINGLE_SEGMENT
    if overflow > 0:
        # A long centre name is cut rather than paying for a second segment.
        name = name[:max(MIN_NAME, len(name) - overflow - 1)].rstrip() + "."
        text = gsm.prepare_sms(i18n.gettext(language, INVITATION, center=name))
    return text


def schedule_invitation(db: so.Session, services: Services, *, center_code: str, phone: str,
                        flow_id: str | None = None, visit_at: dt.datetime | None = None,
                        now: dt.datetime, channel: str = "sms") -> Invitation:
    """Plan the invitation SMS after a visit; its send job is enqueued when `db` commits.

    Raises PhoneNumberError, NotFoundError (centre, flow) or ArgumentError (naive times).
    An opted-out or recently invited contact gets an invitation with status `skipped`.
    """
    invitation, _ = _schedule(db, services, center_code=center_code, phone=phone,
                              flow_id=flow_id, visit_at=visit_at, now=now, channel=channel)
    return invitation


def _schedule(db: so.Session, services: Services, *, center_code: str, phone: str,
              flow_id: str | None, visit_at: dt.datetime | None,
              now: dt.datetime, channel: str = "sms") -> tuple[Invitation, str | None]:
    settings = services.settings
    if channel not in CHANNELS:
        raise ArgumentError(f"channel: expected sms or voice, got {channel!r}")
    e164 = phones.normalise(phone)
    center = _center(db, center_code)
    flow_id = _flow_id(services, flow_id, channel)
    for name, value in (("now", now), ("visit_at", visit_at)):
        if value is not None and value.utcoffset() is None:
            raise ArgumentError(f"{name}: a time with its time zone is needed, got {value}")
    visit = visit_at or now
    send_at = max(visit + dt.timedelta(minutes=settings.invitation_delay), now)
    send_at = outside_quiet_hours(send_at, settings.quiet_window, settings.tz)

    phone_hash = services.vault.hash(e164)
    insert_ignore(db, Contact, {"phone_hash": phone_hash,
                                "phone_encrypted": services.vault.encrypt(e164),
                                "center_id": center.id}, ["phone_hash"])
    # The row lock makes two invitations for one mother at once take turns (PostgreSQL;
    # SQLite's BEGIN IMMEDIATE already serialises writers).
    contact = db.scalars(sa.select(Contact).where(Contact.phone_hash == phone_hash)
                         .with_for_update()).one()
    invitation = Invitation(center_id=center.id, contact_id=contact.id, flow_id=flow_id,
                            visit_at=visit, send_at=send_at, status=InvitationStatus.SCHEDULED)
    reason = _skip_reason(db, services, contact, send_at)
    db.add(invitation)
    if reason is not None:
        invitation.status = InvitationStatus.SKIPPED
        db.flush()
        log.info("invitation %s to %s skipped: %s", invitation.id, phones.mask(e164), reason)
        return invitation, reason
    contact.center_id = center.id
    db.flush()
    if channel == "voice":
        _queue_call(db, services, invitation, now)
        log.info("invitation %s to %s for centre %s by call at %s", invitation.id,
                 phones.mask(e164), center.code, send_at.isoformat())
        return invitation, None
    language = contact.language or services.store.contact_prefs(phone_hash).get("language")
    message_id, _ = outbox.queue_message(
        db, contact_id=contact.id, body=invitation_text(center.name, language),
        purpose=MessagePurpose.INVITATION, center_id=center.id,
        dedupe_key=f"invitation:{invitation.id}", send_after=send_at)
    invitation.message_id = message_id
    db.flush()
    outbox.dispatch_after_commit(db, services.queue, [message_id],
                                 at=send_at if send_at > now else None)
    log.info("invitation %s to %s for centre %s at %s", invitation.id, phones.mask(e164),
             center.code, send_at.isoformat())
    return invitation, None


def _center(db: so.Session, code: str) -> Center:
    center = db.scalars(sa.select(Center).where(
        sa.func.upper(Center.code) == (code or "").strip().upper())).first()
    if center is None:
        raise NotFoundError(f"centre {code!r} not found (see `gateway centers list`)")
    return center


def _queue_call(db: so.Session, services: Services, invitation: Invitation,
                now: dt.datetime) -> int:
    """Queue the invitation's call, placed at its send time once `db` commits."""
    call_id, _ = calls.queue_call(db, contact_id=invitation.contact_id,
                                  center_id=invitation.center_id, flow_id=invitation.flow_id,
                                  invitation_id=invitation.id,
                                  dedupe_key=f"invitation:{invitation.id}",
                                  place_at=invitation.send_at)
    calls.dispatch_after_commit(db, services.queue, [call_id],
                                at=invitation.send_at if invitation.send_at > now else None)
    return call_id


def _flow_id(services: Services, flow_id: str | None, channel: str = "sms") -> str:
    if flow_id is None:
        flow = services.flows.default()
        if channel == "voice" and "voice" not in flow.channels:
            raise ArgumentError(f"the default flow {flow.id!r} is not offered on voice: add "
                                "voice to its 'channels', or name a flow with --flow")
        if channel == "voice":
            _check_callable(services, flow.id)
        return flow.id
    flow = services.flows.live(flow_id)
    if flow is None:
        known = ", ".join(sorted(services.flows.flows)) or "none"
        raise NotFoundError(f"flow {flow_id!r} not found (live flows: {known})")
    if channel == "voice":
        if "voice" not in flow.channels:
            raise ArgumentError(f"flow {flow_id!r} is not offered on voice (channels: "
                                f"{', '.join(flow.channels)}); add voice to its 'channels'")
        _check_callable(services, flow_id)
        return flow_id
    if "sms" not in flow.channels:
        raise ArgumentError(f"flow {flow_id!r} does not run on SMS (channels: "
                            f"{', '.join(flow.channels)}); an invitation is answered by SMS")
    return flow_id


def _skip_reason(db: so.Session, services: Services, contact: Contact,
                 send_at: dt.datetime) -> str | None:
    if contact.opted_out or services.store.is_opted_out(contact.phone_hash):
        return "opted_out"
    interval = dt.timedelta(days=services.settings.invitation_min_interval)
    if not interval:
        return None
    recent = db.scalar(sa.select(Invitation.id).where(
        Invitation.contact_id == contact.id,
        Invitation.status.in_([InvitationStatus.SCHEDULED, InvitationStatus.SENT]),
        Invitation.send_at > send_at - interval,
        Invitation.send_at < send_at + interval).limit(1))
    return "recent" if recent is not None else None


def invite(services: Services, *, center_code: str, phone: str, flow_id: str | None = None,
           visit_at: dt.datetime | None = None, now: dt.datetime | None = None,
           channel: str = "sms") -> Scheduled:
    """Schedule an invitation in its own transaction, then enqueue its SMS; say what was done."""
    now = now or utcnow()
    # It reads, then writes: on SQLite take the write lock first, or a worker's commit in
    # between makes the write fail at once with "database is locked" (no busy wait).
    with session_scope(services.sessionmaker, immediate=True) as db:
        invitation, reason = _schedule(db, services, center_code=center_code, phone=phone,
                                       flow_id=flow_id, visit_at=visit_at, now=now,
                                       channel=channel)
        center = db.get(Center, invitation.center_id)
        done = Scheduled(invitation_id=invitation.id, status=invitation.status, reason=reason,
                         phone=phones.mask(phones.normalise(phone)), center_code=center.code,
                         center_name=center.name, flow_id=invitation.flow_id,
                         send_at=invitation.send_at, message_id=invitation.message_id,
                         channel=channel, call_id=_call_of(db, invitation))
    return done


def _call_of(db: so.Session, invitation: Invitation) -> int | None:
    return db.scalar(sa.select(Call.id).where(Call.invitation_id == invitation.id))


# --- after sending (the outbox calls InvitationFollowUp) ------------------------------------

class InvitationFollowUp:
    """Marks an invitation sent, skipped or failed as its SMS is settled."""

    def sent(self, db: so.Session, message: OutboundMessage) -> AfterCommit | None:
        """Mark the invitation sent; return the step that remembers it for her reply."""
        row = db.execute(
            sa.select(Invitation, Center.code, Contact.phone_hash)
            .join(Center, Center.id == Invitation.center_id)
            .join(Contact, Contact.id == Invitation.contact_id)
            .where(Invitation.message_id == message.id)).first()
        if row is None:
            return None
        invitation, center_code, phone_hash = row
        invitation.status = InvitationStatus.SENT
        flow_id = invitation.flow_id

        def remember(store: SessionStore) -> None:
            store.remember_invitation(phone_hash, center=center_code, flow=flow_id)
        return remember

    def final(self, db: so.Session, message: OutboundMessage) -> None:
        """Mark the invitation of a message that will not be sent skipped or failed."""
        status = (InvitationStatus.SKIPPED if message.status == MessageStatus.OPTED_OUT
                  else InvitationStatus.FAILED)
        db.execute(sa.update(Invitation).where(Invitation.message_id == message.id)
                   .values(status=status))


outbox.follow_up(MessagePurpose.INVITATION, InvitationFollowUp())


# --- staff SMS ----------------------------------------------------------------------------

def handle_staff_sms(db: so.Session, services: Services, staff_phone_hash: str, text: str,
                     now: dt.datetime) -> str | None:
    """Invite the mother a staff SMS names; return the reply to the staff phone, else None.

    None when the text is not a visit command or the sender is not a registered staff
    phone: the SMS is then an ordinary one. The send job is enqueued when `db` commits.
    """
    number = keywords.visit_command(text)
    if number is None:
        return None
    staff = db.execute(
        sa.select(Center.code, Contact.language)
        .select_from(StaffPhone)
        .join(Contact, Contact.id == StaffPhone.contact_id)
        .join(Center, Center.id == StaffPhone.center_id)
        .where(Contact.phone_hash == staff_phone_hash)
        .order_by(StaffPhone.id)).first()
    if staff is None:
        return None
    center_code, language = staff
    language = language or DEFAULT_LANGUAGE
    try:
        e164 = phones.normalise(number)
    except PhoneNumberError:
        return gsm.prepare_sms(i18n.gettext(language, BAD_NUMBER))
    channel = "voice" if keywords.visit_by_call(text) else "sms"
    try:
        invitation, reason = _schedule(db, services, center_code=center_code, phone=e164,
                                       flow_id=None, visit_at=None, now=now, channel=channel)
    except ArgumentError:  # no flow offered on voice: say so rather than stay silent
        return gsm.prepare_sms(i18n.gettext(language, NO_CALLS))
    masked = phones.mask(e164)
    if reason == "opted_out":
        return gsm.prepare_sms(i18n.gettext(language, REFUSED_OPTED_OUT, phone=masked))
    if reason == "recent":
        return gsm.prepare_sms(i18n.gettext(language, REFUSED_RECENT, phone=masked,
                                            days=services.settings.invitation_min_interval))
    when = invitation.send_at.astimezone(services.settings.tz).strftime("%d/%m %H:%M")
    return gsm.prepare_sms(i18n.gettext(language, SCHEDULED_CALL if channel == "voice"
                                        else SCHEDULED, phone=masked, when=when))


def handle_staff_message(services: Services, provider: str, message_id: str, phone_hash: str,
                         text: str, *, now: dt.datetime) -> str | None:
    """Schedule the invitation a staff SMS asks for and queue the confirmation to the staff."""
    with session_scope(services.sessionmaker, immediate=True) as db:
        reply = handle_staff_sms(db, services, phone_hash, text, now)
        if reply is None:
            log.warning("visit command %s from a phone that is not a registered staff "
                        "phone: ignored", message_id)
            return None
        staff_id = db.scalar(sa.select(Contact.id).where(Contact.phone_hash == phone_hash))
        message, new = outbox.queue_message(db, contact_id=staff_id, body=reply,
                                            purpose=MessagePurpose.NOTICE,
                                            dedupe_key=f"staff:{provider}:{message_id}")
        if new:
            outbox.dispatch_after_commit(db, services.queue, [message])
    return reply


def _check_callable(services: Services, flow_id: str) -> None:
    """Refuse a call whose flow would play a missing or unplayable recording."""
    problems = services.flows.call_problems(flow_id)
    if problems:
        raise ArgumentError(f"flow {flow_id!r} cannot be played on a call yet: "
                            f"{len(problems)} recording problem(s), the first: {problems[0]}; "
                            "`gateway flows validate` lists them all")
