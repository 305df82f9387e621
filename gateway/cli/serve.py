"""`gateway serve` (web + worker + scheduler on one box), `gateway worker`, `gateway scheduler`.

`serve` checks everything first (settings, schema, flows, the port), so that a mistake ends
it with a message rather than leaving half a gateway running. Then it runs three children,
as the Procfile does: gunicorn with Kuma's settings (`gateway.gunicorn_config`: threaded
workers, which a stalled client cannot block) on the socket serve has bound, `gateway
worker` and `gateway scheduler`. The children get sessions of their own so that Ctrl-C
reaches only `serve`, which then stops them once, in order: a second signal would make RQ
kill the job in progress. They get serve's secret key too (read or generated under var/):
outside serve, each role refuses to start without GATEWAY_SECRET_KEY.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import click

from gateway.errors import FlowLoadError, KumaError
from gateway.services import Services
from gateway.settings import Settings, ensure_secret_key, require_secret_key

log = logging.getLogger(__name__)

ROLES = ("worker", "scheduler")
BACKGROUND_NICENESS = 10
STOP_TIMEOUT = 20.0  # seconds a child gets to finish its job before it is killed
WEB_WORKERS = 2  # gunicorn processes: one per core of a small machine


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
@click.option("--show-urls", is_flag=True,
              help="Print the webhook URLs with their token (default: masked).")
def serve(host: str, port: int, show_urls: bool) -> None:
    """Run the web server, an RQ worker and the scheduler together, until Ctrl-C."""
    from gateway import db
    from gateway.center_import import refresh_directory

    settings = _settings()
    if not settings.at_webhook_token and _is_loopback(host):
        # One machine, reached only from itself: AT's callbacks may come without a token
        # (the banner warns). Any other address needs AT_WEBHOOK_TOKEN.
        settings = settings.replace(at_webhook_open_on_loopback=True)
    try:
        db.upgrade(settings.database_url)
    except Exception as error:  # alembic and drivers raise many kinds; name it and stop
        click.echo(f"cannot create or migrate the database schema: {error}", err=True)
        sys.exit(1)
    services = _build(lambda: Services.build(settings))
    try:
        centres = refresh_directory(services)
        listener = _listen(host, port)
    except OSError as error:
        services.close()
        _close_embedded()
        click.echo(_listen_problem(host, port, error), err=True)
        sys.exit(1)
    base = settings.public_url or f"http://{_url_host(host)}:{listener.getsockname()[1]}"
    _print_banner(settings, services, base, centres, show_urls=show_urls)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    # The key serve read or generated is handed down: every part must hash phones alike.
    env = {**os.environ, "GATEWAY_SECRET_KEY": settings.secret_key}
    if settings.at_webhook_open_on_loopback:
        env["AT_WEBHOOK_OPEN_ON_LOOPBACK"] = "true"
    children = {"web": _spawn(_web_command(listener.fileno()), env, listener.fileno())}
    listener.close()  # the web server holds it now
    children |= {role: _spawn(_role_command(role), env) for role in ROLES}
    click.echo("  " + ", ".join(f"{role} pid {child.pid}" for role, child in children.items()))
    failed = _watch(stop, children)
    log.info("stopping")
    _stop_children(children)
    services.close()
    _close_embedded()
    click.echo("stopped")
    if failed:
        sys.exit(1)


def _listen(host: str, port: int) -> socket.socket:
    """Bind the web's socket here, so that a taken port is reported before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=2048)
    listener.set_inheritable(True)
    return listener


def _listen_problem(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (f"cannot listen on {host}:{port}: Port {port} is in use by another program; "
                "stop it or choose another with --port")
    return f"cannot listen on {host}:{port}: {error.strerror or error}"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _web_command(fd: int) -> list[str]:
    """gunicorn on the socket `fd`, with Kuma's settings (see gateway.gunicorn_config)."""
    return [sys.executable, "-m", "gunicorn", "-c", "python:gateway.gunicorn_config",
            "--workers", str(WEB_WORKERS), "--bind", f"fd://{fd}", "gateway.app:create_app()"]


def _role_command(role: str) -> list[str]:
    # Background roles yield the CPU to the web server: a USSD screen has a few seconds,
    # filing answers can wait a moment.
    return [sys.executable, "-m", "gateway", role, "--nice", str(BACKGROUND_NICENESS)]


def _close_embedded() -> None:
    from gateway.redis_connection import close_embedded

    close_embedded()


def _print_banner(settings: Settings, services: Services, base: str, centres: int, *,
                  show_urls: bool = False) -> None:
    from gateway.cli.webhooks import echo_callbacks

    click.echo(f"Kuma gateway on {base}  ({len(services.flows.flows)} flow(s), "
               f"{centres} centre(s), SMS outbox: {settings.sms_outbox})")
    redis_text = "from REDIS_URL" if settings.redis_url else f"embedded under {settings.var_dir}"
    click.echo(f"  database {_safe_url(settings.database_url)}, redis {redis_text}")
    echo_callbacks(settings, base, masked=not show_urls, indent="  ")
    if settings.at_webhook_token and not show_urls:
        click.echo("  (tokens masked: `gateway serve --show-urls` or `gateway webhooks urls` "
                   "prints them)")
    click.echo(f"  health {base}/healthz, metrics {base}/metrics")


def _safe_url(database_url: str) -> str:
    from gateway.db import normalize_url

    return normalize_url(database_url).render_as_string(hide_password=True)


def _spawn(command: list[str], env: dict[str, str], *fds: int) -> subprocess.Popen:
    """Start `command` as a child in its own session, passing it the descriptors `fds`."""
    return subprocess.Popen(command, env=env, start_new_session=True, pass_fds=fds,
                            preexec_fn=_die_with_parent if sys.platform == "linux" else None)


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this child if `serve` dies without stopping it."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _watch(stop: threading.Event, children: dict[str, subprocess.Popen]) -> bool:
    """Wait for a stop signal or a dead part; return True if a part died."""
    while not stop.wait(0.5):
        for role, child in children.items():
            if child.poll() is not None:
                log.error("the %s stopped (exit code %s); stopping everything", role,
                          child.returncode)
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

    try:
        settings = require_secret_key(Settings.from_env(), "scheduler")
    except KumaError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    services = _build(lambda: Services.build(settings, load_flows=False))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run_scheduler(services, stop)
    finally:
        services.close()
