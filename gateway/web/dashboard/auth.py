"""Log in and out. Failures are throttled per account and per address (gateway.throttle).

An attempt that comes too early is answered with the form and the wait, and the password
is not checked at all; a good login forgets the account's failures.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from gateway import accounts
from gateway.db import session_scope
from gateway.errors import ArgumentError
from gateway.throttle import Verdict, strictest
from gateway.web.dashboard import blueprint
from gateway.web.dashboard.access import current_viewer, log_in, log_out, services
from gateway.web.throttling import client_address, throttle

log = logging.getLogger(__name__)


class LoginForm(FlaskForm):
    """Username and password (and the CSRF token Flask-WTF adds)."""

    username = StringField(validators=[InputRequired(), Length(max=64)])
    password = PasswordField(validators=[InputRequired(), Length(max=accounts.PASSWORD_MAX)])


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on a good POST open a session and go into the dashboard."""
    form = LoginForm()
    if request.method == "GET":
        if current_viewer() is not None:
            return redirect(_next_page())
        return render_template("dashboard/login.html", form=form)
    if not form.validate():
        return render_template("dashboard/login.html", form=form, error="missing"), 400
    name = _throttle_name(form.username.data)
    verdict = strictest([throttle("login-account").check(name),
                         throttle("login-address").check(client_address())])
    if not verdict.allowed:
        return _throttled(form, verdict)
    with session_scope(services().sessionmaker) as db:
        user = accounts.authenticate(db, form.username.data, form.password.data)
        if user is not None:
            log_in(user)
    if user is None:
        throttle("login-account").failed(name)
        throttle("login-address").failed(client_address())
        log.info("dashboard login refused")  # no username: a typo may be someone's password
        return render_template("dashboard/login.html", form=form, error="wrong")
    throttle("login-account").succeeded(name)
    log.info("dashboard login by %r", user.username)
    return redirect(_next_page())


@blueprint.post("/logout")
def logout():
    """End the session and show the login form again."""
    log_out()
    return redirect(url_for("dashboard.login"))


def _throttled(form: LoginForm, verdict: Verdict):
    minutes = -(-verdict.retry_after // 60)
    response = render_template("dashboard/login.html", form=form, error="throttled",
                               locked=verdict.locked, seconds=verdict.retry_after,
                               minutes=minutes)
    return response, 429, {"Retry-After": str(verdict.retry_after)}


def _throttle_name(username: str) -> str:
    try:
        return accounts.normalize_username(username)
    except ArgumentError:
        return username.strip().lower()


def _next_page() -> str:
    """Return where to go after login: `?next=` if it stays inside the dashboard."""
    wanted = request.args.get("next", "")
    parts = urlsplit(wanted)
    if (not parts.scheme and not parts.netloc and parts.path.startswith("/dashboard/")
            and "\\" not in wanted):
        return wanted
    return url_for("dashboard.index")
