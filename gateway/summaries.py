"""Weekly summaries: compose each centre's SMS for every active recipient and queue it once.

`send_summaries` is what `gateway summaries send` runs by hand, and what the scheduler's
Monday job `gateway.jobs.send_summaries` runs in a worker. The texts are reports' (pure). Each message carries the dedupe key `summary:<centre>:<week>:<recipient>`,
unique in the database, so that a second run, two schedulers at once or a manual run after
the scheduled one never queue a second copy: they report `already_sent` instead. The send
jobs are enqueued only after the transaction that wrote the messages has committed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.db import session_scope
from gateway.engine import gsm
from gateway.errors import PhoneTokenError
from gateway.models import (Center, Contact, MessagePurpose, OutboundMessage, SummaryRecipient,
                            utcnow)
from gateway.phones import TEXT_MASK, mask
from gateway.services import Services
from gateway.settings import Settings
from gateway.sms.outbox import dispatch_after_commit, queue_message
from reports.scores import ScoreRow, compute_scores, parse_week, week_of, weeks_back
from reports.summaries import BASELINE_WEEKS, compose_summary

log = logging.getLogger(__name__)

DEDUPE_KEY = "summary:{center}:{week}:{recipient}"
STATUSES = ("sent", "dry_run", "already_sent", "opted_out")


def last_week(settings: Settings, now: dt.datetime | None = None) -> str:
    """Return the ISO week that ended most recently, as seen in the gateway's time zone."""
    today = (now or utcnow()).astimezone(settings.tz).date()
    return week_of(today - dt.timedelta(days=7))


def ussd_code(settings: Settings, extension: str | None) -> str | None:
    """Return the code a mother dials for a centre ("*384*123*07#"), or None if unknown."""
    if not settings.at_ussd_base_codes or not extension:
        return None
    base = settings.at_ussd_base_codes[0]
    return f"{base[:-1]}*{extension}#"


def dimension_labels(services: Services, language: str) -> dict[str, str]:
    """Return {dimension id: label in language} from the live flows (the first flow wins)."""
    labels: dict[str, str] = {}
    for flow_id in sorted(services.flows.flows):
        for dim_id, dimension in services.flows.flows[flow_id].dimensions.items():
            label = dimension.label.get(language) or dimension.label.get("fr") or dim_id
            labels.setdefault(dim_id, label)
    return labels


def send_summaries(services: Services, *, week: str | None = None, dry_run: bool = False,
                   now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Compose and queue the week's summary of every centre for each active recipient.

    `week` is an ISO week "YYYY-Www" (default: the week that just ended); raises WeekError
    if it is malformed. Returns one JSON-ready row per recipient.
    """
    settings = services.settings
    if week is None:
        week = last_week(settings, now)
    else:
        parse_week(week, "week")
        week = week.strip()
    results: list[dict[str, Any]] = []
    old_ids: dict[int, int] = {}  # message id -> index of its row in results
    labels: dict[str, dict[str, str]] = {}
    texts: dict[tuple[str, str], str] = {}
    # Reads then writes, maybe beside another run: on SQLite take the write lock up front.
    with session_scope(services.sessionmaker, immediate=not dry_run) as db:
        # Ordered, so that two concurrent runs insert in the same order and never deadlock.
        recipients = db.execute(
            sa.select(SummaryRecipient, Center, Contact)
            .join(Center, Center.id == SummaryRecipient.center_id)
            .join(Contact, Contact.id == SummaryRecipient.contact_id)
            .where(SummaryRecipient.active.is_(True))
            .order_by(Center.code, SummaryRecipient.id)).all()
        codes = sorted({center.code for _, center, _ in recipients})
        mirrored = _opted_out_in_redis(services, [contact for _, _, contact in recipients])
        scores = _scores_by_center(db, codes, week, settings.min_respondents)
        for recipient, center, contact in recipients:
            language = recipient.language
            if language not in labels:
                labels[language] = dimension_labels(services, language)
            if (center.code, language) not in texts:
                texts[center.code, language] = _compose(
                    settings, center, week, scores.get(center.code, []), language,
                    labels[language])
            text = texts[center.code, language]
            row = {"center": center.code, "week": week, "recipient": _masked(services, contact),
                   "language": language, "text": text, "segments": gsm.segments(text)}
            if contact.opted_out or contact.phone_hash in mirrored:
                row["status"] = "opted_out"
            elif dry_run:
                row["status"] = "dry_run"
            else:
                message_id, is_new = queue_message(
                    db, contact_id=contact.id, body=text, purpose=MessagePurpose.SUMMARY,
                    center_id=center.id, dedupe_key=DEDUPE_KEY.format(
                        center=center.code, week=week, recipient=recipient.id))
                row["status"] = "sent" if is_new else "already_sent"
                if is_new:
                    dispatch_after_commit(db, services.queue, [message_id])
                else:
                    old_ids[message_id] = len(results)
            results.append(row)
        _show_stored_bodies(db, old_ids, results)
    done = counts(results)
    log.info("weekly summaries of %s: %d queued, %d already sent, %d opted out, %d dry run",
             week, done["sent"], done["already_sent"], done["opted_out"], done["dry_run"])
    return results


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Return how many of `send_summaries`' rows have each status."""
    return {status: sum(r["status"] == status for r in rows) for status in STATUSES}


def _scores_by_center(db: so.Session, codes: list[str], week: str,
                      min_respondents: int) -> dict[str, list[ScoreRow]]:
    """Read this week's and the baseline weeks' scores of every centre in one query."""
    if not codes:
        return {}
    by_center: dict[str, list[ScoreRow]] = {}
    for row in compute_scores(db, centers=codes, week_from=weeks_back(week, BASELINE_WEEKS),
                              week_to=week, min_respondents=min_respondents):
        by_center.setdefault(row.center, []).append(row)
    return by_center


def _compose(settings: Settings, center: Center, week: str, rows: list[ScoreRow],
             language: str, labels: Mapping[str, str]) -> str:
    return compose_summary(
        language=language, center_name=center.name, week=week,
        this_week=[r for r in rows if r.week == week],
        previous_weeks=[r for r in rows if r.week != week],
        ussd_code=ussd_code(settings, center.ussd_extension), labels=labels,
        center_code=center.code)


def _opted_out_in_redis(services: Services, contacts: list[Contact]) -> set[str]:
    """Return the phone hashes whose opt-out Redis knows of (SQL may not have it yet)."""
    hashes = sorted({contact.phone_hash for contact in contacts})
    with services.redis.pipeline(transaction=False) as pipe:
        for phone_hash in hashes:
            pipe.exists(services.store.key("opted_out", phone_hash=phone_hash))
        found = pipe.execute()
    return {phone_hash for phone_hash, exists in zip(hashes, found) if exists}


def _masked(services: Services, contact: Contact) -> str:
    try:
        return mask(services.vault.decrypt(contact.phone_encrypted))
    except PhoneTokenError:
        # One unreadable number (another secret key?) must not stop every centre's summary.
        log.warning("contact %s: phone number cannot be decrypted", contact.id)
        return TEXT_MASK


def _show_stored_bodies(db: so.Session, old_ids: dict[int, int],
                        results: list[dict[str, Any]]) -> None:
    """Report what was actually sent earlier, which the data may since have changed."""
    if not old_ids:
        return
    stored = db.execute(
        sa.select(OutboundMessage.id, OutboundMessage.body, OutboundMessage.segments)
        .where(OutboundMessage.id.in_(list(old_ids)))).all()
    for message_id, body, segments in stored:
        results[old_ids[message_id]].update(text=body, segments=segments)
