"""The session store and the Redis connection, against a real Redis server."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from gateway import redis_connection
from gateway.errors import SessionBusyError, SettingsError
from gateway.settings import Settings
from gateway.session_store import (CONTACT_TTL, EventsList, Outcome, SessionStore, UssdLifetimes,
                           UssdTurns, UssdWrite)


@pytest.fixture
def store(redis_client: redis.Redis) -> SessionStore:
    """Return a store on the test's empty Redis db."""
    return SessionStore(redis_client)


# ---------------------------------------------------------------- state


def test_saved_state_loads_back_with_its_ttl(store: SessionStore,
                                              redis_client: redis.Redis) -> None:
    state = {"step": "q2", "answers": {"q1": "3"}, "language": "bm", "note": "ɛɔɲŋ"}

    store.save("ussd", "ATUid_1", state, ttl=180)

    assert store.load("ussd", "ATUid_1") == state
    assert store.load("sms", "ATUid_1") is None
    assert 170 < redis_client.ttl("kuma:session:ussd:ATUid_1") <= 180


def test_state_expires(store: SessionStore) -> None:
    store.save("ussd", "s", {"step": "q1"}, ttl=1)

    time.sleep(1.1)

    assert store.load("ussd", "s") is None


def test_delete_forgets_state(store: SessionStore) -> None:
    store.save("ussd", "s", {"step": "q1"}, ttl=60)

    store.delete("ussd", "s")

    assert store.load("ussd", "s") is None


def test_corrupt_state_starts_afresh(store: SessionStore, redis_client: redis.Redis,
                                     caplog: pytest.LogCaptureFixture) -> None:
    redis_client.set("kuma:session:sms:s", b"[not json")

    assert store.load("sms", "s") is None
    assert "not a JSON object" in caplog.text


def test_prefix_separates_stores(redis_client: redis.Redis) -> None:
    SessionStore(redis_client, prefix="other").save("ussd", "s", {"a": 1}, ttl=60)

    assert SessionStore(redis_client).load("ussd", "s") is None
    assert redis_client.exists("other:session:ussd:s")


def test_ttl_must_be_positive(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="ttl must be at least 1 second"):
        store.save("ussd", "s", {}, ttl=0)


# ---------------------------------------------------------------- USSD turns


def ussd_turns(store: SessionStore) -> UssdTurns:
    return UssdTurns(store, lifetimes=UssdLifetimes(state=300, replies=3600, dropped=120),
                     events=EventsList("kuma:events", "kuma:events:flush-queued", 60))


def commit(turns: UssdTurns, session_id: str = "s", *, expected: str | None = None,
           state: str | None = '{"step":"q2"}', fingerprint: str = "fp-1",
           reply: str = "CON Q2", records: tuple[str, ...] = (), **extra) -> int | str:
    """Commit a turn; return 2 (written, flush it), 1 (written), 0 (stale) or the screen."""
    done = turns.commit(UssdWrite(session_id, "h1", expected=expected, state=state,
                                  fingerprint=fingerprint, reply=reply, records=records,
                                  **extra))
    if done.outcome is Outcome.ANSWERED:
        return done.screen
    return 0 if done.outcome is Outcome.STALE else 1 + done.flush_needed


def test_a_turn_is_written_once_and_its_reply_given_again(store: SessionStore,
                                                         redis_client: redis.Redis) -> None:
    turns = ussd_turns(store)
    assert commit(turns, records=('{"a":1}',)) == 2  # written; a flush must be queued
    assert commit(turns, fingerprint="fp-2", reply="CON other") == 0  # stale: refused
    assert commit(turns, reply="CON again") == "CON Q2"  # the same request: its screen
    assert turns.recent("s").state == '{"step":"q2"}'

    snapshot = turns.read("s", "h1", "fp-1")
    assert snapshot.reply == "CON Q2" and snapshot.raw_state == '{"step":"q2"}'
    assert snapshot.seen and snapshot.dropped == "s"
    assert turns.read("s", "h1", "fp-2").reply is None
    assert redis_client.lrange("kuma:events", 0, -1) == [b'{"a":1}']
    assert 3500 < redis_client.ttl("kuma:replies:ussd:s") <= 3600


