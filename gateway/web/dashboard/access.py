"""Who is looking: the logged-in account, the roles a page needs, the centres she may see.

A `team` account sees one centre; every other centre answers 404, exactly as an unknown
code does, so that a page never tells whether a centre exists. Pages get the services
through `services()`, the one place that knows where the app keeps them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, current_app, g, redirect, request, session, url_for

from gateway import i18n
from gateway.accounts import password_stamp
from gateway.db import session_scope
from gateway.models import Center, User
from gateway.services import Services
from gateway.statuses import UserRole
from gateway.web import context
from gateway.web.dashboard import blueprint


@dataclasses.dataclass(frozen=True)
class Viewer:
    """The logged-in account, as pages need it (a plain value, no database session)."""

    id: int
    username: str
    role: UserRole
    center_id: int | None
    language: str

    @property
    def coordinator(self) -> bool:
        """Whether she sees every centre."""
        return self.role is UserRole.COORDINATOR


def services() -> Services:
    """Return the services of the running app."""
    return context.services()


def current_viewer() -> Viewer | None:
    """Return who is logged in on this request, or None."""
    return g.get("viewer")


def log_in(user: User) -> None:
    """Start a fresh session for `user` (nothing of the anonymous one is kept)."""
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["stamp"] = password_stamp(user)


def log_out() -> None:
    """End the session."""
    session.clear()


@blueprint.before_request
def choose_language() -> None:
    """Speak French on pages before login, unless `?lang=` says otherwise."""
    wanted = request.args.get("lang")
    g.language = wanted if wanted in i18n.DASHBOARD_LANGUAGES else i18n.DEFAULT_LANGUAGE


@blueprint.before_request
def load_viewer() -> None:
    """Find the session's account; a removed account or a changed password logs her out."""
    g.viewer = None
    if request.endpoint == "dashboard.static" or "uid" not in session:
        return
    with session_scope(services().sessionmaker) as db:
        user = db.get(User, session["uid"]) if isinstance(session["uid"], int) else None
        if user is None or session.get("stamp") != password_stamp(user):
            log_out()
            return
        g.viewer = Viewer(user.id, user.username, user.role, user.center_id, user.language)
    g.language = g.viewer.language


def login_required(*roles: UserRole) -> Callable:
    """Send visitors to the login form; refuse (403) accounts without one of `roles`."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            viewer = current_viewer()
            if viewer is None:
                return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
            if roles and viewer.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def visible_centers(db: so.Session, viewer: Viewer) -> list[Center]:
    """Return the centres `viewer` may see, by code."""
    query = sa.select(Center).order_by(Center.code)
    if not viewer.coordinator:
        query = query.where(Center.id == viewer.center_id)
    return list(db.scalars(query))


def center_for(viewer: Viewer, code: str, db: so.Session | None = None) -> Center:
    """Return centre `code` if `viewer` may see it; abort with 404 otherwise, or if unknown.

    Without `db` it reads in a session of its own and returns the centre detached.
    """
    if db is None:
        with session_scope(services().sessionmaker) as own:
            return center_for(viewer, code, own)
    center = db.scalar(sa.select(Center).where(Center.code == code))
    if center is None or not (viewer.coordinator or center.id == viewer.center_id):
        abort(404)
    return center
