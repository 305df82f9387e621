"""How fast one worker files whole USSD sessions into PostgreSQL.

    python bench/ingest.py [--sessions 10000] [--database-url postgresql+psycopg://…/postgres]

Plays --sessions complete surveys through the runner (the webhooks' code, without HTTP)
while no worker runs, then starts one `gateway worker` and times how long it takes to file
everything. Prints sessions/s and counts the rows: every session completed once, every
answer stored once.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ussd import INPUTS, ROOT, prepare_kuma, private_redis  # noqa: E402

ANSWERS_PER_SESSION = 10


def play_sessions(env: dict, count: int) -> float:
    """Play `count` surveys through the runner; return the seconds it took."""
    os.environ.update(env)
    from gateway.channels.base import UssdRequest
    from gateway.runner import Runner
    from gateway.services import Services
    from gateway.settings import Settings

    services = Services.build(Settings.from_env())
    runner = Runner(services)
    started = time.perf_counter()
    for index in range(count):
        sid, typed = uuid.uuid4().hex, []
        phone = f"+2237{index:07d}"
        for step in [None, *INPUTS]:
            if step is not None:
                typed.append(step)
            runner.handle_ussd(UssdRequest(sid, phone, "*384*123*07#", "61001", "*".join(typed)))
        if (index + 1) % 1000 == 0:
            print(f"  played {index + 1} sessions", flush=True)
    elapsed = time.perf_counter() - started
    services.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, private_redis(args):
        env = prepare_kuma(args, Path(folder))
        played = play_sessions(env, args.sessions)
        from gateway import eventlog
        import redis

        client = redis.Redis.from_url(env["REDIS_URL"])
        waiting = eventlog.waiting(client)
        print(f"played {args.sessions} sessions ({args.sessions * 13} requests) in "
              f"{played:.1f} s; {waiting} event records wait for the worker")
        engine = sa.create_engine(env["DATABASE_URL"])
        started = time.perf_counter()
        worker = subprocess.Popen([sys.executable, "-m", "gateway", "worker"], env=env,
                                  cwd=ROOT, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while eventlog.waiting(client):
                time.sleep(0.05)
                if time.perf_counter() - started > 1800:
                    raise SystemExit("the worker did not finish within 30 minutes")
            drained = time.perf_counter() - started
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        with engine.connect() as connection:
            sessions = connection.exec_driver_sql(
                "SELECT count(*) FROM survey_sessions WHERE status = 'completed'").scalar()
            answers = connection.exec_driver_sql("SELECT count(*) FROM answers").scalar()
            doubled = connection.exec_driver_sql(
                "SELECT count(*) FROM (SELECT session_id, step_id FROM answers "
                "GROUP BY 1, 2 HAVING count(*) > 1) d").scalar()
        engine.dispose()
    print(f"one worker filed {args.sessions} sessions in {drained:.1f} s: "
          f"{args.sessions / drained:.0f} sessions/s (target >= 200), "
          f"{answers / drained:.0f} answers/s (worker start-up included)")
    print(f"rows: {sessions} completed sessions of {args.sessions}, {answers} answers of "
          f"{args.sessions * ANSWERS_PER_SESSION}, {doubled} doubled")
    if sessions != args.sessions or answers != args.sessions * ANSWERS_PER_SESSION or doubled:
        raise SystemExit("lost or doubled rows")


if __name__ == "__main__":
    main()