def test_racing_turns_advance_a_session_once(store: SessionStore) -> None:
    turns = ussd_turns(store)
    commit(turns)
    barrier = threading.Barrier(10)

    def advance(n: int) -> int | str:
        barrier.wait()
        return commit(turns, expected='{"step":"q2"}', state=f'{{"step":"q3","by":{n}}}',
                      fingerprint=f"race-{n % 2}", reply=f"CON Q3 by {n}")

    with ThreadPoolExecutor(max_workers=10) as pool:
        written = list(pool.map(advance, range(10)))

    # One request wins; a repeat of it gets its screen; any other request is stale.
    assert written.count(1) == 1
    winner = written.index(1)
    for n, result in enumerate(written):
        if n != winner:
            assert result == (f"CON Q3 by {winner}" if n % 2 == winner % 2 else 0)


def test_a_final_turn_ends_the_session_and_its_resume_pointer(store: SessionStore) -> None:
    turns = ussd_turns(store)
    commit(turns)
    commit(turns, expected='{"step":"q2"}', state=None, fingerprint="fp-2",
           reply="END Merci")

    snapshot = turns.read("s", "h1", "fp-3")
    assert snapshot.raw_state is None and snapshot.seen and snapshot.dropped is None


def test_a_resumed_session_can_be_taken_only_once(store: SessionStore) -> None:
    turns = ussd_turns(store)
    commit(turns, "old")
    first = commit(turns, "new1", state='{"step":"q2"}', resumed_from="old")
    second = commit(turns, "new2", state='{"step":"q2"}', resumed_from="old")
    assert (first, second) == (1, 0)


def test_a_turn_remembers_language_and_opt_out(store: SessionStore) -> None:
    turns = ussd_turns(store)
    commit(turns, language="bm", center="07", opted_out=True)
    assert store.contact_prefs("h1") == {"language": "bm", "center": "07"}
    assert store.is_opted_out("h1")


# ---------------------------------------------------------------- locks


def test_lock_serialises_concurrent_requests(store: SessionStore) -> None:
    inside = 0
    most_inside = 0
    counter = threading.Lock()

    def request(_: int) -> None:
        nonlocal inside, most_inside
        with store.lock("ussd", "busy", timeout=5, blocking_timeout=10):
            with counter:
                inside += 1
                most_inside = max(most_inside, inside)
            # read-modify-write: loses updates unless the lock really serialises
            state = store.load("ussd", "busy") or {"count": 0}
            time.sleep(0.01)
            store.save("ussd", "busy", {"count": state["count"] + 1}, ttl=60)
            with counter:
                inside -= 1

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(request, range(24)))

    assert most_inside == 1
    assert store.load("ussd", "busy") == {"count": 24}


def test_lock_not_had_in_time_raises_session_busy(store: SessionStore) -> None:
    holding = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with store.lock("ussd", "s", timeout=10):
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait(5)
    try:
        started = time.monotonic()
        with pytest.raises(SessionBusyError, match="session ussd:s is busy"):
            with store.lock("ussd", "s", blocking_timeout=0.3):
                pass
        assert time.monotonic() - started < 2
        with store.lock("ussd", "other", blocking_timeout=0.3):
            pass  # other sessions are not held up
    finally:
        release.set()
        thread.join()
    with store.lock("ussd", "s", blocking_timeout=0.3):
        pass  # free again once released


def test_lock_of_a_crashed_holder_expires(store: SessionStore, redis_client: redis.Redis) -> None:
    redis_client.lock("kuma:lock:ussd:s", timeout=1).acquire()  # never released

    with store.lock("ussd", "s", blocking_timeout=3):
        pass


def test_lock_outlived_is_logged_not_raised(store: SessionStore,
                                            caplog: pytest.LogCaptureFixture) -> None:
    with store.lock("ussd", "slow", timeout=0.2):
        time.sleep(0.4)

    assert "expired before release" in caplog.text


# ---------------------------------------------------------------- contacts


