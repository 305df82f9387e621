"""Benchmark the weekly summaries at national scale: 1,500 centres, one recipient each.

    python bench/summaries.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                              [--redis-url redis://127.0.0.1:6379/13]

Reuses the `kuma_bench` database of bench/reports.py (1,500 centres × 52 weeks of answers,
built on first use), gives every centre one summary recipient (French or Bambara), removes
the summaries an earlier run queued, then times `gateway.summaries.send_summaries`: a dry run,
the real run (compose, queue 1,500 OutboundMessages, enqueue 1,500 RQ send jobs) and a
second run (every summary already sent). Target: the real run under 30 s.

Without --redis-url the jobs go to an embedded Redis in a temporary folder, deleted after.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/, whose reports.py would shadow the package

from gateway import db, redis_connection  # noqa: E402
from gateway.phones import PhoneVault  # noqa: E402
from gateway.services import Services  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from gateway.summaries import send_summaries  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET = "bench-secret"
TARGET = 30.0


def _bench_reports():
    """Load bench/reports.py by path (its name shadows the reports package)."""
    spec = importlib.util.spec_from_file_location("bench_reports",
                                                  Path(__file__).with_name("reports.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_recipients(url: str) -> int:
    """Give every centre one chief midwife (every third in Bambara); drop earlier summaries."""
    vault = PhoneVault(SECRET)
    engine = db.make_engine(url)
    try:
        with engine.begin() as connection:
            centers = connection.execute(sa.text("SELECT id FROM centers ORDER BY id")).scalars()
            phones = [(center_id, f"+2237{center_id:07d}") for center_id in centers]
            connection.exec_driver_sql("DELETE FROM outbound_messages WHERE purpose = 'summary'")
            connection.exec_driver_sql("DELETE FROM summary_recipients")
            connection.execute(sa.text("""
                INSERT INTO contacts (phone_hash, phone_encrypted, language, created_at,
                                      updated_at)
                VALUES (:hash, :token, :lang, now(), now())
                ON CONFLICT (phone_hash) DO NOTHING"""),
                [{"hash": vault.hash(phone), "token": vault.encrypt(phone),
                  "lang": "bm" if center_id % 3 == 0 else "fr"} for center_id, phone in phones])
            connection.execute(sa.text("""
                INSERT INTO summary_recipients (center_id, contact_id, role, language, active,
                                                created_at)
                SELECT :center, id, 'chief_midwife', :lang, true, now()
                FROM contacts WHERE phone_hash = :hash"""),
                [{"center": center_id, "hash": vault.hash(phone),
                  "lang": "bm" if center_id % 3 == 0 else "fr"} for center_id, phone in phones])
            return len(phones)
    finally:
        engine.dispose()


def timed(label: str, call) -> tuple[float, list[dict]]:
    """Run `call` once; print its time and the statuses of its rows."""
    started = time.perf_counter()
    rows = call()
    elapsed = time.perf_counter() - started
    statuses = collections.Counter(row["status"] for row in rows)
    segments = collections.Counter(row["segments"] for row in rows)
    print(f"{label:<36} {elapsed:6.2f} s  {dict(statuses)}  segments {dict(segments)}")
    return elapsed, rows


def main(argv: list[str] | None = None) -> int:
    """Prepare the data, time the weekly summaries, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="a PostgreSQL server holding (or to hold) kuma_bench")
    parser.add_argument("--redis-url", default=None,
                        help="Redis for the send jobs (default: an embedded one, thrown away)")
    parser.add_argument("--min-respondents", type=int, default=3,
                        help="fewest respondents for a score (the dataset has 2-6 a week)")
    args = parser.parse_args(argv)

    bench_reports = _bench_reports()
    url = bench_reports.prepare(args.database_url)
    recipients = add_recipients(url)
    week = bench_reports.LAST_WEEK
    with tempfile.TemporaryDirectory() as var_dir:
        settings = Settings(var_dir=Path(var_dir), database_url=url, redis_url=args.redis_url,
                            secret_key=SECRET, sms_outbox="log",
                            min_respondents=args.min_respondents,
                            at_ussd_base_codes=("*384*123#",))
        services = Services.build(settings)
        try:
            if services.queue.count:
                raise SystemExit(f"the queue on {args.redis_url} holds {services.queue.count} "
                                 "jobs: point --redis-url at a Redis of its own")
            print(f"{recipients:,} recipients, week {week}, "
                  f"min {settings.min_respondents} respondents")
            timed("dry run (compose only)", lambda: send_summaries(
                services, week=week, dry_run=True))
            elapsed, rows = timed("send (compose, queue, enqueue)", lambda: send_summaries(
                services, week=week))
            timed("second run (already sent)", lambda: send_summaries(services, week=week))
            print(f"RQ jobs enqueued: {services.queue.count:,}")
            longest = max(rows, key=lambda row: len(row["text"]))
            print(f"longest text ({longest['segments']} SMS, {longest['language']}): "
                  f"{longest['text']}")
            services.queue.empty()
        finally:
            services.close()
            redis_connection.close_embedded()  # before its folder goes
    verdict = "ok" if elapsed < TARGET else "SLOW"
    print(f"send: {elapsed:.2f} s for {recipients:,} summaries (target < {TARGET:.0f} s: "
          f"{verdict})")
    return 0 if elapsed < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
