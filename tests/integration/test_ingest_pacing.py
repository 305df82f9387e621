"""Under load, flushes are paced: one batch a second, not one job per webhook."""

from __future__ import annotations

import time

import rq
import sqlalchemy as sa
from rq.registry import ScheduledJobRegistry

from gateway import eventlog
from gateway.models import Answer, SurveySession
from tests.integration.test_ussd_conversations import play

WHOLE_SURVEY = ["1", "1", "2", "2", "1", "1", "1", "1", "1", "2", "1", "0"]


def stored(services, model) -> int:
    with services.sessionmaker() as db:
        return db.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_busy_flush_schedules_the_next_instead_of_waiting(client, services,
                                                            worker_environment):
    for number in range(10):  # 130 records: more than a quiet trickle
        play(client, f"ATUid_busy_{number}", WHOLE_SURVEY, phone=f"+2237600{number:04d}")
    waiting = eventlog.waiting(services.redis)
    assert waiting == 130 >= eventlog.BUSY
    assert services.queue.count == 1  # the webhooks queued one flush between them

    started = time.monotonic()
    filed = eventlog.drain(services, owner="test", linger=1)
    assert time.monotonic() - started < 5  # filed and returned; no sleeping in the job
    assert filed == waiting and eventlog.waiting(services.redis) == 0
    assert stored(services, SurveySession) == 10
    scheduled = ScheduledJobRegistry(queue=services.queue)
    assert scheduled.count == 1  # the next flush, a second from now

    # Webhooks meanwhile queue no flush of their own: the scheduled one will take theirs.
    services.queue.empty()
    play(client, "ATUid_busy_late", WHOLE_SURVEY, phone="+22376009999")
    assert services.queue.count == 0 and eventlog.waiting(services.redis) == 13

    time.sleep(1.2)
    rq.SimpleWorker([services.queue], connection=services.redis).work(
        burst=True, with_scheduler=True)  # RQ's scheduler moves the due flush to the queue
    assert eventlog.waiting(services.redis) == 0
    assert stored(services, SurveySession) == 11
    assert stored(services, Answer) == 11 * 10  # the comment was skipped: 10 answers each


def test_a_quiet_flush_files_and_lets_the_next_webhook_queue_a_flush(client, services,
                                                                      worker_environment):
    play(client, "ATUid_quiet", WHOLE_SURVEY)
    services.queue.empty()
    assert eventlog.drain(services, owner="test", linger=1) == 13
    assert ScheduledJobRegistry(queue=services.queue).count == 0
    assert not services.redis.exists(eventlog.PENDING_KEY)
    play(client, "ATUid_quiet_2", WHOLE_SURVEY, phone="+22376000002")
    assert services.queue.count == 1  # filed within moments, not after a linger


def test_a_killed_flushs_batch_does_not_count_as_caught_up(client, services,
                                                           worker_environment):
    for number in range(10):
        play(client, f"ATUid_left_{number}", WHOLE_SURVEY, phone=f"+2237610{number:04d}")
    services.redis.eval(eventlog._TAKE_BATCH, 2, eventlog.EVENTS_KEY, eventlog.PROCESSING_KEY,
                        eventlog.BUSY)  # a flush killed after taking its batch
    assert eventlog.drain(services, owner="test", linger=1) == 130  # all of it, at once
    assert eventlog.waiting(services.redis) == 0
    assert stored(services, SurveySession) == 10
