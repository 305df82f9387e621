"""Fixtures for calls: a flow offered on voice with its recordings, AT voice configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.engine.definition import load_flow
from gateway.settings import Settings
from tests.audio import record_all
from tests.engine.support import FLOWS_DIR
from tests.integration.conftest import client, drain, services, worker_environment  # noqa: F401

PUBLIC_URL = "https://kuma.example.org"
TOKEN = "voice-test-token"
VOICE_NUMBER = "+22320000000"


@pytest.fixture
def voice_flows(tmp_path: Path) -> Path:
    """Return a flows folder whose maternal_care is offered on voice, recorded in bm and fr.

    One French recording is left out, so that it is read aloud instead.
    """
    folder = tmp_path / "flows"
    folder.mkdir()
    source = (FLOWS_DIR / "maternal_care.yaml").read_text(encoding="utf-8")
    path = folder / "maternal_care.yaml"
    path.write_text(source.replace("channels: [ussd, sms]", "channels: [ussd, sms, voice]"),
                    encoding="utf-8")
    flow = load_flow(path)
    for language in ("bm", "fr"):
        record_all(flow, folder / "recordings", language)
    (folder / "recordings" / "maternal_care" / "fr" / "respect.wav").unlink()
    return folder


@pytest.fixture
def settings(settings: Settings, voice_flows: Path, at_standin) -> Settings:
    """Settings with AT voice configured against the stand-in and the voice flows."""
    return settings.replace(flows_dir=voice_flows, public_url=PUBLIC_URL,
                            at_username="kuma", at_api_key="at-test-key",
                            at_webhook_token=TOKEN, at_voice_number=VOICE_NUMBER,
                            at_api_base=at_standin.url, quiet_hours="")


@pytest.fixture
def voice_worker(monkeypatch: pytest.MonkeyPatch, settings: Settings,
                 worker_environment: None) -> Iterator[None]:
    """Give the worker's own settings the voice configuration too."""
    from gateway import services as services_module

    for env, value in (("FLOWS_DIR", str(settings.flows_dir)), ("PUBLIC_URL", PUBLIC_URL),
                       ("AT_USERNAME", "kuma"), ("AT_API_KEY", "at-test-key"),
                       ("AT_WEBHOOK_TOKEN", TOKEN), ("AT_VOICE_NUMBER", VOICE_NUMBER),
                       ("AT_API_BASE", settings.at_api_base), ("QUIET_HOURS", "")):
        monkeypatch.setenv(env, value)
    services_module.for_worker.cache_clear()
    yield
