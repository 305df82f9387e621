"""The scheduler: slots from an injected clock (no sleeping), claims and jobs on real Redis."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from collections.abc import Iterator

import pytest
import rq

from gateway import periodic
from gateway.db import session_scope
from gateway.models import Center
from gateway.periodic import Every, Task, Weekly, build_tasks, due_slots, fire, run_scheduler
from gateway.services import Services, for_worker
from gateway.settings import Settings

UTC = dt.timezone.utc
BAMAKO = zoneinfo.ZoneInfo("Africa/Bamako")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@pytest.fixture
def tasks() -> list[Task]:
    """The default tasks: summaries Mondays at 08:00 in Bamako (UTC+0, no DST)."""
    return build_tasks(Settings(secret_key="x", summary_schedule="MON 08:00"))


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = Services.build(settings, load_flows=False)
    yield built
    built.close()


def names(due: list[tuple[Task, dt.datetime]]) -> dict[str, dt.datetime]:
    return {task.name: slot for task, slot in due}


# ---------------------------------------------------------------- slots (pure)


def test_weekly_slot_is_due_once_when_monday_eight_passes(tasks: list[Task]) -> None:
    # 2025-01-06 is a Monday.
    assert "weekly_summaries" not in names(due_slots(utc(2025, 1, 6, 7, 59, 55),
                                                     utc(2025, 1, 6, 7, 59, 50), tasks))
    due = names(due_slots(utc(2025, 1, 6, 8, 0, 2), utc(2025, 1, 6, 7, 59, 57), tasks))
    assert due["weekly_summaries"] == utc(2025, 1, 6, 8, 0)
    assert "weekly_summaries" not in names(due_slots(utc(2025, 1, 6, 8, 0, 7),
                                                     utc(2025, 1, 6, 8, 0, 2), tasks))


def test_weekly_summaries_are_for_the_iso_week_that_just_ended(tasks: list[Task]) -> None:
    weekly = next(task for task in tasks if task.name == "weekly_summaries")
    assert weekly.job == "gateway.jobs.send_summaries"
    assert weekly.arguments(utc(2025, 1, 6, 8, 0)) == {"week": "2025-W01"}
    assert weekly.arguments(utc(2024, 12, 30, 8, 0)) == {"week": "2024-W52"}
    assert weekly.arguments(utc(2021, 1, 4, 8, 0)) == {"week": "2020-W53"}


def test_weekly_slot_keeps_its_local_hour_across_daylight_saving() -> None:
    weekly = Weekly(weekday=0, at=dt.time(8, 0), tz=PARIS)
    # Winter: 08:00 in Paris is 07:00 UTC; summer (after 2025-03-30): 06:00 UTC.
    assert weekly.latest(utc(2025, 3, 24, 6, 0), utc(2025, 3, 24, 9, 0)) == utc(2025, 3, 24, 7)
    assert weekly.latest(utc(2025, 3, 31, 5, 0), utc(2025, 3, 31, 9, 0)) == utc(2025, 3, 31, 6)
    # On Sunday the latest slot is the Monday before, six days back.
    assert weekly.latest(utc(2025, 3, 20), utc(2025, 3, 30, 12)) == utc(2025, 3, 24, 7)


def test_other_weekday_and_time_in_another_zone() -> None:
    settings = Settings(secret_key="x", summary_schedule="FRI 17:30", timezone="Europe/Paris")
    weekly = build_tasks(settings)[0]
    # Friday 2025-07-04 17:30 in Paris (UTC+2) is 15:30 UTC.
    due = names(due_slots(utc(2025, 7, 4, 15, 30, 1), utc(2025, 7, 4, 15, 29, 56), [weekly]))
    assert due == {"weekly_summaries": utc(2025, 7, 4, 15, 30)}
    assert weekly.arguments(due["weekly_summaries"]) == {"week": "2025-W26"}


def test_minute_and_ten_minute_slots(tasks: list[Task]) -> None:
    due = names(due_slots(utc(2025, 1, 7, 10, 20, 3), utc(2025, 1, 7, 10, 19, 58), tasks))
    assert due == {"sweep_sessions": utc(2025, 1, 7, 10, 20),
                   "refresh_centers": utc(2025, 1, 7, 10, 20)}
    due = names(due_slots(utc(2025, 1, 7, 10, 21, 3), utc(2025, 1, 7, 10, 20, 58), tasks))
    assert due == {"sweep_sessions": utc(2025, 1, 7, 10, 21)}
    assert due_slots(utc(2025, 1, 7, 10, 21, 8), utc(2025, 1, 7, 10, 21, 3), tasks) == []


def test_missed_slots_collapse_into_the_latest(tasks: list[Task]) -> None:
    # The scheduler was stuck for an hour: one sweep, one refresh, not sixty and six.
    due = due_slots(utc(2025, 1, 7, 11, 5, 30), utc(2025, 1, 7, 10, 5, 30), tasks)
    assert names(due) == {"sweep_sessions": utc(2025, 1, 7, 11, 5),
                          "refresh_centers": utc(2025, 1, 7, 11, 0)}


def test_a_late_start_catches_up_summaries_within_a_day(tasks: list[Task]) -> None:
    monday_noon = names(due_slots(utc(2025, 1, 6, 12, 0), None, tasks))
    assert monday_noon["weekly_summaries"] == utc(2025, 1, 6, 8, 0)
    assert monday_noon["sweep_sessions"] == utc(2025, 1, 6, 12, 0)
    tuesday = names(due_slots(utc(2025, 1, 7, 9, 0), None, tasks))
    assert "weekly_summaries" not in tuesday


def test_every_aligns_on_the_epoch_so_all_schedulers_agree() -> None:
    every = Every(dt.timedelta(minutes=10))
    assert every.latest(utc(2025, 1, 1, 0, 0), utc(2025, 1, 1, 0, 29, 59)) == utc(2025, 1, 1,
                                                                                    0, 20)
    assert every.latest(utc(2025, 1, 1, 0, 20), utc(2025, 1, 1, 0, 29, 59)) is None


# ---------------------------------------------------------------- claims and jobs (Redis)


def queued(services: Services) -> list[tuple[str, dict]]:
    return [(job.func_name, job.kwargs) for job in services.queue.get_jobs()]


def test_two_schedulers_enqueue_a_slot_once(settings: Settings, services: Services,
                                            tasks: list[Task]) -> None:
    other = Services.build(settings, load_flows=False)
    try:
        weekly = tasks[0]
        slot = utc(2025, 1, 6, 8, 0)
        first = fire(services, weekly, slot)
        second = fire(other, weekly, slot)
    finally:
        other.close()

    assert first is not None and second is None
    assert queued(services) == [("gateway.jobs.send_summaries", {"week": "2025-W01"})]
    assert services.redis.ttl("kuma:schedule:weekly_summaries:20250106T0800Z") > 86400


class SteppingEvent(threading.Event):
    """An Event whose wait() moves a fake clock on instead of sleeping."""

    def __init__(self, clock: list[dt.datetime], step: dt.timedelta, until: dt.datetime):
        super().__init__()
        self.clock, self.step, self.until = clock, step, until

    def wait(self, timeout: float | None = None) -> bool:
        self.clock[0] += self.step
        if self.clock[0] >= self.until:
            self.set()
        return self.is_set()


def test_run_scheduler_over_a_monday_morning_with_two_schedulers(
        settings: Settings, services: Services) -> None:
    start, end = utc(2025, 1, 6, 7, 58, 30), utc(2025, 1, 6, 8, 1, 30)
    for _ in range(2):  # a second scheduler over the same minutes adds nothing
        clock = [start]
        run_scheduler(services, SteppingEvent(clock, dt.timedelta(seconds=5), end),
                      lambda: clock[0])

    jobs = queued(services)
    assert jobs.count(("gateway.jobs.send_summaries", {"week": "2025-W01"})) == 1
    # Slots 07:58 (caught up at start), 07:59, 08:00, 08:01; refresh at 07:50 and 08:00.
    assert jobs.count(("gateway.jobs.sweep_sessions", {})) == 4
    assert jobs.count(("gateway.jobs.refresh_directory", {})) == 2
    assert len(jobs) == 7


@pytest.fixture
def run_jobs(settings: Settings, services: Services,
             monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """Return a function running every queued job with a real RQ worker."""
    for name, value in {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
                        "GATEWAY_SECRET_KEY": "test-secret", "SMS_OUTBOX": "log",
                        "KUMA_VAR_DIR": str(settings.var_dir)}.items():
        monkeypatch.setenv(name, value)
    for_worker.cache_clear()
    yield lambda: rq.SimpleWorker([services.queue], connection=services.redis).work(burst=True)
    if for_worker.cache_info().currsize:
        for_worker().close()
    for_worker.cache_clear()


def test_scheduled_refresh_runs_on_a_real_worker(settings: Settings, services: Services,
                                                 run_jobs) -> None:
    with session_scope(services.sessionmaker) as db:
        db.add(Center(code="BKO-BAN", name="CSCom de Banconi", district="Commune I",
                      ussd_extension="07", sms_keyword="BANCONI"))
    refresh = next(task for task in build_tasks(settings) if task.name == "refresh_centers")
    fire(services, refresh, utc(2025, 1, 6, 8, 0))

    run_jobs()

    assert services.queue.failed_job_registry.count == 0
    assert services.directory.by_extension("07") == "BKO-BAN"
    assert services.directory.by_keyword("banconi") == "BKO-BAN"


def test_scheduled_summaries_job_accepts_what_the_scheduler_sends(
        settings: Settings, services: Services, run_jobs) -> None:
    weekly = next(task for task in build_tasks(settings) if task.name == "weekly_summaries")
    job_id = fire(services, weekly, utc(2025, 1, 6, 8, 0))

    run_jobs()

    assert services.queue.failed_job_registry.count == 0
    assert rq.job.Job.fetch(job_id, connection=services.redis).get_status() == "finished"


def test_slot_key_names_task_and_utc_minute(tasks: list[Task]) -> None:
    assert periodic.slot_key(tasks[1], dt.datetime(2025, 1, 6, 9, 0, tzinfo=BAMAKO)) \
        == "kuma:schedule:sweep_sessions:20250106T0900Z"
