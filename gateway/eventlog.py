"""The events of every session, on their way from the webhooks to SQL, in batches.

A webhook appends its session's events to one Redis list, in the same transaction that
saves the session's state, and makes sure a flush job is queued. The flush job moves a
batch to a processing list, files the whole batch in one database transaction, and only
then drops it. A flush killed midway leaves its batch in the processing list, and the next
flush files it first; filing is idempotent (unique keys), so nothing is lost or doubled.
One flusher runs at a time (a Redis lock), which also keeps each session's events in order.

Under load a flush that has caught up does not wait for more events, which would keep the
worker from its other jobs (SMS to send): it schedules the next flush a second later and
leaves the flush flag set meanwhile, so that webhooks queue nothing and the next flush
files a second's worth of events in one batch instead of one job per webhook.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import redis
import rq
from prometheus_client.core import GaugeMetricFamily, Metric
from rq import Retry

from gateway import deadletter, metrics
from gateway.engine import events as ev
from gateway.phones import mask_numbers_in_text
from gateway.session_store import EventsList

log = logging.getLogger(__name__)

EVENTS_KEY = "kuma:events"
PROCESSING_KEY = "kuma:events:processing"
LOCK_KEY = "kuma:events:flusher"
PENDING_KEY = "kuma:events:flush-queued"
FLUSH_JOB = "gateway.jobs.flush_events"
FLUSH_RETRY = Retry(max=10, interval=[1, 5, 15, 60, 300])
BATCH_SIZE = 500
LOCK_SECONDS = 60  # a dead flusher's lock frees itself after this
LINGER_SECONDS = 1  # under load, the next flush waits this long: fewer, bigger batches
BUSY = 100  # records filed by a flush that make it "under load"
# How long a scheduled flush holds off the webhooks' own flush jobs: should RQ's scheduler
# be slow or absent, a webhook (or the minute sweep) queues a flush after this anyway.
SCHEDULED_HOLD_SECONDS = 10
# The list as a USSD turn's compare-and-set appends to it, in the same Lua script.
EVENTS = EventsList(EVENTS_KEY, PENDING_KEY, LOCK_SECONDS)

# Move up to ARGV[1] records from the head of KEYS[1] to KEYS[2], atomically; return them.
_TAKE_BATCH = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  for i = 1, #items, 100 do
    redis.call('RPUSH', KEYS[2], unpack(items, i, math.min(i + 99, #items)))
  end
end
return items
"""

# Take the flusher's lock if free, or if this owner already holds it (a retried job).
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def record(context: dict[str, Any], events: list[dict[str, Any]],
           reply: dict[str, Any] | None = None) -> str:
    """Return one turn's record as it is stored in the list, free text masked."""
    payload = {"context": context, "events": [_masked(event) for event in events],
               "reply": reply}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _masked(event: dict[str, Any]) -> dict[str, Any]:
    """Mask phone numbers in an answer's free text before it reaches Redis (and its AOF)."""
    if event.get("type") != ev.ANSWER_GIVEN or event.get("score") is not None \
            or event.get("dimension") is not None:
        return event
    return {**event, **{field: mask_numbers_in_text(event[field]) for field in ("raw", "value")
                        if isinstance(event.get(field), str)}}


def append(pipe: Any, records: Iterable[str]) -> None:
    """Append records to the list, inside the caller's Redis transaction (or at once)."""
    records = list(records)
    if records:
        pipe.rpush(EVENTS_KEY, *records)


def queue_flush(queue: rq.Queue) -> None:
    """Queue a flush job (when the caller has just set the flush flag itself)."""
    queue.enqueue_call(FLUSH_JOB, retry=FLUSH_RETRY, description="file session events")


def kick(client: redis.Redis, queue: rq.Queue) -> None:
    """Queue a flush job unless one is already queued or scheduled."""
    if client.set(PENDING_KEY, "1", nx=True, ex=LOCK_SECONDS):
        queue_flush(queue)