def test_contact_prefs_are_remembered_long(store: SessionStore,
                                           redis_client: redis.Redis) -> None:
    assert store.contact_prefs("h1") == {}

    store.set_contact_prefs("h1", language="bm")
    store.set_contact_prefs("h1", center="07")

    assert store.contact_prefs("h1") == {"language": "bm", "center": "07"}
    assert store.contact_prefs("h2") == {}
    assert CONTACT_TTL - 10 < redis_client.ttl("kuma:contact:h1") <= CONTACT_TTL


def test_opt_out_mirror(store: SessionStore, redis_client: redis.Redis) -> None:
    assert store.is_opted_out("h1") is False

    store.set_opted_out("h1", True)
    assert store.is_opted_out("h1") is True
    assert store.is_opted_out("h2") is False
    assert redis_client.ttl("kuma:opted_out:h1") == -1  # no expiry

    store.set_opted_out("h1", False)
    assert store.is_opted_out("h1") is False


def test_store_works_on_a_decoded_client(redis_url: str, redis_client: redis.Redis) -> None:
    decoded = SessionStore(redis.Redis.from_url(redis_url, decode_responses=True))

    decoded.save("sms", "s", {"a": "é"}, ttl=60)
    decoded.set_contact_prefs("h", language="fr")
    turns = ussd_turns(decoded)
    commit(turns, "u", reply="CON Mèrci")

    assert decoded.load("sms", "s") == {"a": "é"}
    assert decoded.contact_prefs("h") == {"language": "fr"}
    assert turns.read("u", "h1", "fp-1").reply == "CON Mèrci"


# ---------------------------------------------------------------- connections


def test_connect_uses_the_configured_url(redis_url: str, redis_client: redis.Redis,
                                         tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, redis_url=redis_url)
    client = redis_connection.connect(settings)
    decoded = redis_connection.connect(redis_url, decode_responses=True)

    client.set("k", "v")

    assert redis_client.get("k") == b"v"
    assert client.get("k") == b"v"
    assert decoded.get("k") == "v"
    assert list(tmp_path.iterdir()) == []  # no embedded server started


def test_connect_without_url_or_folder_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="REDIS_URL"):
        redis_connection.connect(None)


PROCESS = """
import sys
from gateway.redis_connection import connect
client = connect(None, sys.argv[1])
client.incr("processes")
print(client.info()["process_id"])
"""


def test_embedded_server_is_shared_by_processes_and_persists(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    try:
        here = redis_connection.connect(None, var_dir)
        here.set("from", "parent")
        children = [subprocess.Popen([sys.executable, "-c", PROCESS, str(var_dir)],
                                     stdout=subprocess.PIPE, text=True) for _ in range(3)]
        pids = {child.communicate(timeout=60)[0].strip() for child in children}

        assert pids == {str(here.info()["process_id"])}
        assert int(here.get("processes")) == 3
        assert redis_connection.connect(None, var_dir, decode_responses=True).get("from") \
            == "parent"
    finally:
        redis_connection.close_embedded(var_dir)

    # The last user stopped the server, which saved its data into var/redis.db.
    assert (var_dir / "redis.db").is_file()
    again = subprocess.run([sys.executable, "-c", PROCESS, str(var_dir)], capture_output=True,
                           text=True, timeout=60, check=True)
    assert again.stdout.strip() not in pids  # a new server...
    try:
        assert int(redis_connection.connect(None, var_dir).get("processes")) == 4  # ...same data
    finally:
        redis_connection.close_embedded(var_dir)


def test_processes_starting_together_start_one_server(tmp_path: Path) -> None:
    script = PROCESS + "import time; time.sleep(0.5)\n"
    children = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "var")],
                                 stdout=subprocess.PIPE, text=True) for _ in range(4)]

    pids = {child.communicate(timeout=60)[0].strip() for child in children}

    assert len(pids) == 1 and pids != {""}
    # The last of them stopped it, though they all left together.
    assert not (tmp_path / "var" / "redis.db.settings").exists()
    assert (tmp_path / "var" / "redis.db").is_file()
