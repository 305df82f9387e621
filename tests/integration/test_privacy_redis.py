"""No phone number in clear anywhere in Redis: keys, values, RQ job payloads, the AOF.

Issue 12, item 3. A redis-server of the test's own, with `--appendonly yes` in a temporary
folder, takes USSD and SMS surveys whose comments hold a typed number and a staff
`VISITE` SMS naming a mother; then every key, every value, every RQ job's arguments and
the append-only file on disk are searched for the digits, before and after filing.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
import redis
import rq
import sqlalchemy as sa
from rq.job import Job

from gateway import services as services_module
from gateway.app import create_app
from gateway.db import session_scope
from gateway.models import Answer, Center, Invitation, StaffPhone
from gateway.services import Services
from tests.integration.test_faults import INPUTS, RedisProcess
from tests.sms.support import CENTERS, add_contact

USSD_MOTHER = "+22376123456"
SMS_MOTHER = "+22376123457"
STAFF = "+22370000011"
TYPED = "appelez-moi au 73 10 05 00"
INVITED = "73100701"
# Every form a number could take in a value: typed, joined, international, the phones.
SECRETS = [b"73 10 05 00", b"73100500", INVITED.encode(), b"22373100701", b"76123456",
           b"76123457", b"76123458", b"70000011"]


def leaks(blob: bytes) -> list[bytes]:
    return [secret for secret in SECRETS if secret in blob]


def everything_in(client: redis.Redis) -> dict[bytes, bytes]:
    """Return every key's whole content as bytes (RQ's compressed job data unpacked)."""
    found: dict[bytes, bytes] = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == b"string":
            value = client.get(key) or b""
        elif kind == b"list":
            value = b"\n".join(client.lrange(key, 0, -1))
        elif kind == b"hash":
            fields = client.hgetall(key)
            if b"data" in fields:  # an RQ job: its function and arguments, zlib'd pickle
                fields[b"data"] = zlib.decompress(fields[b"data"])
            value = b"\n".join(k + b"=" + v for k, v in fields.items())
        elif kind == b"set":
            value = b"\n".join(client.smembers(key))
        elif kind == b"zset":
            value = b"\n".join(m for m, _ in client.zrange(key, 0, -1, withscores=True))
        else:
            value = repr(client.xrange(key)).encode() if kind == b"stream" else b""
        found[key] = key + b" " + value
    return found


def job_arguments(client: redis.Redis) -> dict[str, str]:
    """Return every RQ job's call, arguments included, as RQ will make it."""
    calls = {}
    for key in client.scan_iter("rq:job:*"):
        job_id = key.decode().rsplit(":", 1)[1]
        if client.type(key) != b"hash":
            continue
        job = Job.fetch(job_id, connection=client)
        calls[job_id] = f"{job.func_name}{job.args!r}{job.kwargs!r}"
    return calls


@pytest.fixture
def private_redis(tmp_path):
    server = RedisProcess(tmp_path / "redis")
    server.folder.mkdir()
    server.start()
    yield server
    server.stop()


def test_no_number_in_clear_in_redis_its_jobs_or_its_aof(private_redis, settings, monkeypatch):
    own = settings.replace(redis_url=private_redis.url)
    services = Services.build(own)
    try:
        _run_the_flows(own, services)
        _assert_nothing_in_clear(services, private_redis.folder, "before filing")
        _work(own, services, monkeypatch)
        with services.sessionmaker() as db:  # the flows did reach SQL, masked
            comments = [raw for raw in db.scalars(sa.select(Answer.raw)) if "appelez" in raw]
            assert comments == ["appelez-moi au ********"] * 2
            assert db.scalar(sa.select(sa.func.count(Invitation.id))) == 1
        _assert_nothing_in_clear(services, private_redis.folder, "after filing")
    finally:
        services.close()


def _run_the_flows(own, services) -> None:
    with session_scope(services.sessionmaker) as db:
        for code, name, extension in CENTERS:
            db.add(Center(code=code, name=name, ussd_extension=extension))
    staff_id = add_contact(services, STAFF, language="fr")
    with session_scope(services.sessionmaker) as db:
        center_id = db.scalar(sa.select(Center.id).where(Center.code == "07"))
        db.add(StaffPhone(center_id=center_id, contact_id=staff_id))
    with session_scope(services.sessionmaker) as db:
        services.directory.refresh(db)
    client = create_app(own, services=services).test_client()

    typed: list[str] = []
    for value in ["", *INPUTS, TYPED]:  # up to the comment, then the comment itself
        typed = [*typed, value] if value else typed
        response = client.post("/webhooks/africastalking/ussd", data={
            "sessionId": "ATUid_private", "serviceCode": "*384*123*07#",
            "phoneNumber": USSD_MOTHER, "networkCode": "61001", "text": "*".join(typed)})
        assert response.status_code == 200, response.text

    # Another mother types the number where a choice is asked, and leaves the session
    # open: her session's state, kept in Redis, holds what she typed.
    for text in ["", TYPED]:
        response = client.post("/webhooks/africastalking/ussd", data={
            "sessionId": "ATUid_open", "serviceCode": "*384*123*07#",
            "phoneNumber": "+22376123458", "networkCode": "61001", "text": text})
        assert response.status_code == 200 and response.text.startswith("CON ")

    for number, (phone, text) in enumerate(
            [(SMS_MOTHER, answer) for answer in
             ["AVIS 07", "1", "1", "2", "2", "1", "1", "1", "1", "1", "2", "1", TYPED]]
            + [(STAFF, f"VISITE {INVITED}")]):
        response = client.post("/webhooks/africastalking/sms", data={
            "from": phone, "to": "36010", "text": text, "date": "2026-11-27 10:00:00",
            "id": f"ATXid_private_{number}", "linkId": "", "networkCode": "61001"})
        assert response.status_code == 200, response.text


def _work(own, services, monkeypatch) -> None:
    for name, value in {"DATABASE_URL": own.database_url, "REDIS_URL": own.redis_url,
                        "GATEWAY_SECRET_KEY": own.secret_key, "KUMA_VAR_DIR": str(own.var_dir),
                        "SMS_OUTBOX": "log", "FLOWS_DIR": str(own.flows_dir or "")}.items():
        if value:
            monkeypatch.setenv(name, value)
    services_module.for_worker.cache_clear()
    try:
        rq.SimpleWorker([services.queue], connection=services.redis).work(
            burst=True, with_scheduler=False)
    finally:
        if services_module.for_worker.cache_info().currsize:
            services_module.for_worker().close()
        services_module.for_worker.cache_clear()


def _assert_nothing_in_clear(services, folder: Path, when: str) -> None:
    contents = everything_in(services.redis)
    assert any(key.startswith(b"rq:job:") for key in contents)  # the scan sees the jobs
    assert {key: leaks(value) for key, value in contents.items() if leaks(value)} == {}, when
    calls = job_arguments(services.redis)
    assert any("staff_sms" in call for call in calls.values()), calls
    assert {job: call for job, call in calls.items() if leaks(call.encode())} == {}, when
    aof = [path for path in folder.rglob("*") if path.is_file() and ".aof" in path.name]
    assert aof, f"no append-only file under {folder}"
    assert {path.name: leaks(path.read_bytes()) for path in aof
            if leaks(path.read_bytes())} == {}, when