def drain(services: Any, *, owner: str, batch_size: int = BATCH_SIZE,
          linger: float = 0) -> int:
    """File waiting records until the list is empty; 0 if another flusher is at work.

    With `linger`, a flush that files at least BUSY records and catches up schedules the
    next flush `linger` seconds later instead of filing the few records that trickle in.
    """
    client = services.redis
    if not client.eval(_ACQUIRE, 1, LOCK_KEY, owner, LOCK_SECONDS):
        return 0
    filed, caught_up = 0, False
    try:
        # The flag stays set while this flush runs: it takes what is pushed meanwhile.
        client.expire(PENDING_KEY, LOCK_SECONDS)
        while True:
            batch = client.lrange(PROCESSING_KEY, 0, -1)  # a killed flush's batch comes first
            taken = not batch
            if taken:
                batch = client.eval(_TAKE_BATCH, 2, EVENTS_KEY, PROCESSING_KEY, batch_size)
            if not batch:
                break
            dead = _file_batch(services, batch)
            with client.pipeline(transaction=True) as pipe:
                deadletter.set_aside(pipe, dead, dt.datetime.now(dt.timezone.utc))
                pipe.delete(PROCESSING_KEY)
                pipe.expire(LOCK_KEY, LOCK_SECONDS)
                pipe.expire(PENDING_KEY, LOCK_SECONDS)
                pipe.execute()
            filed += len(batch) - len(dead)
            if linger and filed >= BUSY and taken and len(batch) < batch_size:
                caught_up = True  # the list was emptied: what comes next can gather
                break
    finally:
        client.eval(_RELEASE, 1, LOCK_KEY, owner)
    if caught_up:
        client.set(PENDING_KEY, "1", ex=SCHEDULED_HOLD_SECONDS)
        services.queue.enqueue_in(dt.timedelta(seconds=linger), FLUSH_JOB,
                                  retry=FLUSH_RETRY, description="file session events")
    else:
        client.delete(PENDING_KEY)  # events pushed from now on queue a flush of their own
        if client.llen(EVENTS_KEY):
            kick(client, services.queue)  # pushed while we were finishing
    if filed:
        log.info("filed %d session event record(s)", filed)
    return filed


def _file_batch(services: Any, batch: list[bytes]) -> list[tuple[bytes, str]]:
    """File a batch; return the records that cannot be filed, which must not stop the rest."""
    from gateway.filing import file_records

    dead = deadletter.file_isolating(lambda records: file_records(services, records), batch)
    for _, reason in dead:
        metrics.FAILURES.labels(kind="dead_letter").inc()
        log.error("set a session event record aside (see `gateway events dead list`): %s",
                  mask_numbers_in_text(reason))
    return dead


def oldest_unfiled_seconds(client: redis.Redis, now: dt.datetime) -> float | None:
    """Return how long the oldest record waiting to be filed has waited; None if none waits."""
    for key in (PROCESSING_KEY, EVENTS_KEY):
        head = client.lindex(key, 0)
        if head is not None:
            return max((now - _recorded_at(head)).total_seconds(), 0.0)
    return None


def _recorded_at(item: bytes) -> dt.datetime:
    """Return when a record's turn happened: its latest event (records carry no stamp)."""
    try:
        record = json.loads(item)
        stamps = [event["at"] for event in record.get("events") or []]
        times = [dt.datetime.fromisoformat(stamp) for stamp in stamps
                 or [record["context"]["started_at"]]]
        return max(t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc) for t in times)
    except (ValueError, KeyError, TypeError, AttributeError):
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)  # unreadable: as old as can be


def waiting(client: redis.Redis) -> int:
    """Return how many records wait to be filed (for metrics and health)."""
    return client.llen(EVENTS_KEY) + client.llen(PROCESSING_KEY)


class FilingCollector:
    """Collect how long the oldest unfiled event has waited and how many were set aside."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def collect(self) -> Iterator[Metric]:
        """Yield the gauges; a Redis that does not answer yields none, and is logged."""
        try:
            age = oldest_unfiled_seconds(self.client, dt.datetime.now(dt.timezone.utc))
            dead = deadletter.count(self.client)
        except (redis.RedisError, OSError) as error:  # a scrape must not fail on Redis
            log.warning("metrics: cannot read the events lists: %s", error)
            return
        yield GaugeMetricFamily(
            "kuma_events_oldest_unfiled_seconds",
            "Seconds the oldest session event waiting to be filed into SQL has waited "
            "(0 when none waits).", value=age or 0.0)
        yield GaugeMetricFamily(
            "kuma_events_dead_letters",
            "Session event records set aside because they cannot be filed "
            "(`gateway events dead list`).", value=dead)
