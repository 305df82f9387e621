"""One record that cannot be filed never stops the others: it is found, set aside, shown."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway import deadletter, eventlog
from gateway.app import create_app
from gateway.cli import main
from gateway.models import Answer, SurveySession
from tests.conftest import TEST_DATABASE_URL, is_postgresql
from tests.integration.test_ussd_conversations import play
from tests.web.conftest import closed_port, metric_sample, services_with  # noqa: F401

WHOLE_SURVEY = ["1", "1", "2", "2", "1", "1", "1", "1", "1", "2", "1", "merci"]
ON_POSTGRESQL = is_postgresql(TEST_DATABASE_URL)


def sessions_stored(services) -> set[str]:
    with services.sessionmaker() as db:
        return set(db.scalars(sa.select(SurveySession.key)))


def answers_stored(services) -> int:
    with services.sessionmaker() as db:
        return db.scalar(sa.select(sa.func.count()).select_from(Answer))


def waiting_records(services) -> list[dict]:
    return [json.loads(item) for item in services.redis.lrange(eventlog.EVENTS_KEY, 0, -1)]


def insert_record(services, record: dict, at: int) -> None:
    """Put `record` at position `at` of the events list, among the clean ones."""
    items = services.redis.lrange(eventlog.EVENTS_KEY, 0, -1)
    items.insert(at, json.dumps(record, ensure_ascii=False).encode())
    with services.redis.pipeline() as pipe:
        pipe.delete(eventlog.EVENTS_KEY)
        pipe.rpush(eventlog.EVENTS_KEY, *items)
        pipe.execute()


def copy_of_comment_turn(services, key: str, comment: str) -> dict:
    """Return the turn that carries a comment, as another session whose comment is `comment`."""
    turn = next(r for r in waiting_records(services)
                if any(e.get("step") == "comment" for e in r["events"]))
    turn = json.loads(json.dumps(turn))
    turn["context"]["key"] = key
    for event in turn["events"]:
        if event.get("step") == "comment":
            event["raw"] = event["value"] = comment
    return turn


def three_clean_surveys(client) -> None:
    for number in range(3):
        play(client, f"ATUid_clean_{number}", WHOLE_SURVEY, phone=f"+2237600{number:04d}")


@pytest.mark.parametrize("key, comment", [
    ("ussd:ATUid_nul", "mer\u0000ci"),  # a comment typed with NUL
    ("ussd:ATUid_\u0000", "merci"),  # a sessionId of %00, as the fuzzing sent it
], ids=["comment", "session id"])
def test_a_nul_record_among_clean_records_stops_no_filing(client, services, key, comment):
    three_clean_surveys(client)
    clean = waiting_records(services)
    insert_record(services, copy_of_comment_turn(services, key, comment), at=len(clean) // 2)
    before = metric_sample("kuma_failures_total", kind="dead_letter")

    filed = eventlog.drain(services, owner="test", batch_size=500)

    assert filed == len(clean) + (0 if ON_POSTGRESQL else 1)
    assert eventlog.waiting(services.redis) == 0
    stored = sessions_stored(services)
    assert {f"ussd:ATUid_clean_{n}" for n in range(3)} <= stored
    assert answers_stored(services) >= 3 * 11
    if ON_POSTGRESQL:  # PostgreSQL text cannot hold NUL: that record, and only it, is set aside
        assert key not in stored
        [letter] = deadletter.letters(services.redis)
        assert "NUL" in letter.reason
        assert metric_sample("kuma_failures_total", kind="dead_letter") == before + 1
    else:  # SQLite stores the NUL; nothing had to be set aside
        assert key in stored
        assert deadletter.count(services.redis) == 0


def test_records_that_fail_on_any_database_are_found_by_halving(client, services):
    three_clean_surveys(client)
    clean = waiting_records(services)
    broken = copy_of_comment_turn(services, "ussd:ATUid_noflow", "merci")
    broken["context"]["flow_id"] = None  # NOT NULL in survey_sessions
    insert_record(services, broken, at=1)
    insert_record(services, {"context": {}, "events": "not a list"}, at=len(clean))
    services.redis.rpush(eventlog.EVENTS_KEY, b"{not json")

    filed = eventlog.drain(services, owner="test", batch_size=7)  # several batches

    assert filed == len(clean)
    assert eventlog.waiting(services.redis) == 0
    assert sessions_stored(services) == {f"ussd:ATUid_clean_{n}" for n in range(3)}
    assert answers_stored(services) == 3 * 11
    reasons = sorted(letter.reason.split(":")[0] for letter in deadletter.letters(services.redis))
    assert len(reasons) == 3
    assert "IntegrityError" in reasons or "NotNullViolation" in reasons


def test_a_database_that_is_down_sets_nothing_aside(client, services, services_with,
                                                    closed_port):
    three_clean_surveys(client)
    waiting = eventlog.waiting(services.redis)
    down = services_with(database_url=f"postgresql+psycopg://kuma@127.0.0.1:{closed_port}/kuma")

    with pytest.raises(sa.exc.OperationalError):
        eventlog.drain(down, owner="test")  # RQ retries the job; every record is kept

    assert eventlog.waiting(services.redis) == waiting
    assert deadletter.count(services.redis) == 0


def test_healthz_and_metrics_report_stuck_filing_and_dead_letters(client, services, settings):
    services.settings = settings.replace(filing_stall_seconds=60)
    health = create_app(services.settings, services=services).test_client()
    assert health.get("/healthz").get_json()["filing"] == {
        "status": "ok", "oldest_unfiled_seconds": None, "dead_letters": 0}

    three_clean_surveys(client)
    response = health.get("/healthz")
    assert response.status_code == 200  # answers wait a moment: that is normal
    assert response.get_json()["filing"]["oldest_unfiled_seconds"] < 60

    old = copy_of_comment_turn(services, "ussd:ATUid_old", "merci")
    for event in old["events"]:
        event["at"] = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)).isoformat()
    services.redis.lpush(eventlog.EVENTS_KEY, json.dumps(old))
    deadletter.set_aside(services.redis, [(b"{}", "KeyError: 'context'")],
                         dt.datetime.now(dt.timezone.utc))

    response = health.get("/healthz")
    assert response.status_code == 503
    filing = response.get_json()["filing"]
    assert filing["status"] == "stuck" and filing["dead_letters"] == 1
    assert 290 <= filing["oldest_unfiled_seconds"] <= 320
    scrape = health.get("/metrics").text
    gauges = {line.split()[0]: float(line.split()[1]) for line in scrape.splitlines()
              if line.startswith("kuma_events_")}
    assert gauges["kuma_events_dead_letters"] == 1
    assert 290 <= gauges["kuma_events_oldest_unfiled_seconds"] <= 320


def test_the_cli_lists_masked_retries_and_drops_dead_letters(client, services, settings):
    three_clean_surveys(client)
    fixable = copy_of_comment_turn(services, "ussd:ATUid_later", "appelez 76 12 34 56")
    hopeless = dict(fixable, context={**fixable["context"], "key": "ussd:ATUid_never",
                                      "flow_id": None})
    services.redis.delete(eventlog.EVENTS_KEY)
    now = dt.datetime.now(dt.timezone.utc)
    deadletter.set_aside(services.redis, [(json.dumps(fixable), "OperationalError: +22376123456"),
                                          (json.dumps(hopeless), "IntegrityError: null")], now)
    env = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "GATEWAY_SECRET_KEY": settings.secret_key, "KUMA_VAR_DIR": str(settings.var_dir)}
    gateway = lambda *args: CliRunner().invoke(main, list(args), env=env)  # noqa: E731

    listed = gateway("events", "dead", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = sorted(json.loads(listed.output), key=lambda row: row["session"])
    assert [row["session"] for row in rows] == ["ussd:ATUid_later", "ussd:ATUid_never"]
    assert "22376123456" not in listed.output and "76 12 34 56" not in listed.output
    assert "ATUid_later" in gateway("events", "dead", "list").output

    retried = gateway("events", "dead", "retry")
    assert retried.exit_code == 1  # one still fails, and says why
    assert f"{rows[0]['id']}: filed" in retried.output
    assert f"{rows[1]['id']}: still fails: " in retried.output
    assert "ussd:ATUid_later" in sessions_stored(services)
    assert [letter.id for letter in deadletter.letters(services.redis)] == [rows[1]["id"]]

    assert gateway("events", "dead", "drop", "nope").exit_code != 0
    dropped = gateway("events", "dead", "drop", rows[1]["id"])
    assert dropped.exit_code == 0 and "dropped 1" in dropped.output
    assert deadletter.count(services.redis) == 0
    assert "no dead letters" in gateway("events", "dead", "list").output
