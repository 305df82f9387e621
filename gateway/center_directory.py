"""Centres as the webhooks see them: a copy in Redis of codes, USSD extensions, keywords
and staff phones.

The request path touches Redis only, so the centres table is mirrored here by whoever
changes it (`gateway centers import`, start-up, the scheduler's hourly refresh).
"""

from __future__ import annotations

import time

import redis
import sqlalchemy as sa
import sqlalchemy.orm as so

KEY = "kuma:centers:{kind}"  # kinds: code, extension, keyword
STAFF_KEY = "kuma:staff"      # hashes of the phones that may send VISITE commands
CACHE_SECONDS = 30  # each process keeps answers this long: centres change rarely


class CenterDirectory:
    """Look centres up by code, USSD extension or SMS keyword, in Redis."""

    def __init__(self, redis_client: redis.Redis) -> None:
        self.redis = redis_client
        self._cache: dict[tuple[str, str], tuple[float, str | None]] = {}

    def _key(self, kind: str) -> str:
        return KEY.format(kind=kind)

    def refresh(self, db: so.Session) -> int:
        """Copy every centre from the database; return how many there are."""
        from gateway.models import Center, Contact, StaffPhone

        rows = db.execute(sa.select(Center.code, Center.ussd_extension, Center.sms_keyword)).all()
        staff = db.scalars(sa.select(Contact.phone_hash).join(
            StaffPhone, StaffPhone.contact_id == Contact.id)).all()
        codes = {code.upper(): code for code, _, _ in rows}
        extensions = {ext: code for code, ext, _ in rows if ext}
        keywords = {kw.upper(): code for code, _, kw in rows if kw}
        with self.redis.pipeline(transaction=True) as pipe:
            for kind, mapping in (("code", codes), ("extension", extensions),
                                  ("keyword", keywords)):
                pipe.delete(self._key(kind))
                if mapping:
                    pipe.hset(self._key(kind), mapping=mapping)
            pipe.delete(STAFF_KEY)
            if staff:
                pipe.sadd(STAFF_KEY, *staff)
            pipe.execute()
        self._cache.clear()
        return len(rows)

    def by_code(self, code: str) -> str | None:
        """Return the centre's code for a code typed in any case, or None."""
        return self._get("code", code.strip().upper())

    def by_extension(self, extension: str) -> str | None:
        """Return the code of the centre with this USSD extension (a string: `07`)."""
        return self._get("extension", extension.strip())

    def by_keyword(self, keyword: str) -> str | None:
        """Return the code of the centre with this SMS keyword."""
        return self._get("keyword", keyword.strip().upper())

    def lookup(self, typed: str) -> str | None:
        """Find a centre from what a mother typed: its code or its USSD extension."""
        return self.by_code(typed) or self.by_extension(typed)

    def is_staff(self, phone_hash: str) -> bool:
        """Tell whether a phone is registered as a centre's staff (may invite mothers)."""
        return bool(self.redis.sismember(STAFF_KEY, phone_hash))

    def _get(self, kind: str, field: str) -> str | None:
        now = time.monotonic()
        cached = self._cache.get((kind, field))
        if cached is not None and cached[0] > now:
            return cached[1]
        value = self.redis.hget(self._key(kind), field)
        found = value.decode() if isinstance(value, bytes) else value
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[(kind, field)] = (now + CACHE_SECONDS, found)
        return found
