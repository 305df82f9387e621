"""Benchmark the dashboard's pages on the national-scale dataset of bench/reports.py.

    python bench/dashboard.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                              [--repeat 15] [--min-respondents 3]

Reuses (or builds) `kuma_bench`: 1,500 centres × 52 weeks, ~2 million answers. Serves the
real app in-process (Flask's test client: no network, the server's own time), logs in as
a coordinator, and times, each once cold and `--repeat` times warm:

- the overview of all 1,500 centres (target < 300 ms; cold, it fills the signal cache)
- a centre page with 52 weekly points for overall and each of the four areas (< 300 ms)
- the centre's print page and CSV export (no target: shown for scale)

and prints each page's weight (the centre page must stay under 150 KB). The dataset's
weeks end at 2025-W10, so the pages' clock is set to the Wednesday after. The dataset has
two to six mothers a week per centre: `--min-respondents 3` keeps most weeks shown (with
the default 10 every point would be suppressed and the charts empty).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway import redis_connection  # noqa: E402
from gateway.accounts import add_user  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.db import session_scope  # noqa: E402
from gateway.models import User  # noqa: E402
from gateway.services import Services  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from gateway.web.dashboard import pages  # noqa: E402
from reports.periods import weeks_back  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = dt.datetime(2025, 3, 12, 10, 0, tzinfo=dt.timezone.utc)  # Wednesday of 2025-W11
CENTER, LAST = "C0750", "2025-W10"
USER, PASSWORD = "bench-coordinator", "bench password, not secret"
TARGET = 0.3
PAGE_LIMIT = 150_000


def _bench_reports():
    """Load bench/reports.py by path (its name would shadow the `reports` package)."""
    spec = importlib.util.spec_from_file_location(
        "bench_reports", Path(__file__).with_name("reports.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(label: str, client, path: str, repeat: int, target: float | None) -> tuple:
    """GET `path` once cold and `repeat` times warm; print and return (median, bytes)."""
    started = time.perf_counter()
    response = client.get(path)
    cold = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code}\n{response.get_data(as_text=True)[:500]}")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    median, size = statistics.median(times), len(response.get_data())
    verdict = "" if target is None else f"  (target < {target * 1000:.0f} ms: " \
        f"{'ok' if median < target else 'SLOW'})"
    print(f"{label:<46} cold {cold * 1000:7.1f} ms  median {median * 1000:7.1f} ms  "
          f"best {min(times) * 1000:7.1f} ms  {size / 1024:6.1f} KB{verdict}")
    return median, size


def _log_in(client) -> None:
    page = client.get("/dashboard/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = client.post("/dashboard/login", data={"username": USER, "password": PASSWORD,
                                                     "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"login failed: {response.status_code}")


def main(argv: list[str] | None = None) -> int:
    """Prepare the dataset, time the dashboard's pages, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="a PostgreSQL server holding (or to hold) kuma_bench")
    parser.add_argument("--repeat", type=int, default=15, help="warm requests per page")
    parser.add_argument("--min-respondents", type=int, default=3)
    args = parser.parse_args(argv)

    url = _bench_reports().prepare(args.database_url)
    pages.utcnow = lambda: NOW  # the dataset's weeks, not today's
    with tempfile.TemporaryDirectory() as var:
        settings = Settings(var_dir=Path(var), database_url=url, secret_key="bench",
                            sms_outbox="log", timezone="UTC",
                            min_respondents=args.min_respondents)
        services = Services.build(settings)
        try:
            with session_scope(services.sessionmaker) as db:
                if db.query(User).filter_by(username=USER).first() is None:
                    add_user(db, USER, PASSWORD, role="coordinator")
            client = create_app(settings, services=services).test_client()
            _log_in(client)
            center = f"/dashboard/centers/{CENTER}"
            weekly = f"?interval=week&from={weeks_back(LAST, 51)}&to={LAST}"
            overview, _ = timed("overview, 1,500 centres (coordinator)", client, "/dashboard/",
                                args.repeat, TARGET)
            chart, size = timed("centre page, 52 weeks, overall + 4 areas", client,
                                center + weekly, args.repeat, TARGET)
            timed("print page, 52 weeks", client, f"{center}/print{weekly}", args.repeat, None)
            timed("CSV export, 52 weeks", client, f"{center}/export.csv{weekly}", args.repeat,
                  None)
        finally:
            services.close()
            redis_connection.close_embedded()  # before its folder goes
    slow = overview > TARGET or chart > TARGET or size > PAGE_LIMIT
    print("centre page weight " + ("ok" if size <= PAGE_LIMIT else "OVER")
          + f" (limit {PAGE_LIMIT // 1000} KB)")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
