"""Prometheus metrics: webhook traffic, session outcomes, failures and the RQ queue.

The counters live in Kuma's own `REGISTRY`, not prometheus_client's global one, so that
tests and several apps in one process do not collide. Queue depth and the failed-job count
are not stored here: `QueueCollector` reads them from Redis at scrape time, for the queue
of the app being scraped.

Several processes (gunicorn -w N): each process counts on its own, and a scrape of
/metrics reaches whichever process the load balancer picks. Either

- set PROMETHEUS_MULTIPROC_DIR to an empty folder writable by every web process, created
  afresh at each deploy, before the processes start: prometheus_client then keeps the
  counters in files there and `exposition()` sums them over the processes (counters and
  histograms only; Kuma keeps no per-process gauges, so gunicorn needs no child_exit
  hook); or
- scrape each process on its own port and let Prometheus sum (`sum by (...)`).

Workers and the scheduler serve no /metrics: jobs that fail show in the failed-registry
gauge instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import redis
import rq
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from gateway.engine import events as ev

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

WEBHOOK_REQUESTS = Counter(
    "kuma_webhook_requests", "Provider webhook requests answered, by endpoint and HTTP status.",
    ["endpoint", "status"], registry=REGISTRY)
# USSD answers must leave within the network's few seconds; most take milliseconds.
WEBHOOK_LATENCY = Histogram(
    "kuma_webhook_latency_seconds", "Time to answer a provider webhook, by endpoint.",
    ["endpoint"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.4, 0.6, 1.0, 1.5, 2.0))
SESSION_EVENTS = Counter(
    "kuma_session_events", "Survey sessions started and ended, by event.",
    ["event"], registry=REGISTRY)
FAILURES = Counter(
    "kuma_failures", "Things that went wrong and were handled, by kind.",
    ["kind"], registry=REGISTRY)

CALLS = Counter(
    "kuma_calls", "Outbound survey calls ended, by outcome.", ["outcome"], registry=REGISTRY)
CALL_SECONDS = Counter(
    "kuma_call_seconds", "Seconds of outbound survey calls, as the provider billed them.",
    registry=REGISTRY)
CALL_COST = Counter(
    "kuma_call_cost", "Cost of outbound survey calls, by currency.", ["currency"],
    registry=REGISTRY)

SESSION_EVENT_NAMES = ("started", "completed", "abandoned", "expired", "opted_out", "declined")
for _name in SESSION_EVENT_NAMES:
    SESSION_EVENTS.labels(event=_name)  # every series shows from the first scrape, at 0


def observe_webhook(endpoint: str, status: int | str, seconds: float) -> None:
    """Count one answered webhook and record how long it took."""
    WEBHOOK_REQUESTS.labels(endpoint=endpoint, status=str(status)).inc()
    WEBHOOK_LATENCY.labels(endpoint=endpoint).observe(seconds)


def count_session_events(events: Iterable[dict[str, Any]]) -> None:
    """Count the starts and ends among a turn's engine events."""
    for event in events:
        kind = event.get("type")
        if kind == ev.SESSION_STARTED:
            SESSION_EVENTS.labels(event="started").inc()
        elif kind == ev.OPTED_OUT:
            # Counted here rather than on its session_ended, so that an opt-out outside
            # any session counts too, and one inside a session counts once.
            SESSION_EVENTS.labels(event="opted_out").inc()
        elif kind == ev.SESSION_ENDED:
            status = event.get("status")
            if status in SESSION_EVENT_NAMES and status != "opted_out":
                SESSION_EVENTS.labels(event=status).inc()
            elif status == "failed":
                FAILURES.labels(kind="session_failed").inc()


class QueueCollector:
    """Collect an RQ queue's depth and failed-job count from Redis at scrape time."""

    def __init__(self, queue: rq.Queue) -> None:
        self.queue = queue

    def collect(self) -> Iterator[Metric]:
        """Yield the gauges; a Redis that does not answer yields none, and is logged."""
        try:
            queued = self.queue.count
            failed = self.queue.failed_job_registry.count
            scheduled = self.queue.scheduled_job_registry.count
        except (redis.RedisError, OSError) as error:  # a scrape must not fail on Redis
            log.warning("metrics: cannot read queue %s: %s", self.queue.name, error)
            return
        for name, help_text, value in (
                ("kuma_queue_jobs", "Jobs waiting in the RQ queue.", queued),
                ("kuma_queue_failed_jobs", "Jobs in the RQ failed-job registry.", failed),
                ("kuma_queue_scheduled_jobs", "Jobs scheduled for later.", scheduled)):
            gauge = GaugeMetricFamily(name, help_text, labels=["queue"])
            gauge.add_metric([self.queue.name], value)
            yield gauge


class _Forward:
    """Expose another registry's metrics as one collector of a scrape registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def multiprocess_mode() -> bool:
    """Whether prometheus_client keeps values in PROMETHEUS_MULTIPROC_DIR files."""
    return values.ValueClass is not values.MutexValue


def exposition(queue: rq.Queue | None = None,
               collectors: Iterable[Any] = ()) -> tuple[bytes, str]:
    """Render every metric, `queue`'s gauges and `collectors` as Prometheus text; body, type."""
    scrape = CollectorRegistry(auto_describe=False)
    if multiprocess_mode():
        MultiProcessCollector(scrape)
    else:
        scrape.register(_Forward(REGISTRY))
    if queue is not None:
        scrape.register(QueueCollector(queue))
    for collector in collectors:
        scrape.register(collector)
    return generate_latest(scrape), CONTENT_TYPE_LATEST


def count_call(outcome: str, duration_s: int | None, cost: object, currency: str | None) -> None:
    """Count one ended call, its seconds and its cost."""
    CALLS.labels(outcome=outcome).inc()
    if duration_s:
        CALL_SECONDS.inc(duration_s)
    if cost is not None and currency:
        CALL_COST.labels(currency=currency).inc(float(cost))  # type: ignore[arg-type]
