"""`gateway serve` for real: a subprocess on the embedded defaults, stopped by SIGTERM."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
import rq

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="finds child processes through /proc (Linux)")

EXAMPLE = Path(__file__).resolve().parents[2] / "centers.example.csv"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gateway_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from gateway.cli import main; main(prog_name='gateway')",
            *args]


def bare_environment(var_dir: Path, **extra: str) -> dict[str, str]:
    """Nothing configured but the var folder: the embedded defaults."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(var_dir.parent),
            "KUMA_VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1", **extra}


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(pid: int) -> set[int]:
    """Return every process below `pid`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text()
                                               .rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for_health(url: str, process: subprocess.Popen) -> tuple[int, dict]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gateway serve exited with {process.returncode}:\n"
                        f"{process.stdout.read()}")
        try:
            return get_json(url)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"/healthz did not answer within {START_TIMEOUT:g} s")


@contextlib.contextmanager
def serving(port: int, env: dict[str, str], cwd: Path):
    """Run `gateway serve` on `port`; kill it if the test fails before stopping it."""
    process = subprocess.Popen(gateway_command("serve", "--port", str(port)), env=env,
                               cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def embedded_redis(var_dir: Path) -> tuple[int, str]:
    """Return the pid and socket of the embedded Redis recorded under `var_dir`."""
    registry = json.loads((var_dir / "redis.db.settings").read_text())
    return int(Path(registry["pidfile"]).read_text()), registry["unixsocket"]


def test_serve_starts_on_embedded_defaults_and_stops_everything(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    env = bare_environment(var_dir)
    imported = subprocess.run(gateway_command("db", "upgrade"), env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0, imported.stderr
    imported = subprocess.run(gateway_command("centers", "import", str(EXAMPLE)), env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0, imported.stderr
    port = free_port()
    with serving(port, env, tmp_path) as process:
        status, body = wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        assert status == 200, body
        assert body["database"] == "ok" and body["redis"] == "ok"

        redis_pid, socket_file = embedded_redis(var_dir)
        assert alive(redis_pid)
        # The worker runs jobs, and RQ's scheduler runs jobs enqueued for later.
        client = redis.Redis(unix_socket_path=socket_file)
        queue = rq.Queue("kuma", connection=client)
        now_job = queue.enqueue("gateway.jobs.refresh_directory")
        later_job = queue.enqueue_in(dt.timedelta(seconds=1),
                                     "gateway.jobs.refresh_directory")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(
                job.get_status(refresh=True) == "finished" for job in (now_job, later_job)):
            time.sleep(0.2)
        assert now_job.get_status() == "finished"
        assert later_job.get_status() == "finished"
        assert later_job.return_value() == 6  # centres copied to the directory
        client.close()
        children = descendants(process.pid)

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)

    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert f"http://127.0.0.1:{port}/webhooks/africastalking/ussd" in output
    assert f"http://127.0.0.1:{port}/webhooks/twilio/sms" in output
    assert "6 centre(s)" in output
    assert len(children) >= 3  # worker, scheduler, RQ's scheduler below the worker
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in children | {redis_pid}):
        time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)], output
    assert not alive(redis_pid), output


def test_webhook_urls_carry_the_at_token(tmp_path: Path) -> None:
    port = free_port()
    env = bare_environment(tmp_path / "var", AT_WEBHOOK_TOKEN="s3cret-token",
                           PUBLIC_URL="https://kuma.example.org")
    with serving(port, env, tmp_path) as process:
        wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        process.send_signal(signal.SIGINT)  # Ctrl-C
        output, _ = process.communicate(timeout=30)

    assert process.returncode == 0, output
    assert "https://kuma.example.org/webhooks/africastalking/ussd?token=s3cret-token" in output
    assert "https://kuma.example.org/webhooks/africastalking/sms?token=s3cret-token" in output
    assert "https://kuma.example.org/webhooks/twilio/status\n" in output


def test_a_broken_flow_stops_serve_with_file_and_line(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "broken.yaml").write_text("id: broken\nsteps: [\n", encoding="utf-8")
    env = bare_environment(tmp_path / "var", FLOWS_DIR=str(flows))

    result = subprocess.run(gateway_command("serve", "--port", str(free_port())), env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    assert f"{flows / 'broken.yaml'}:" in result.stderr
    assert "problem(s) in the flows" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    registry = tmp_path / "var" / "redis.db.settings"
    assert not registry.exists()  # the embedded Redis it started is stopped again


def test_a_taken_port_is_reported_without_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(gateway_command("serve", "--port", str(port)),
                                env=bare_environment(tmp_path / "var"), cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    assert f"Port {port} is in use by another program" in result.stderr
    assert "Traceback" not in result.stderr
