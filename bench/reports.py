"""Benchmark the score queries on a national-scale dataset: 1,500 centres × 52 weeks.

    python bench/reports.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Creates (once) a database `kuma_bench` on that server, migrates it with Alembic, fills it
with about 2 million answers generated inside PostgreSQL (generate_series: no rows travel
over the wire), then times:

- one week's scores for every centre     (target < 1 s)
- one centre's 52-week run chart         (target < 200 ms)
- the same for overall and every QI area (target < 300 ms, reports.series)
- the overview of every centre           (target < 300 ms, reports.series)

The dataset is kept between runs (pass --regenerate to rebuild it). Other benchmarks can
reuse it: `prepare(database_url)` returns the URL of the filled `kuma_bench` database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway import db  # noqa: E402
from gateway.engine.definition import AREAS  # noqa: E402
from reports.scores import compute_scores, weeks_back  # noqa: E402
from reports.series import center_series, overview  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "kuma_bench"
CENTERS, WEEKS, CONTACTS = 1500, 52, 50_000
LAST_WEEK = "2025-W10"  # fixed, so that a kept dataset stays valid whatever today is
# (step = dimension, area): six scored questions per survey, as in flows/maternal_care.yaml.
QUESTIONS = [("welcome", "patient_experience"), ("respect", "patient_experience"),
             ("waiting", "patient_experience"), ("explanation", "clinical_quality"),
             ("cleanliness", "management_governance"), ("fees", "revenue_cost_recovery")]
TARGETS = {"week": 1.0, "series": 0.2, "chart": 0.3}
BENCH_TZ = dt.timezone.utc  # Africa/Bamako's offset, all year
# Not in the migrations yet (see the bench README): without it a centre's run chart reads
# every answer of the year, since the (week, center_id, dimension) index leads with week.
PROPOSED_INDEX = "CREATE INDEX IF NOT EXISTS ix_answers_center_id_week ON answers (center_id, week)"


def prepare(database_url: str = DEFAULT_URL, *, regenerate: bool = False,
            centers: int = CENTERS, weeks: int = WEEKS) -> str:
    """Create, migrate and fill the bench database if needed; return its URL."""
    url = _bench_url(database_url)
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            have = connection.scalar(sa.text("SELECT count(*) FROM centers"))
        if regenerate or have != centers:
            generate(engine, centers=centers, weeks=weeks)
    finally:
        engine.dispose()
    return url


def _bench_url(database_url: str) -> str:
    base = db.normalize_url(database_url)
    if base.get_backend_name() != "postgresql":
        raise SystemExit("bench/reports.py needs PostgreSQL (--database-url postgresql://…)")
    admin = db.make_engine(base.render_as_string(hide_password=False),
                           isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                       {"n": BENCH_DATABASE})
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{BENCH_DATABASE}"')
    finally:
        admin.dispose()
    return base.set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def generate(engine: sa.Engine, *, centers: int = CENTERS, weeks: int = WEEKS,
             seed: float = 0.42) -> None:
    """Replace the bench database's data with centres, sessions and answers (in SQL)."""
    week_list = [weeks_back(LAST_WEEK, n) for n in reversed(range(weeks))]
    questions = ", ".join(f"('{step}', '{area}')" for step, area in QUESTIONS)
    started = time.perf_counter()
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run("TRUNCATE answers, survey_sessions, invitations, outbound_messages, "
            "summary_recipients, staff_phones, pdsa_cycles, contacts, centers "
            "RESTART IDENTITY CASCADE")
        connection.execute(sa.text("SELECT setseed(:seed)"), {"seed": seed})
        run(f"""
            INSERT INTO centers (code, name, district, ussd_extension, sms_keyword,
                                 created_at, updated_at)
            SELECT 'C' || lpad(i::text, 4, '0'), 'CSCom ' || i, 'District ' || mod(i, 60),
                   lpad(i::text, 4, '0'), 'C' || i, now(), now()
            FROM generate_series(1, {centers}) AS i""")
        run(f"""
            INSERT INTO contacts (phone_hash, phone_encrypted, language, created_at, updated_at)
            SELECT md5('bench' || i), 'x', CASE WHEN mod(i, 3) = 0 THEN 'bm' ELSE 'fr' END,
                   now(), now()
            FROM generate_series(1, {CONTACTS}) AS i""")
        # Two to six mothers a week per centre: about four, so ~312,000 sessions.
        connection.execute(sa.text(f"""
            INSERT INTO survey_sessions (key, flow_id, flow_version, channel, center_id,
                                         contact_id, language, status, started_at, week)
            SELECT 'bench:' || c || ':' || w || ':' || k, 'maternal_care', 'bench', 'ussd', c,
                   1 + floor(random() * {CONTACTS})::int, 'fr',
                   CASE WHEN random() < 0.1 THEN 'abandoned' ELSE 'completed' END,
                   now(), (CAST(:weeks AS text[]))[w]
            FROM generate_series(1, {centers}) AS c
            CROSS JOIN generate_series(1, {weeks}) AS w
            CROSS JOIN LATERAL generate_series(1, 2 + floor(random() * 5)::int + c * 0) AS k
            """), {"weeks": week_list})
        # An unscored consent answer each, then each scored question 93% of the time.
        run("""
            INSERT INTO answers (session_id, step_id, raw, value, score, top_box, dimension,
                                 area, answered_at, center_id, week)
            SELECT id, 'consent', '1', 'yes', NULL, NULL, NULL, NULL, now(), center_id, week
            FROM survey_sessions""")
        run(f"""
            INSERT INTO answers (session_id, step_id, raw, value, score, top_box, dimension,
                                 area, answered_at, center_id, week)
            SELECT s.id, q.step, r.choice::text, r.choice::text, r.choice * 25,
                   r.choice = 4, q.step, q.area, now(), s.center_id, s.week
            FROM survey_sessions AS s
            CROSS JOIN (VALUES {questions}) AS q (step, area)
            CROSS JOIN LATERAL (SELECT floor(random() * 5)::int + s.id * 0 AS choice) AS r
            WHERE random() < 0.93""")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    print(f"generated in {time.perf_counter() - started:.1f} s")


