"""Dashboard accounts: add, list, remove, change a password, and check one at login.

Passwords are hashed with scrypt (werkzeug.security, salted, a fresh salt per hash); only
the hash is stored, and no password is ever logged. A failed check costs the same time
whether or not the account exists, so timing does not tell which usernames are real.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re

import sqlalchemy as sa
import sqlalchemy.orm as so
from werkzeug.security import check_password_hash, generate_password_hash

from gateway.errors import ArgumentError, NotFoundError
from gateway.models import Center, User, utcnow
from gateway.statuses import UserRole

log = logging.getLogger(__name__)

LANGUAGES = ("fr", "en", "bm")  # of the dashboard; French first, the default
PASSWORD_MIN = 10
PASSWORD_MAX = 1024  # scrypt of a megabyte would be a cheap way to load the server
HASH_METHOD = "scrypt"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
# Checked against when the account does not exist, so that a miss takes as long as a hit.
_DECOY_HASH = generate_password_hash("kuma-decoy-password", method=HASH_METHOD)


def normalize_username(username: str) -> str:
    """Return the stored form of a username (trimmed, lower case), or raise ArgumentError."""
    name = username.strip().lower() if isinstance(username, str) else ""
    if not _USERNAME.match(name):
        raise ArgumentError("username: 2 to 64 characters: lower-case letters, digits and "
                            f". _ @ -, starting with a letter or digit; got {username!r}")
    return name


def check_password_rules(password: str) -> None:
    """Raise ArgumentError unless `password` is long enough (the message never shows it)."""
    if len(password) < PASSWORD_MIN:
        raise ArgumentError(f"password: at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise ArgumentError(f"password: at most {PASSWORD_MAX} characters")


def add_user(db: so.Session, username: str, password: str, *, role: str,
             center_code: str | None = None, language: str = "fr") -> User:
    """Create an account; a `team` account needs its centre, a coordinator has none."""
    name = normalize_username(username)
    role_value = _role(role)
    center = _center_for_role(db, role_value, center_code)
    check_password_rules(password)
    if db.scalar(sa.select(User.id).where(User.username == name)) is not None:
        raise ArgumentError(f"username: an account named {name!r} exists")
    user = User(username=name, password_hash=hash_password(password), role=role_value,
                center=center, language=_language(language))
    db.add(user)
    db.flush()
    log.info("dashboard account %r added (%s)", name, role_value)
    return user


def list_users(db: so.Session) -> list[User]:
    """Return every account, by username."""
    return list(db.scalars(sa.select(User).order_by(User.username)))


def get_user(db: so.Session, username: str) -> User:
    """Return the account named `username`, or raise NotFoundError."""
    user = find_user(db, username)
    if user is None:
        raise NotFoundError(f"no dashboard account named {username!r}")
    return user


def find_user(db: so.Session, username: str) -> User | None:
    """Return the account named `username`, or None (also for names that cannot exist)."""
    try:
        name = normalize_username(username)
    except ArgumentError:
        return None
    return db.scalar(sa.select(User).where(User.username == name))


def remove_user(db: so.Session, username: str) -> None:
    """Delete an account; its sessions stop working at their next request."""
    user = get_user(db, username)
    db.delete(user)
    db.flush()
    log.info("dashboard account %r removed", user.username)


def set_password(db: so.Session, username: str, password: str) -> User:
    """Replace an account's password; sessions opened with the old one end."""
    user = get_user(db, username)
    check_password_rules(password)
    user.password_hash = hash_password(password)
    db.flush()
    log.info("password of dashboard account %r changed", user.username)
    return user


def authenticate(db: so.Session, username: str, password: str, *,
                 now: dt.datetime | None = None) -> User | None:
    """Return the account if `password` is its own, noting the login; else None."""
    user = find_user(db, username) if len(password) <= PASSWORD_MAX else None
    if user is None:
        check_password_hash(_DECOY_HASH, password[:PASSWORD_MAX])
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = now or utcnow()
    return user


def hash_password(password: str) -> str:
    """Return the salted scrypt hash of `password`."""
    return generate_password_hash(password, method=HASH_METHOD)


def password_stamp(user: User) -> str:
    """Return a short fingerprint of the account's hash, kept in its sessions.

    A session whose stamp no longer matches was opened before a password change.
    """
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _role(role: str) -> UserRole:
    try:
        return UserRole(role)
    except ValueError:
        raise ArgumentError(f"role: expected coordinator or team, got {role!r}") from None


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise ArgumentError(f"language: expected one of {', '.join(LANGUAGES)}, "
                            f"got {language!r}")
    return language


def _center_for_role(db: so.Session, role: UserRole, code: str | None) -> Center | None:
    if role is UserRole.COORDINATOR:
        if code:
            raise ArgumentError("center: a coordinator sees every centre; give no --center")
        return None
    if not code:
        raise ArgumentError("center: a team account needs its centre (--center CODE)")
    center = db.scalar(sa.select(Center).where(Center.code == code))
    if center is None:
        raise NotFoundError(f"no centre with code {code!r}")
    return center
