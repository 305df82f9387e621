"""What the CLI tests share: running `gateway` against the test's database and Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from gateway.cli import main
from gateway.settings import Settings


@pytest.fixture
def gateway(settings: Settings) -> Iterator:
    """Yield a function running `gateway ARGS…` against the test's database and Redis."""
    env = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "GATEWAY_SECRET_KEY": "test-secret", "KUMA_VAR_DIR": str(settings.var_dir)}

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    yield run
