"""The minute's upkeep: end sessions whose state lapsed, refile and resend what was lost."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from gateway import eventlog
from gateway.db import session_scope
from gateway.models import SessionStatus, SurveySession
from gateway.services import Services
from gateway.sms import outbox

log = logging.getLogger(__name__)


def sweep_sessions(services: Services, *, now: dt.datetime) -> dict[str, int]:
    """Mark sessions whose state has lapsed in Redis (USSD abandoned, SMS expired).

    Also makes sure waiting events get filed and queued SMS get sent, should a process
    have died between saving them and queueing their job.
    """
    if eventlog.waiting(services.redis):
        eventlog.kick(services.redis, services.queue)
    with session_scope(services.sessionmaker) as db:
        outbox.redispatch_stale(db, services.queue, now=now)
    return sweep(services, now=now)


def sweep(services: Services, *, now: dt.datetime) -> dict[str, int]:
    """Do sweep_sessions' work at `now`; return how many sessions of each channel it ended."""
    settings = services.settings
    ussd_cutoff = now - dt.timedelta(seconds=settings.ussd_session_ttl
                                     + settings.ussd_resume_window + 60)
    ended = {"ussd": 0, "sms": 0}
    with session_scope(services.sessionmaker, immediate=True) as db:
        ended["ussd"] = db.execute(
            sa.update(SurveySession)
            .where(SurveySession.status == SessionStatus.ACTIVE,
                   SurveySession.channel == "ussd", SurveySession.started_at < ussd_cutoff)
            .values(status=SessionStatus.ABANDONED, ended_at=now)).rowcount
        flow_ids = db.scalars(sa.select(SurveySession.flow_id).distinct().where(
            SurveySession.status == SessionStatus.ACTIVE, SurveySession.channel == "sms")).all()
        for flow_id in flow_ids:
            flow = services.flows.live(flow_id)
            hours = flow.sms.expiry_hours if flow else 48
            ended["sms"] += db.execute(
                sa.update(SurveySession)
                .where(SurveySession.status == SessionStatus.ACTIVE,
                       SurveySession.channel == "sms", SurveySession.flow_id == flow_id,
                       SurveySession.started_at < now - dt.timedelta(hours=hours))
                .values(status=SessionStatus.EXPIRED, ended_at=now)).rowcount
    if any(ended.values()):
        log.info("swept sessions: %d USSD abandoned, %d SMS expired", ended["ussd"],
                 ended["sms"])
    return ended