def timed(label: str, target: float, repeat: int, call: Callable[[], list]) -> float:
    """Run `call` once cold and `repeat` times warm; print and return the warm median."""
    started = time.perf_counter()
    rows = call()
    cold = time.perf_counter() - started
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    verdict = "ok" if median < target else "SLOW"
    print(f"{label:<44} {len(rows):>6} rows  cold {cold * 1000:7.1f} ms  "
          f"median {median * 1000:7.1f} ms  best {min(times) * 1000:7.1f} ms  "
          f"(target < {target * 1000:.0f} ms: {verdict})")
    return median


def main(argv: list[str] | None = None) -> int:
    """Prepare the dataset, time the score queries, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help=f"a PostgreSQL server to create {BENCH_DATABASE} on")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the dataset")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per query")
    parser.add_argument("--min-respondents", type=int, default=10)
    parser.add_argument("--add-proposed-index", action="store_true",
                        help="create ix_answers_center_id_week (answers.center_id, week) "
                             "if the migrations do not")
    args = parser.parse_args(argv)

    url = prepare(args.database_url, regenerate=args.regenerate)
    engine = db.make_engine(url)
    with engine.begin() as connection:
        if args.add_proposed_index:
            connection.exec_driver_sql(PROPOSED_INDEX)
            connection.exec_driver_sql("ANALYZE answers")
        indexes = {index["name"] for index in sa.inspect(connection).get_indexes("answers")}
    print("answers indexes: " + ", ".join(sorted(indexes)))
    first = weeks_back(LAST_WEEK, WEEKS - 1)
    with so.Session(engine) as session:
        counts = {table: session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
                  for table in ("centers", "survey_sessions", "answers")}
        print(", ".join(f"{n:,} {table}" for table, n in counts.items())
              + f"; weeks {first} to {LAST_WEEK}; PostgreSQL "
              + session.scalar(sa.text("SHOW server_version")))
        threshold = args.min_respondents
        slow = [
            timed("one week, every centre (compute_scores)", TARGETS["week"], args.repeat,
                  lambda: compute_scores(session, week_from=LAST_WEEK, week_to=LAST_WEEK,
                                         min_respondents=threshold)) > TARGETS["week"],
            timed("one centre, 52 weeks, overall (series)", TARGETS["series"], args.repeat,
                  lambda: center_series(session, "C0750", start=first, end=LAST_WEEK,
                                        min_respondents=threshold, tz=BENCH_TZ))
            > TARGETS["series"],
            timed("one centre, 52 weeks, overall + 4 areas", TARGETS["chart"], args.repeat,
                  lambda: [point for dimension in ("overall", *AREAS)
                           for point in center_series(session, "C0750", dimension=dimension,
                                                      start=first, end=LAST_WEEK,
                                                      min_respondents=threshold,
                                                      tz=BENCH_TZ)]) > TARGETS["chart"],
            timed("overview, every centre, one week", TARGETS["chart"], args.repeat,
                  lambda: overview(session, period=LAST_WEEK, min_respondents=threshold,
                                   tz=BENCH_TZ)) > TARGETS["chart"],
            timed("one centre, 52 weeks, every dimension", TARGETS["series"], args.repeat,
                  lambda: compute_scores(session, centers=["C0750"], week_from=first,
                                         week_to=LAST_WEEK, min_respondents=threshold))
            > TARGETS["series"],
        ]
    engine.dispose()
    print(f"finished {dt.datetime.now():%Y-%m-%d %H:%M}")
    return 1 if any(slow) else 0


if __name__ == "__main__":
    sys.exit(main())
