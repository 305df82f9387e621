"""The send and delivery jobs run by a real RQ worker, configured from the environment."""

from __future__ import annotations

import pytest
import rq

from gateway.sms import outbox
from gateway.models import MessageStatus
from tests.sms.support import PHONE, add_contact, add_message, message, point_worker_at


@pytest.fixture
def at_worker(monkeypatch, settings, at_standin):
    """Point the worker at the AT stand-in; return a function that drains the queue."""
    point_worker_at(monkeypatch, settings, SMS_OUTBOX="provider",
                    SMS_PROVIDER="africastalking", AT_USERNAME="kuma",
                    AT_API_KEY="at-test-key", AT_SENDER="KUMA", AT_API_BASE=at_standin.url,
                    AT_WEBHOOK_TOKEN="hook-token")

    def drain(services) -> None:
        rq.SimpleWorker([services.queue], connection=services.redis).work(
            burst=True, with_scheduler=False)

    return drain


def test_a_dispatched_message_is_sent_by_the_worker(services, at_standin, at_worker):
    message_id = add_message(services, add_contact(services), "Bonjour")

    outbox.dispatch(services.queue, [message_id])
    at_worker(services)

    assert [(r.form["to"], r.form["message"]) for r in at_standin.requests] == [(PHONE, "Bonjour")]
    assert message(services, message_id).status is MessageStatus.SENT


def test_a_retryable_failure_is_retried_later_with_backoff(services, at_standin, at_worker):
    message_id = add_message(services, add_contact(services))
    at_standin.answer_next(500, "Internal Server Error")

    outbox.dispatch(services.queue, [message_id])
    at_worker(services)

    [job_id] = services.queue.scheduled_job_registry.get_job_ids()
    job = rq.job.Job.fetch(job_id, connection=services.redis)
    assert job.retries_left == outbox.SEND_RETRY.max - 1
    assert job.get_retry_interval() == outbox.SEND_RETRY.intervals[1]
    queued = message(services, message_id)
    assert (queued.status, queued.attempts) == (MessageStatus.QUEUED, 1)


def test_the_last_retry_marks_the_message_failed(services, at_standin, at_worker):
    message_id = add_message(services, add_contact(services))
    at_standin.answer_next(500, "Internal Server Error")
    at_standin.answer_next(500, "Internal Server Error")

    services.queue.enqueue_call(outbox.SEND_JOB, args=(message_id,),
                                retry=rq.Retry(max=1))
    at_worker(services)

    assert len(at_standin.requests) == 2
    failed = message(services, message_id)
    assert (failed.status, failed.error_code, failed.attempts) == \
        (MessageStatus.FAILED, "HTTP 500", 2)
    assert len(services.queue.failed_job_registry) == 1


def test_a_permanent_refusal_ends_the_job_without_retry(services, at_standin, at_worker):
    message_id = add_message(services, add_contact(services))
    at_standin.reject_next(402, "InvalidSenderId")

    outbox.dispatch(services.queue, [message_id])
    at_worker(services)

    assert services.queue.scheduled_job_registry.get_job_ids() == []
    assert len(services.queue.failed_job_registry) == 0
    assert message(services, message_id).status is MessageStatus.REJECTED


def test_delivery_reports_are_filed_by_the_worker(services, at_standin, at_worker):
    message_id = add_message(services, add_contact(services))
    outbox.dispatch(services.queue, [message_id])
    at_worker(services)
    provider_id = message(services, message_id).provider_message_id

    # As the webhooks enqueue it: plain values only.
    services.queue.enqueue_call("gateway.jobs.record_delivery",
                                args=("africastalking", provider_id, "delivered", None, None,
                                      False))
    at_worker(services)

    assert message(services, message_id).status is MessageStatus.DELIVERED
