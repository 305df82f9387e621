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
import urllib.parse
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
def serving(port: int, env: dict[str, str], cwd: Path, *args: str):
    """Run `gateway serve` on `port`; kill it if the test fails before stopping it."""
    process = subprocess.Popen(gateway_command("serve", "--port", str(port), *args), env=env,
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
        # On loopback with no AT_WEBHOOK_TOKEN, AT's callbacks are taken (with a warning).
        status, screen = post_ussd(f"http://127.0.0.1:{port}/webhooks/africastalking/ussd")
        assert status == 200 and screen.startswith("CON "), screen
        children = descendants(process.pid)

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)

    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert f"http://127.0.0.1:{port}/webhooks/africastalking/ussd" in output
    assert f"http://127.0.0.1:{port}/webhooks/twilio/sms" in output
    assert "6 centre(s)" in output
    assert "callbacks from this machine are not authenticated" in output
    assert len(children) >= 3  # worker, scheduler, RQ's scheduler below the worker
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in children | {redis_pid}):
        time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)], output
    assert not alive(redis_pid), output


TOKEN = "s3cret+to/ken="


def post_ussd(url: str) -> tuple[int, str]:
    form = urllib.parse.urlencode({"sessionId": "ATUid_serve", "serviceCode": "*384*123#",
                                   "phoneNumber": "+22376123456", "networkCode": "61001",
                                   "text": ""}).encode()
    try:
        with urllib.request.urlopen(url, data=form, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_banner_masks_the_token_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    env = bare_environment(tmp_path / "var", AT_WEBHOOK_TOKEN=TOKEN)
    with serving(port, env, tmp_path) as process:
        wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        quoted = urllib.parse.quote(TOKEN, safe="")
        status, screen = post_ussd(f"http://127.0.0.1:{port}/webhooks/africastalking/ussd"
                                   f"?token={quoted}")
        assert status == 200 and screen.startswith("CON "), screen
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            server = response.headers["Server"]
        children = descendants(process.pid)
        process.send_signal(signal.SIGINT)  # Ctrl-C
        output, _ = process.communicate(timeout=30)

    assert process.returncode == 0, output
    assert server == "gunicorn"  # a production server, and no version to look up flaws by
    assert f"http://127.0.0.1:{port}/webhooks/africastalking/ussd?token=***" in output
    assert '"POST /webhooks/africastalking/ussd?token=*** HTTP/1.1" 200' in output  # access log
    assert "s3cret" not in output and quoted not in output
    assert "Traceback" not in output
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in children):
        time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)], output


def test_show_urls_prints_them_escaped(tmp_path: Path) -> None:
    port = free_port()
    env = bare_environment(tmp_path / "var", AT_WEBHOOK_TOKEN=TOKEN,
                           PUBLIC_URL="https://kuma.example.org")
    with serving(port, env, tmp_path, "--show-urls") as process:
        wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)

    assert process.returncode == 0, output
    quoted = urllib.parse.quote(TOKEN, safe="")
    assert f"https://kuma.example.org/webhooks/africastalking/ussd?token={quoted}" in output
    assert f"https://kuma.example.org/webhooks/africastalking/sms?token={quoted}" in output
    assert "https://kuma.example.org/webhooks/twilio/status\n" in output


def stalled_client(port: int) -> socket.socket:
    """Open a connection, send half a request, and keep it open: a phone on a bad line."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"POST /webhooks/africastalking/ussd HTTP/1.1\r\nHost: kuma\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: 500\r\n\r\nsessionId=ATUid_sl")
    return sock


def test_stalled_clients_do_not_hold_up_a_ussd_screen(tmp_path: Path) -> None:
    port = free_port()
    env = bare_environment(tmp_path / "var")
    with serving(port, env, tmp_path) as process:
        wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        stalled = [stalled_client(port) for _ in range(2 * 2)]  # two per web worker
        try:
            time.sleep(0.5)  # both are inside the server, each waiting for its body
            started = time.monotonic()
            status, screen = post_ussd(f"http://127.0.0.1:{port}/webhooks/africastalking/ussd")
            took = time.monotonic() - started
        finally:
            for sock in stalled:
                sock.close()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)

    assert status == 200 and screen.startswith("CON "), screen
    assert took < 2.0, f"the USSD screen took {took:.1f} s behind stalled clients"
    assert process.returncode == 0, output


@pytest.mark.parametrize("role", ["worker", "scheduler"])
def test_roles_refuse_to_start_without_the_secret_key(tmp_path: Path, role: str) -> None:
    result = subprocess.run(gateway_command(role), env=bare_environment(tmp_path / "var"),
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    assert f"GATEWAY_SECRET_KEY: required to start the {role} outside `gateway serve`" \
        in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()  # no key of its own


def test_gunicorn_refuses_to_start_without_the_secret_key(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "gunicorn", "-c", "python:gateway.gunicorn_config",
               "-b", f"127.0.0.1:{free_port()}", "gateway.app:create_app()"]
    result = subprocess.run(command, env=bare_environment(tmp_path / "var"), cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    assert "GATEWAY_SECRET_KEY: required to start the web server" in result.stderr
    assert "Traceback" not in result.stderr


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
