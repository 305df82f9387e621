"""Wire the dashboard into the app: signed sessions, CSRF, security headers, Babel in Jinja.

Flask's session cookie is signed with a key derived from GATEWAY_SECRET_KEY and opened
only under /dashboard (webhooks and the API carry no cookies and pay nothing for it).
CSRF is checked by Flask-WTF on every POST to the dashboard; the webhooks and the bearer
API are left alone because no check is on by default anywhere else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from flask import Flask, Request, g, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from gateway import i18n
from gateway.web import context
from gateway.web.dashboard import blueprint

PREFIX = "/dashboard"
SESSION_LIFETIME = dt.timedelta(hours=12)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
csrf = CSRFProtect()


class DashboardSessions(SecureCookieSessionInterface):
    """Cookie sessions for the dashboard's paths only."""

    def open_session(self, app: Flask, request: Request):
        if not request.path.startswith(PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Configure `app` for the dashboard's pages (called once, when the blueprint registers)."""
    settings = context.services_of(app).settings
    app.secret_key = session_key(settings.secret_key)
    app.session_interface = DashboardSessions()
    app.config.update(
        SESSION_COOKIE_NAME="kuma_session", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_PATH=PREFIX,
        SESSION_COOKIE_SECURE=bool(settings.public_url
                                   and settings.public_url.startswith("https://")),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # Off by default: only the dashboard's before_request asks for the check.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A form may stay open through a long meeting: the token lives as long as the session.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda text: _translations().gettext(text),
        ngettext=lambda one, many, n: _translations().ngettext(one, many, n),
        newstyle=True)


def session_key(secret: str) -> bytes:
    """Return the key that signs dashboard cookies, derived from the gateway's secret."""
    return hmac.new(secret.encode(), b"kuma dashboard session", hashlib.sha256).digest()


def _translations():
    return i18n.dashboard_translations(getattr(g, "language", i18n.DEFAULT_LANGUAGE))


@blueprint.before_request
def check_csrf() -> None:
    """Refuse a POST without the form's CSRF token (400)."""
    csrf.protect()


@blueprint.after_request
def add_security_headers(response):
    """Forbid framing and outside resources, and keep pages out of shared caches."""
    response.headers.update(SECURITY_HEADERS)
    if request.endpoint == "dashboard.static":
        response.headers["Cache-Control"] = "public, max-age=86400"
    else:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@blueprint.errorhandler(CSRFError)
def csrf_refused(error: CSRFError):
    """Answer a form posted without its token, or with a stale one."""
    return render_template("dashboard/error.html", status=400, reason="csrf"), 400


@blueprint.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Answer 4xx errors with a page in the viewer's language."""
    status = error.code or 500
    return render_template("dashboard/error.html", status=status, reason=None), status


# A handler for the code itself, or the app's own 404 handler (the API's) would come first.
blueprint.register_error_handler(404, http_error)
