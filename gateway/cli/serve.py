"""`gateway serve` (web + worker + scheduler on one box), `gateway worker`, `gateway scheduler`.

`serve` checks everything first (settings, schema, flows), so that a mistake ends it with
a message rather than leaving half a gateway running. Then it answers HTTP itself (werkzeug's
threaded server, enough for one small machine; the Procfile runs gunicorn instead) and runs
the worker and the scheduler as child processes, `gateway worker` and `gateway scheduler`,
exactly as the Procfile does. The children get sessions of their own so that Ctrl-C reaches
only `serve`, which then stops them once, in order: a second signal would make RQ kill the
job in progress.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import click

from gateway.errors import FlowLoadError, KumaError
from gateway.services import Services
from gateway.settings import Settings, ensure_secret_key

log = logging.getLogger(__name__)

ROLES = ("worker", "scheduler")
BACKGROUND_NICENESS = 10
STOP_TIMEOUT = 20.0  # seconds a child gets to finish its job before it is killed


def _settings() -> Settings:
    try:
        return ensure_secret_key(Settings.from_env())
    except KumaError as error:
        click.echo(str(error), err=True)
        sys.exit(1)


def _build(build: Callable[[], Services]) -> Services:
    """Build services; a broken flow prints every `file:line: message` and exits 1."""
    try:
        return build()
    except FlowLoadError as error:
        for problem in error.errors:
            click.echo(str(problem), err=True)
        click.echo(f"{len(error.errors)} problem(s) in the flows; fix them and start again.",
                   err=True)
        sys.exit(1)
    except KumaError as error:
        click.echo(str(error), err=True)
        sys.exit(1)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), envvar="PORT", default=5000,
              show_default=True, help="Port to listen on (default: $PORT, else 5000).")
def serve(host: str, port: int) -> None:
    """Run the web server, an RQ worker and the scheduler together, until Ctrl-C."""
    from werkzeug.serving import make_server

    from gateway import db
    from gateway.app import create_app
    from gateway.center_import import refresh_directory

    settings = _settings()
    try:
        db.upgrade(settings.database_url)
    except Exception as error:  # alembic and drivers raise many kinds; name it and stop
        click.echo(f"cannot create or migrate the database schema: {error}", err=True)
        sys.exit(1)
    services = _build(lambda: Services.build(settings))
    try:
        centres = refresh_directory(services)
        server = make_server(host, port, create_app(settings, services=services), threaded=True)
    except OSError as error:  # werkzeug itself explains a port in use, and exits
        click.echo(f"cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        sys.exit(1)
    base = settings.public_url or f"http://{host}:{server.server_port}"
    _print_banner(settings, services, base, centres)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    children = {role: _spawn(role) for role in ROLES}
    click.echo("  " + ", ".join(f"{role} pid {child.pid}" for role, child in children.items()))
    web = threading.Thread(target=server.serve_forever, name="web", daemon=True)
    web.start()
    failed = _watch(stop, children, web)
    log.info("stopping")
    server.shutdown()
    _stop_children(children)
    services.close()
    from gateway.redis_connection import close_embedded

    close_embedded()
    click.echo("stopped")
    if failed:
        sys.exit(1)


def _print_banner(settings: Settings, services: Services, base: str, centres: int) -> None:
    from gateway.channels import registry

    click.echo(f"Kuma gateway on {base}  ({len(services.flows.flows)} flow(s), "
               f"{centres} centre(s), SMS outbox: {settings.sms_outbox})")
    redis_text = "from REDIS_URL" if settings.redis_url else f"embedded under {settings.var_dir}"
    click.echo(f"  database {_safe_url(settings.database_url)}, redis {redis_text}")
    providers = registry.build(settings).values()
    for provider in providers:
        click.echo(f"  {provider.title}:")
        for label, url in provider.callbacks(base):
            click.echo(f"    {label:36} {url}")
    for warning in filter(None, (provider.warning() for provider in providers)):
        click.echo(f"  ({warning})")
    click.echo(f"  health {base}/healthz, metrics {base}/metrics")


def _safe_url(database_url: str) -> str:
    from gateway.db import normalize_url

    return normalize_url(database_url).render_as_string(hide_password=True)


def _spawn(role: str) -> subprocess.Popen:
    """Start `gateway <role>` as a child in its own session, with this environment."""
    # Background roles yield the CPU to the web server: a USSD screen has a few seconds,
    # filing answers can wait a moment.
    command = [sys.executable, "-m", "gateway", role, "--nice", str(BACKGROUND_NICENESS)]
    return subprocess.Popen(command, start_new_session=True,
                            preexec_fn=_die_with_parent if sys.platform == "linux" else None)


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this child if `serve` dies without stopping it."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _watch(stop: threading.Event, children: dict[str, subprocess.Popen],
           web: threading.Thread) -> bool:
    """Wait for a stop signal or a dead part; return True if a part died."""
    while not stop.wait(0.5):
        for role, child in children.items():
            if child.poll() is not None:
                log.error("the %s stopped (exit code %s); stopping everything", role,
                          child.returncode)
                return True
        if not web.is_alive():
            log.error("the web server stopped; stopping everything")
            return True
    return False


def _stop_children(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM every child once, wait for them, kill what outlives STOP_TIMEOUT."""
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for role, child in children.items():
        try:
            child.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log.warning("the %s did not stop within %g s; killing it", role, STOP_TIMEOUT)
            child.kill()
            child.wait()


NICE_OPTION = click.option(
    "--nice", "niceness", type=click.IntRange(0, 19), default=0, show_default=True,
    help="Lower this process's CPU priority (on a machine shared with the web server).")


@click.command()
@NICE_OPTION
def worker(niceness: int) -> None:
    """Run an RQ worker on the kuma queue (with RQ's scheduler, for jobs enqueued at a time)."""
    import rq

    os.nice(niceness)
    from gateway.services import for_worker

    services = _build(for_worker)
    # Jobs run in this process: Kuma's jobs are short and idempotent, and forking a
    # work-horse per job would cost more than most jobs. A crash is the supervisor's to
    # restart (Procfile, systemd); RQ then retries the job that was running.
    rq.SimpleWorker([services.queue], connection=services.redis).work(
        with_scheduler=True, logging_level=services.settings.log_level)


@click.command()
@NICE_OPTION
def scheduler(niceness: int) -> None:
    """Run the scheduler: enqueue weekly summaries, session sweeps and directory refreshes."""
    os.nice(niceness)
    from gateway.periodic import run_scheduler

    settings = _settings()
    services = _build(lambda: Services.build(settings, load_flows=False))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run_scheduler(services, stop)
    finally:
        services.close()
