"""The end of a call: its outcome, duration and cost filed, an unanswered call tried again."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway import metrics
from gateway.calls.outbox import dispatch_after_commit
from gateway.db import session_scope
from gateway.invitations import outside_quiet_hours
from gateway.models import Call, CallOutcome, CallStatus, Invitation, InvitationStatus
from gateway.services import Services

log = logging.getLogger(__name__)

# She did not pick up: worth another try later. A call she rejected is her answer.
RETRIED = frozenset({CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.FAILED})
FINAL = frozenset({CallStatus.COMPLETED, CallStatus.NO_ANSWER, CallStatus.BUSY,
                   CallStatus.FAILED, CallStatus.REJECTED})


def record_end(services: Services, provider: str, provider_call_id: str, outcome: str,
               duration_s: int | None, cost: str | None, currency: str | None, *,
               now: dt.datetime) -> CallStatus | None:
    """File a call's end-of-call notice once; queue the next attempt when it went unanswered."""
    result = CallOutcome(outcome)
    settings = services.settings
    with session_scope(services.sessionmaker, immediate=True) as db:
        call = db.scalars(sa.select(Call).where(
            Call.provider == provider, Call.provider_call_id == provider_call_id)
            .with_for_update()).first()
        if call is None:  # a mother's own call, rejected: its call back is a call of its own
            log.info("end of call %s (%s): not a call Kuma placed", provider_call_id, result)
            return None
        if call.status not in (CallStatus.RINGING, CallStatus.ANSWERED):
            return call.status  # the same notice again, or one of an earlier attempt
        call.status, call.ended_at = CallStatus(result.value), now
        call.duration_s = duration_s
        call.cost = Decimal(cost) if cost is not None else None
        call.currency = currency
        metrics.count_call(result.value, duration_s, call.cost, currency)
        if result in RETRIED and call.attempts < settings.voice_max_attempts:
            due = outside_quiet_hours(now + dt.timedelta(minutes=settings.voice_retry_minutes),
                                      settings.quiet_window, settings.tz)
            call.status, call.next_attempt_at = CallStatus.QUEUED, due
            dispatch_after_commit(db, services.queue, [call.id], at=due)
            log.info("call %s %s (attempt %d): next attempt at %s", call.id, result,
                     call.attempts, due.isoformat())
        settle_invitation(db, call)
        return call.status


def settle_invitation(db: so.Session, call: Call) -> None:
    """Mark the invitation of a call sent once she answered, failed once it will not be."""
    if call.invitation_id is None or call.status not in FINAL:
        return
    status = InvitationStatus.SENT if call.status == CallStatus.COMPLETED else (
        InvitationStatus.SKIPPED if call.error == "opted_out" else InvitationStatus.FAILED)
    db.execute(sa.update(Invitation).where(Invitation.id == call.invitation_id)
               .values(status=status))
