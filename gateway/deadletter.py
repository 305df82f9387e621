"""Records the flusher cannot file, set aside so that they never stop the others.

A batch that fails for a reason of its own (a NUL byte PostgreSQL refuses, a broken
record) is split in halves until the failing records are found; each of them goes to the
dead-letter hash `kuma:events:dead`, is counted as `kuma_failures_total{kind="dead_letter"}`,
and every other record is filed. A database that is down or busy is not a bad record: that
error reaches RQ, which retries the whole flush later.

`gateway events dead list|retry|drop` shows (masked), refiles or discards them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

import redis
import sqlalchemy as sa

from gateway.phones import mask_numbers_in_text

log = logging.getLogger(__name__)

DEAD_KEY = "kuma:events:dead"
REASON_LENGTH = 200
# The database is down, busy or gone away: retry the flush, do not blame a record.
TRANSIENT = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError,
             sa.exc.TimeoutError, redis.RedisError, OSError)

File = Callable[[list[dict[str, Any]]], None]


@dataclasses.dataclass(frozen=True)
class DeadLetter:
    """One record set aside: its id, the record as it was stored, why and when it failed."""

    id: str
    record: str
    reason: str
    failed_at: str

    def summary(self) -> dict[str, Any]:
        """Describe the record without personal data: ids, flow, events, masked reason."""
        try:
            parsed = json.loads(self.record)
            context = parsed.get("context") or {}
            events = [event.get("type") for event in parsed.get("events") or []]
        except (ValueError, AttributeError):
            context, events = {}, []
        return {"id": self.id, "failed_at": self.failed_at,
                "channel": context.get("channel"), "flow": context.get("flow_id"),
                "session": _masked_key(context.get("key")), "events": events,
                "reason": mask_numbers_in_text(self.reason)}


def file_isolating(file: File, items: list[bytes | str]) -> list[tuple[bytes | str, str]]:
    """File `items` with `file`, halving a failing batch; return (item, reason) of the bad ones.

    Filing is idempotent, so refiling the good half of a batch that failed changes nothing.
    """
    try:
        file([json.loads(item) for item in items])
        return []
    except TRANSIENT:
        raise
    except Exception as error:  # a record that cannot be filed, whatever the reason
        if len(items) == 1:
            return [(items[0], _reason(error))]
    middle = len(items) // 2
    return file_isolating(file, items[:middle]) + file_isolating(file, items[middle:])


def set_aside(pipe: Any, dead: list[tuple[bytes | str, str]], now: dt.datetime) -> None:
    """Add dead records to the hash, inside the caller's Redis transaction."""
    for item, reason in dead:
        text = item.decode("utf-8", "replace") if isinstance(item, bytes) else item
        letter = {"record": text, "reason": reason, "failed_at": now.isoformat()}
        pipe.hset(DEAD_KEY, secrets.token_hex(6), json.dumps(letter, ensure_ascii=False))


def count(client: redis.Redis) -> int:
    """Return how many records are set aside."""
    return client.hlen(DEAD_KEY)


def letters(client: redis.Redis) -> list[DeadLetter]:
    """Return every record set aside, oldest first."""
    found = []
    for key, raw in client.hgetall(DEAD_KEY).items():
        letter = json.loads(raw)
        found.append(DeadLetter(id=_text(key), record=letter["record"],
                                reason=letter["reason"], failed_at=letter["failed_at"]))
    return sorted(found, key=lambda letter: (letter.failed_at, letter.id))


def retry(client: redis.Redis, file: File, ids: list[str]) -> dict[str, str | None]:
    """Try to file the records `ids` again; return id -> None if filed, else the reason."""
    outcome: dict[str, str | None] = {}
    for letter in _pick(client, ids):
        failed = file_isolating(file, [letter.record])
        if failed:
            outcome[letter.id] = failed[0][1]
            continue
        client.hdel(DEAD_KEY, letter.id)
        outcome[letter.id] = None
        log.info("dead letter %s filed on retry", letter.id)
    return outcome


def drop(client: redis.Redis, ids: list[str]) -> int:
    """Discard the records `ids` for good; return how many were dropped."""
    picked = [letter.id for letter in _pick(client, ids)]
    dropped = client.hdel(DEAD_KEY, *picked) if picked else 0
    if dropped:
        log.warning("dropped %d dead letter(s): %s", dropped, ", ".join(picked))
    return dropped


def _pick(client: redis.Redis, ids: list[str]) -> list[DeadLetter]:
    """Return the letters named by `ids` (all of them when `ids` is empty); raise if unknown."""
    from gateway.errors import NotFoundError

    every = letters(client)
    if not ids:
        return every
    known = {letter.id: letter for letter in every}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise NotFoundError(f"no dead letter with id {', '.join(unknown)} "
                            "(see `gateway events dead list`)")
    return [known[i] for i in ids]


def _reason(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error  # SQLAlchemy wraps the driver's error
    lines = str(cause).strip().splitlines()
    text = f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__
    return text[:REASON_LENGTH]


def _masked_key(key: object) -> str | None:
    if not isinstance(key, str):
        return None
    visible = key.encode("unicode_escape").decode("ascii")  # a NUL shows as \x00
    return mask_numbers_in_text(visible)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
