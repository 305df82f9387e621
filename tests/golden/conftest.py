"""`--update-golden`: rewrite the golden conversations from the current engine.

pytest reads options only from the conftest files of the paths it is given, so run
`pytest tests/golden --update-golden` (a bare `pytest --update-golden` works only if
tests/conftest.py imports this hook).
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    try:
        parser.addoption("--update-golden", action="store_true", default=False,
                         help="Rewrite tests/golden/*.yaml from what the engine now says; "
                              "review the diff before committing.")
    except ValueError:
        pass  # already added: tests/conftest.py imports this hook so that bare pytest has it


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether golden files are to be rewritten rather than compared."""
    return bool(request.config.getoption("--update-golden", default=False))
