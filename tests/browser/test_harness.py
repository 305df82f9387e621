"""The harness never lets a missing browser pass unseen in CI."""

from __future__ import annotations

import pytest

from tests.browser import conftest


def test_a_missing_browser_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="browser tests cannot run in CI"):
        conftest._missing("/usr/bin/chromium is missing")


def test_a_missing_browser_skips_on_a_developer_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception):
        conftest._missing("/usr/bin/chromium is missing")
