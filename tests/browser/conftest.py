"""The dashboard in a real browser: the app served on a loopback port, Debian's Chromium.

The browser is the system's `/usr/bin/chromium` (`apt-get install chromium`), driven by
Playwright for Python; Playwright's own browser builds are never downloaded. Without the
browser the tests skip on a developer's machine and FAIL in CI (`CI=true`), so that a
missing install cannot pass unseen. Screenshots go to `var/test-artifacts/` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from gateway.throttle import Policy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() == "true"  # read before the environment is cleaned
WIDTHS = {"phone": 360, "laptop": 1366}


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Yield a headless Chromium (the system's), shared by the run."""
    if shutil.which(CHROMIUM) is None:
        _missing(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def live_app(settings: Settings) -> Iterator:
    """Yield the real app (tight login limits), its services, and its loopback base URL."""
    services = Services.build(settings)
    app = create_app(settings, services=services)
    app.config["KUMA_THROTTLE_POLICIES"] = {
        "login-account": Policy(free=2, lock_after=3, lockout=600)}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, services, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        services.close()


@pytest.fixture(params=list(WIDTHS))
def page(request: pytest.FixtureRequest, browser) -> Iterator:
    """Yield a fresh page (own cookies) at a phone's or a laptop's width."""
    context = browser.new_context(viewport={"width": WIDTHS[request.param], "height": 800},
                                  locale="fr-FR")
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    opened.width_name = request.param
    yield opened
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as var/test-artifacts/<name>-<width>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}-{page.width_name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
