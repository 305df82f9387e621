"""The periodic tasks: a small loop that enqueues each task's RQ job once per time slot.

Slots are instants on a task's schedule (every minute, every 10 minutes, Mondays at 08:00
local time). Each loop turn asks `due_slots` which slots passed since the last turn and
claims each with a Redis SET NX on kuma:schedule:<task>:<slot> before enqueueing, so that
two schedulers running side by side (a deploy overlapping, two machines) enqueue a slot's
job once. A scheduler that starts late still runs the latest slot its task's catch-up
window allows: weekly summaries go out up to a day late rather than not at all.

The jobs do the work; this module only decides when.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import redis

from gateway.models import iso_week
from gateway.services import Services
from gateway.settings import Settings

log = logging.getLogger(__name__)

SLOT_KEY = "kuma:schedule:{task}:{slot}"
TICK = 5.0  # seconds between loop turns; well under the shortest period
SUMMARIES_JOB = "gateway.jobs.send_summaries"
SWEEP_JOB = "gateway.jobs.sweep_sessions"
REFRESH_CENTERS_JOB = "gateway.jobs.refresh_directory"


class Schedule(Protocol):
    """When a task runs."""

    def latest(self, after: dt.datetime, upto: dt.datetime) -> dt.datetime | None:
        """Return the latest slot in (after, upto], or None."""


@dataclasses.dataclass(frozen=True)
class Every:
    """Slots every `period`, aligned on the Unix epoch (so every scheduler agrees)."""

    period: dt.timedelta

    def latest(self, after: dt.datetime, upto: dt.datetime) -> dt.datetime | None:
        """Return the latest multiple of the period in (after, upto], or None."""
        seconds = self.period.total_seconds()
        slot = dt.datetime.fromtimestamp(upto.timestamp() // seconds * seconds, dt.timezone.utc)
        return slot if slot > after else None


@dataclasses.dataclass(frozen=True)
class Weekly:
    """A slot each week on `weekday` (Monday = 0) at local time `at` in `tz`."""

    weekday: int
    at: dt.time
    tz: dt.tzinfo

    def latest(self, after: dt.datetime, upto: dt.datetime) -> dt.datetime | None:
        """Return the latest weekly slot in (after, upto], or None."""
        local = upto.astimezone(self.tz)
        day = local.date() - dt.timedelta(days=(local.weekday() - self.weekday) % 7)
        slot = dt.datetime.combine(day, self.at, tzinfo=self.tz)
        if slot > upto:
            # Combined anew rather than minus 7 days, so a DST change keeps the local hour.
            slot = dt.datetime.combine(day - dt.timedelta(days=7), self.at, tzinfo=self.tz)
        slot = slot.astimezone(dt.timezone.utc)
        return slot if slot > after else None


@dataclasses.dataclass(frozen=True)
class Task:
    """A periodic task: its schedule, its job and the job's arguments for a slot."""

    name: str
    schedule: Schedule
    job: str
    catch_up: dt.timedelta  # how late a missed slot may still run
    arguments: Callable[[dt.datetime], dict[str, Any]] = lambda slot: {}


def build_tasks(settings: Settings) -> list[Task]:
    """Return the periodic tasks for `settings`."""
    tz = settings.tz

    def last_week(slot: dt.datetime) -> dict[str, Any]:
        # The ISO week that ended before the slot's own week began.
        return {"week": iso_week(slot - dt.timedelta(days=7), tz)}

    return [
        Task("weekly_summaries", Weekly(settings.summary_weekday, settings.summary_time, tz),
             SUMMARIES_JOB, catch_up=dt.timedelta(days=1), arguments=last_week),
        Task("sweep_sessions", Every(dt.timedelta(minutes=1)), SWEEP_JOB,
             catch_up=dt.timedelta(minutes=1)),
        Task("refresh_centers", Every(dt.timedelta(minutes=10)), REFRESH_CENTERS_JOB,
             catch_up=dt.timedelta(minutes=10)),
    ]


def due_slots(now: dt.datetime, last_check: dt.datetime | None,
              tasks: list[Task]) -> list[tuple[Task, dt.datetime]]:
    """Return (task, slot) for each task whose latest slot passed after `last_check`.

    With `last_check` None (a scheduler just started), each task looks back over its
    catch-up window. Slots missed in between collapse into the latest: a sweep or a
    refresh run once does what sixty would.
    """
    due = []
    for task in tasks:
        after = last_check if last_check is not None else now - task.catch_up
        slot = task.schedule.latest(after, now)
        if slot is not None:
            due.append((task, slot))
    return due


def slot_key(task: Task, slot: dt.datetime) -> str:
    """Return the Redis key that claims `task`'s `slot`."""
    stamp = slot.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%MZ")
    return SLOT_KEY.format(task=task.name, slot=stamp)


def fire(services: Services, task: Task, slot: dt.datetime) -> str | None:
    """Enqueue `task`'s job for `slot` unless another scheduler did; return the job id."""
    # Kept longer than the catch-up window, so a restarted scheduler sees the claim.
    ttl = int(max(task.catch_up, dt.timedelta(hours=1)).total_seconds() * 2)
    if not services.redis.set(slot_key(task, slot), "1", nx=True, ex=ttl):
        log.debug("schedule: %s at %s already claimed", task.name, slot.isoformat())
        return None
    arguments = task.arguments(slot)
    try:
        job = services.queue.enqueue(task.job, kwargs=arguments,
                                     description=f"{task.name} for {slot.isoformat()}")
    except redis.RedisError:
        # Give the slot back, or no scheduler would ever enqueue it.
        services.redis.delete(slot_key(task, slot))
        raise
    log.info("schedule: %s at %s enqueued as job %s %s", task.name, slot.isoformat(), job.id,
             arguments or "")
    return job.id


def run_scheduler(services: Services, stop_event: threading.Event,
                  clock: Callable[[], dt.datetime] | None = None, *,
                  tasks: list[Task] | None = None, tick: float = TICK) -> None:
    """Enqueue periodic jobs on time until `stop_event` is set."""
    clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
    tasks = build_tasks(services.settings) if tasks is None else tasks
    log.info("scheduler started: %s", ", ".join(task.name for task in tasks))
    last_check: dt.datetime | None = None
    while not stop_event.is_set():
        now = clock()
        try:
            for task, slot in due_slots(now, last_check, tasks):
                fire(services, task, slot)
        except redis.RedisError as error:
            # Keep last_check: the slots are tried again on the next turn.
            log.error("scheduler: Redis failed (%s); trying again in %g s", error, tick)
        else:
            last_check = now
        stop_event.wait(tick)
    log.info("scheduler stopped")
