"""`--update-summary-golden`: rewrite tests/reports/golden/*.txt from the current texts.

pytest reads options only from the conftest files of the paths it is given, so run
`pytest tests/reports --update-summary-golden`, then review the diff.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    try:
        parser.addoption("--update-summary-golden", action="store_true", default=False,
                         help="Rewrite tests/reports/golden/*.txt from what the summary "
                              "builder now writes; review the diff before committing.")
    except ValueError:
        pass  # already added, by a conftest higher up that imports this hook


@pytest.fixture
def update_summary_golden(request: pytest.FixtureRequest) -> bool:
    """Whether golden summaries are to be rewritten rather than compared."""
    return bool(request.config.getoption("--update-summary-golden", default=False))
