"""Bearer tokens for the JSON API: made once, shown once, kept only as a SHA-256 hash.

A token is 32 random bytes, so a plain (unsalted, fast) hash is safe to store: there is
no dictionary to try against it, and lookups stay one indexed equality.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.errors import ArgumentError, NotFoundError
from gateway.models import ApiToken, utcnow

log = logging.getLogger(__name__)

PREFIX = "kuma_"
NAME_MAX = 100
# Writing last_used_at on every request would turn each API read into a write.
TOUCH_INTERVAL = dt.timedelta(minutes=5)


def hash_token(token: str) -> str:
    """Return the hex SHA-256 of a token, as stored in api_tokens.token_hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: so.Session, name: str, *, now: dt.datetime | None = None) -> str:
    """Store a new token named `name` and return it; this is the only time it is seen."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ArgumentError(f"token name: give 1 to {NAME_MAX} characters, got {name!r}")
    if _active(db, name):
        raise ArgumentError(f"token name: an active token named {name!r} exists; "
                            "revoke it first or choose another name")
    token = PREFIX + secrets.token_urlsafe(32)
    db.add(ApiToken(name=name, token_hash=hash_token(token), created_at=now or utcnow()))
    db.flush()
    log.info("API token %r created", name)
    return token


def list_tokens(db: so.Session) -> list[ApiToken]:
    """Return every token, active and revoked, oldest first."""
    return list(db.scalars(sa.select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)))


def revoke_token(db: so.Session, name: str, *, now: dt.datetime | None = None) -> int:
    """Revoke the active token(s) named `name`; return how many (NotFoundError if none)."""
    tokens = _active(db, name.strip())
    if not tokens:
        raise NotFoundError(f"no active API token named {name!r}")
    for token in tokens:
        token.revoked_at = now or utcnow()
    db.flush()
    log.info("API token %r revoked", name)
    return len(tokens)


def verify_token(db: so.Session, token: str, *, now: dt.datetime | None = None) -> ApiToken | None:
    """Return the active token matching `token`, or None; note when it was last used."""
    if not token.startswith(PREFIX):
        return None
    digest = hash_token(token)
    # Looked up by hash: how long the query takes says nothing about the token itself.
    found = db.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest))
    if found is None or not found.active:
        return None
    now = now or utcnow()
    if found.last_used_at is None or now - found.last_used_at > TOUCH_INTERVAL:
        found.last_used_at = now
    return found


def _active(db: so.Session, name: str) -> list[ApiToken]:
    return list(db.scalars(sa.select(ApiToken).where(ApiToken.name == name,
                                                     ApiToken.revoked_at.is_(None))))
