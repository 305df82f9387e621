"""The embedded SQLite default holds the web and the worker writing at the same moment."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
import sqlalchemy as sa

from gateway import eventlog
from gateway.api_tokens import create_token
from gateway.db import session_scope
from gateway.models import Invitation, SurveySession
from tests.conftest import TEST_DATABASE_URL, is_postgresql
from tests.integration.test_ussd_conversations import play

pytestmark = pytest.mark.skipif(is_postgresql(TEST_DATABASE_URL),
                                reason="PostgreSQL has row locks; this is SQLite's case")

WHOLE_SURVEY = ["1", "1", "2", "2", "1", "1", "1", "1", "1", "2", "1", "0"]
SURVEYS = 40
INVITATIONS = 30

# The worker's side, in a process of its own: file the waiting events in small batches,
# so that it commits again and again while the web writes.
WORKER = textwrap.dedent("""
    import sys
    from gateway import eventlog
    from gateway.services import for_worker
    services = for_worker()
    print("ready", flush=True)
    sys.stdin.readline()
    print(eventlog.drain(services, owner="worker", batch_size=3), flush=True)
""")


def test_invitations_while_the_worker_files_answers(client, services, settings,
                                                    worker_environment):
    for number in range(SURVEYS):
        play(client, f"ATUid_w_{number}", WHOLE_SURVEY, phone=f"+2237601{number:04d}")
    waiting = eventlog.waiting(services.redis)
    with session_scope(services.sessionmaker) as db:
        token = create_token(db, "concurrency")
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=dict(os.environ),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "ready"
    worker.stdin.write("go\n")
    worker.stdin.flush()

    statuses = []
    started = time.monotonic()
    for number in range(INVITATIONS):
        response = client.post("/api/v1/invitations",
                               headers={"Authorization": f"Bearer {token}"},
                               json={"center": "07", "phone": f"7602{number:04d}"})
        statuses.append((response.status_code, response.get_json().get("error")))
    finished_while_filing = worker.poll() is None
    filed = int(worker.communicate(timeout=120)[0].strip())

    assert statuses == [(202, None)] * INVITATIONS
    assert finished_while_filing, "the worker finished before the web wrote: no overlap"
    assert filed == waiting and eventlog.waiting(services.redis) == 0
    with services.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(SurveySession)) == SURVEYS
        assert db.scalar(sa.select(sa.func.count()).select_from(Invitation)) == INVITATIONS
    assert time.monotonic() - started < 60
