"""The minute sweep: lapsed sessions are closed, lost sends and flushes are picked up."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from gateway import upkeep
from gateway.sms import outbox
from gateway.models import Contact, OutboundMessage, SurveySession
from tests.integration.test_sms_conversations import sms
from tests.integration.test_ussd_conversations import play

NOW = dt.datetime.now(dt.timezone.utc)


def test_sessions_whose_state_lapsed_are_closed(client, services, drain):
    play(client, "ATUid_sweep", ["1", "1", "2"])
    sms(client, "AVIS 07")
    drain()
    assert upkeep.sweep(services, now=NOW) == {"ussd": 0, "sms": 0}  # both still live
    later = upkeep.sweep(services, now=NOW + dt.timedelta(hours=49))
    assert later == {"ussd": 1, "sms": 1}
    with services.sessionmaker() as db:
        statuses = {channel: status for channel, status in db.execute(
            sa.select(SurveySession.channel, SurveySession.status))}
        assert statuses == {"ussd": "abandoned", "sms": "expired"}


def test_a_queued_sms_whose_job_was_lost_is_sent_by_the_sweep(client, services, drain):
    # The message is stamped with the real clock: NOW, taken at import, may be minutes old.
    now = dt.datetime.now(dt.timezone.utc)
    sms(client, "AVIS 07")
    drain()
    with services.sessionmaker() as db:  # as if the enqueue after commit had failed
        contact_id = db.scalar(sa.select(Contact.id))
        message_id, _ = outbox.queue_message(db, contact_id=contact_id, body="Bonjour",
                                             purpose="notice")
        db.commit()
    with services.sessionmaker() as db:
        assert outbox.redispatch_stale(db, services.queue, now=now) == 0  # not late yet
        assert outbox.redispatch_stale(db, services.queue,
                                       now=now + dt.timedelta(minutes=11)) == 1
    drain()
    with services.sessionmaker() as db:
        assert db.get(OutboundMessage, message_id).status == "logged"
        assert outbox.redispatch_stale(db, services.queue,
                                       now=now + dt.timedelta(minutes=30)) == 0
