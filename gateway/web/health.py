"""`GET /healthz` for load balancers and `GET /metrics` for Prometheus.

A load balancer waits a second or two at most, and a database or Redis that is down may
not refuse a connection but leave it hanging: each check runs in a daemon thread and is
reported as an error when it has not answered within CHECK_TIMEOUT. Daemon threads, so
that a check stuck on a dead socket never keeps the process from exiting; a semaphore, so
that stuck checks cannot pile up without bound while the backend stays down.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify

from gateway import deadletter, eventlog, metrics
from gateway.services import Services
from gateway.settings import Settings
from gateway.web import context

log = logging.getLogger(__name__)

blueprint = Blueprint("health", __name__)

CHECK_TIMEOUT = 1.5  # seconds for both checks, which run side by side
REASON_LENGTH = 120
_in_flight = threading.BoundedSemaphore(16)


class _Check:
    """One check running in a daemon thread."""

    def __init__(self, part: str, check: Callable[[Services], Any], services: Services):
        self.part = part
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        if not _in_flight.acquire(blocking=False):
            self.error = RuntimeError("earlier checks are still waiting for an answer")
            self.done.set()
            return
        threading.Thread(target=self._run, args=(check, services), daemon=True,
                         name=f"healthz-{part}").start()

    def _run(self, check: Callable[[Services], Any], services: Services) -> None:
        try:
            self.result = check(services)
        except Exception as error:  # any failure of a backend is what /healthz reports
            self.error = error
        finally:
            _in_flight.release()
            self.done.set()

    def outcome(self, deadline: float) -> tuple[str, Any]:
        """Return ("ok", result) or ("error", None); the reason goes to the log only."""
        if not self.done.wait(max(deadline - time.monotonic(), 0)):
            reason = f"no answer within {CHECK_TIMEOUT:g} s"
        elif self.error is not None:
            reason = _short(self.error)
        else:
            return "ok", self.result
        # Hosts, ports and drivers are for the operator, not for whoever asks /healthz.
        log.warning("healthz: %s %s", self.part, reason)
        metrics.FAILURES.labels(kind=f"health_{self.part}").inc()
        return "error", None


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Answer 200 when the database and Redis answer and filing moves, else 503."""
    services = context.services()
    deadline = time.monotonic() + CHECK_TIMEOUT
    database = _Check("database", _check_database, services)
    redis_check = _Check("redis", _check_redis, services)
    body: dict[str, Any] = {"status": "ok"}
    body["database"], _ = database.outcome(deadline)
    body["redis"], found = redis_check.outcome(deadline)
    if found is not None:
        body["queue"], body["filing"] = found
        body["filing"]["status"] = _filing_status(body["filing"], services.settings)
    healthy = (body["database"] == "ok" and body["redis"] == "ok"
               and body["filing"]["status"] == "ok")
    if not healthy:
        body["status"] = "error"
    return jsonify(body), 200 if healthy else 503


@blueprint.get("/metrics")
def prometheus_metrics() -> Response:
    """Answer the Prometheus text exposition of Kuma's metrics and queue gauges."""
    services = context.services()
    body, content_type = metrics.exposition(
        services.queue, [eventlog.FilingCollector(services.redis)])
    return Response(body, content_type=content_type)


def _check_database(services: Services) -> None:
    # The driver's own connection: one round trip, and no SQLAlchemy transaction that a
    # writer holding SQLite's lock could make it wait for.
    connection = services.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    finally:
        connection.close()


def _check_redis(services: Services) -> tuple[dict[str, int], dict[str, Any]]:
    services.redis.ping()
    queue = {"queued": services.queue.count, "failed": services.queue.failed_job_registry.count}
    age = eventlog.oldest_unfiled_seconds(services.redis, dt.datetime.now(dt.timezone.utc))
    filing = {"oldest_unfiled_seconds": None if age is None else round(age),
              "dead_letters": deadletter.count(services.redis)}
    return queue, filing


def _filing_status(filing: dict[str, Any], settings: Settings) -> str:
    """Say "stuck" when the oldest unfiled answer has waited longer than the setting allows."""
    age = filing["oldest_unfiled_seconds"]
    if age is None or age <= settings.filing_stall_seconds:
        return "ok"
    log.error("healthz: the oldest unfiled session event waited %d s (FILING_STALL_SECONDS "
              "is %d): is the worker running? see `gateway events dead list`", age,
              settings.filing_stall_seconds)
    return "stuck"


def _short(error: BaseException) -> str:
    """Name the error and the first line of its message, cut to fit a status page."""
    cause = getattr(error, "orig", None) or error  # SQLAlchemy wraps the driver's error
    lines = str(cause).strip().splitlines()
    text = f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__
    return text if len(text) <= REASON_LENGTH else text[:REASON_LENGTH - 1] + "…"
