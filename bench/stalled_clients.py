"""USSD screens while clients stall: `gateway serve` with 0, 4 and 16 half-sent requests held open.

    python bench/stalled_clients.py [--requests 20]

Starts `gateway serve` on the embedded defaults in a temporary folder, opens that many
connections that each send half a request and then nothing (a phone on a bad line, or a
slowloris), and times whole USSD screens meanwhile. Prints the median and the slowest.
"""

from __future__ import annotations

import argparse
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

STALLED = (0, 4, 16)
HALF_REQUEST = (b"POST /webhooks/africastalking/ussd HTTP/1.1\r\nHost: kuma\r\n"
                b"Content-Length: 500\r\n\r\nsessionId=ATUid_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gateway serve did not answer within 60 s")


def screen_ms(base: str, session: str) -> float:
    form = urllib.parse.urlencode({"sessionId": session, "serviceCode": "*384*123#",
                                   "phoneNumber": "+22376123456", "networkCode": "61001",
                                   "text": ""}).encode()
    started = time.monotonic()
    urllib.request.urlopen(f"{base}/webhooks/africastalking/ussd", data=form, timeout=60).read()
    return (time.monotonic() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        env = {"PATH": "/usr/bin:/bin", "HOME": folder, "KUMA_VAR_DIR": str(Path(folder) / "var")}
        serve = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", str(port)],
                                 env=env, cwd=folder, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            wait_until_up(base)
            for count in STALLED:
                stalled = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
                for sock in stalled:
                    sock.sendall(HALF_REQUEST)
                time.sleep(0.5)
                times = [screen_ms(base, f"ATUid_b{count}_{i}") for i in range(args.requests)]
                print(f"{count:3d} stalled clients: median {statistics.median(times):.1f} ms, "
                      f"slowest {max(times):.1f} ms ({args.requests} screens)")
                for sock in stalled:
                    sock.close()
        finally:
            serve.send_signal(signal.SIGINT)
            serve.wait(30)


if __name__ == "__main__":
    main()
