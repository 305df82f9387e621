"""Weekly summaries end to end: real scores in SQL, messages queued once, jobs on real RQ."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import rq
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway import services as services_module
from gateway.cli.recipients import add_recipient
from gateway.db import session_scope
from gateway.errors import WeekError
from gateway.models import Center, Contact, MessagePurpose, MessageStatus, OutboundMessage
from gateway.services import Services
from gateway.settings import Settings
from gateway.summaries import last_week, send_summaries, ussd_code
from tests.reports.dataset import Dataset

WEEK, LAST = "2026-W47", "2026-W46"
MIDWIFE, HEAD, ASACO = "+22376123456", "+22366554433", "+22379000011"
TOP, LOW = (100.0, True), (0.0, False)


def add_week(data: Dataset, center, week: str, mothers: int, *, cleanliness_top: int) -> None:
    """Add `mothers` sessions: respect always top, waiting 50, cleanliness top for the first k."""
    for i in range(mothers):
        data.session(center, week, {"respect": TOP, "waiting": (50.0, False),
                                    "cleanliness": TOP if i < cleanliness_top else LOW})


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """Three centres: 07 with three recipients (fr, bm, opted out), 12 too few answers, 20 none."""
    built = Services.build(settings.replace(at_ussd_base_codes=("*384*123#",)))
    with session_scope(built.sessionmaker) as db:
        data = Dataset(db)
        banconi = data.center("07", "CSCom de Banconi", ussd_extension="07")
        sabali = data.center("12", "CSCom de Sabalibougou")
        data.center("20", "CSCom sans destinataire")
        add_week(data, banconi, LAST, 20, cleanliness_top=18)
        add_week(data, banconi, WEEK, 12, cleanliness_top=3)
        add_week(data, sabali, WEEK, 4, cleanliness_top=4)
        add_recipient(db, built.vault, center_code="07", phone=MIDWIFE, language="fr",
                      role="chief_midwife")
        add_recipient(db, built.vault, center_code="07", phone=HEAD, language="bm", role="head")
        add_recipient(db, built.vault, center_code="07", phone=ASACO, language="fr", role="asaco")
        add_recipient(db, built.vault, center_code="12", phone=MIDWIFE, language="fr",
                      role="chief_midwife")
        asaco = db.scalars(sa.select(Contact).where(
            Contact.phone_hash == built.vault.hash(ASACO))).one()
        asaco.opted_out_at = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    yield built
    built.close()


def messages(services: Services) -> list[OutboundMessage]:
    with session_scope(services.sessionmaker) as db:
        return list(db.scalars(sa.select(OutboundMessage).order_by(OutboundMessage.id)))


def test_summaries_are_queued_once_per_recipient_in_their_language(services: Services) -> None:
    rows = send_summaries(services, week=WEEK)
    assert [(r["center"], r["recipient"], r["language"], r["status"]) for r in rows] == [
        ("07", "+223******56", "fr", "sent"),
        ("07", "+223******33", "bm", "sent"),
        ("07", "+223******11", "fr", "opted_out"),
        ("12", "+223******56", "fr", "sent"),
    ]
    assert set(rows[0]) == {"center", "week", "recipient", "language", "text", "segments",
                            "status"}
    fr, bm, _, too_few = rows
    assert fr["text"].startswith("CSCom de Banconi, semaine 47 (16-22 nov.) : 12 répondantes "
                                 "(-8 en une semaine). Score global 58/100 (-22 en une semaine). ")
    assert "Alerte : Propreté en nette baisse (25 % de meilleures notes, contre 90 % avant)." \
        in fr["text"]
    assert fr["text"].endswith("Point faible : Propreté 25/100. "
                               "Point fort : Respect et dignité 100/100.")
    assert bm["text"].startswith("CSCom de Banconi, dògòkun 47 (now 16-22): jaabibaga 12")
    assert too_few["text"] == (
        "CSCom de Sabalibougou, semaine 47 (16-22 nov.) : 4 répondantes : trop peu pour donner "
        "des scores. Les mères peuvent répondre gratuitement par SMS : AVIS 12. "
        "Invitez-les après chaque consultation.")
    assert all(r["segments"] <= 2 and r["week"] == WEEK for r in rows)

    stored = messages(services)
    assert [(m.body, m.purpose, m.status, m.segments) for m in stored] == [
        (r["text"], MessagePurpose.SUMMARY, MessageStatus.QUEUED, r["segments"])
        for r in rows if r["status"] == "sent"]
    assert all(m.dedupe_key.startswith(f"summary:{r['center']}:{WEEK}:")
               for m, r in zip(stored, [rows[0], rows[1], rows[3]]))
    assert sorted(job.args[0] for job in services.queue.get_jobs()) == [m.id for m in stored]


def test_a_second_run_sends_nothing_and_says_already_sent(services: Services) -> None:
    first = send_summaries(services, week=WEEK)
    jobs = services.queue.count
    second = send_summaries(services, week=WEEK)
    assert [r["status"] for r in second] == ["already_sent", "already_sent", "opted_out",
                                            "already_sent"]
    assert [r["text"] for r in second] == [r["text"] for r in first]
    assert len(messages(services)) == 3
    assert services.queue.count == jobs


def test_already_sent_reports_the_text_that_was_sent(services: Services) -> None:
    send_summaries(services, week=WEEK)
    with session_scope(services.sessionmaker) as db:
        Dataset(db).session(_center(db, "12"), WEEK, {"respect": TOP})
    again = send_summaries(services, week=WEEK)
    assert "4 répondantes" in again[3]["text"]  # not the 5 the data now holds


def _center(db: so.Session, code: str) -> Center:
    return db.scalars(sa.select(Center).where(Center.code == code)).one()


def test_dry_run_composes_and_queues_nothing(services: Services) -> None:
    rows = send_summaries(services, week=WEEK, dry_run=True)
    assert [r["status"] for r in rows] == ["dry_run", "dry_run", "opted_out", "dry_run"]
    assert messages(services) == []
    assert services.queue.count == 0
    assert [r["status"] for r in send_summaries(services, week=WEEK)][0] == "sent"


def test_opt_out_known_only_to_redis_is_respected(services: Services) -> None:
    services.store.set_opted_out(services.vault.hash(HEAD), True)
    rows = send_summaries(services, week=WEEK)
    assert [r["status"] for r in rows] == ["sent", "opted_out", "opted_out", "sent"]


def test_inactive_recipients_get_nothing(services: Services) -> None:
    from gateway.models import SummaryRecipient

    with session_scope(services.sessionmaker) as db:
        db.execute(sa.update(SummaryRecipient).values(active=False))
    assert send_summaries(services, week=WEEK) == []


def test_default_week_is_the_one_that_just_ended_in_local_time(services: Services) -> None:
    # Monday 23 November 2026, 08:00 in Bamako (UTC+0): week 47 has just ended.
    monday = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.timezone.utc)
    assert last_week(services.settings, monday) == WEEK
    rows = send_summaries(services, now=monday, dry_run=True)
    assert {r["week"] for r in rows} == {WEEK}
    # In Pacific/Kiritimati (UTC+14) it is already Monday when Bamako's Sunday evening.
    far_east = services.settings.replace(timezone="Pacific/Kiritimati")
    assert last_week(far_east, dt.datetime(2026, 11, 22, 11, 0, tzinfo=dt.timezone.utc)) == WEEK


def test_the_current_week_is_allowed(services: Services) -> None:
    rows = send_summaries(services, week="2026-W48", dry_run=True)
    assert "0 répondante : trop peu" in rows[0]["text"]


@pytest.mark.parametrize("week", ["2026-47", "2026-W54", "next week"])
def test_a_bad_week_is_a_clear_error(services: Services, week: str) -> None:
    with pytest.raises(WeekError, match="week"):
        send_summaries(services, week=week)


def test_scores_of_every_centre_come_from_one_query(services: Services) -> None:
    statements: list[str] = []
    sa.event.listen(services.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: statements.append(statement))
    send_summaries(services, week=WEEK)
    assert sum("FROM answers" in s for s in statements) == 1


def test_ussd_code_joins_the_base_code_and_the_extension(settings: Settings) -> None:
    with_base = settings.replace(at_ussd_base_codes=("*384*123#", "*384*999#"))
    assert ussd_code(with_base, "07") == "*384*123*07#"
    assert ussd_code(with_base, None) is None
    assert ussd_code(settings, "07") is None


def test_two_concurrent_runs_queue_each_summary_exactly_once(services: Services) -> None:
    others = [Services.build(services.settings, load_flows=True) for _ in range(2)]
    start = threading.Barrier(len(others))
    results: list[list[dict]] = [[] for _ in others]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait(timeout=10)
            results[index] = send_summaries(others[index], week=WEEK)
        except BaseException as error:  # reported below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(others))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for other in others:
        other.close()
    assert errors == []
    for position in (0, 1, 3):
        assert sorted(r[position]["status"] for r in results) == ["already_sent", "sent"]
    assert len(messages(services)) == 3
    assert services.queue.count == 3


def test_the_scheduled_job_queues_and_a_real_worker_sends_the_summaries(services: Services,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings = services.settings
    for name, value in {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
                        "GATEWAY_SECRET_KEY": settings.secret_key, "SMS_OUTBOX": "log",
                        "KUMA_VAR_DIR": str(settings.var_dir),
                        "FLOWS_DIR": str(Path(settings.flows_dir))}.items():
        monkeypatch.setenv(name, value)
    services_module.for_worker.cache_clear()
    try:
        services.queue.enqueue("gateway.jobs.send_summaries", kwargs={"week": WEEK})
        rq.SimpleWorker([services.queue], connection=services.redis).work(
            burst=True, with_scheduler=False)
    finally:
        if services_module.for_worker.cache_info().currsize:
            services_module.for_worker().close()
        services_module.for_worker.cache_clear()
    assert [m.status for m in messages(services)] == [MessageStatus.LOGGED] * 3
    assert [r["status"] for r in send_summaries(services, week=WEEK)][0] == "already_sent"
