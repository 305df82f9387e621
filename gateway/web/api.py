"""The JSON API for coordinators and scripts, behind bearer tokens (`gateway tokens create`).

    GET  /api/v1/centers                              every centre
    GET  /api/v1/centers/<code>/scores?from=&to=      scores per week and dimension
    POST /api/v1/invitations                          invite a mother after a visit

Errors are JSON objects `{"error": message}`; a missing, unknown or revoked token gets
401 with `WWW-Authenticate: Bearer`; past a few wrong tokens from one address, requests
get 429 with `Retry-After` (gateway.throttle).
"""

from __future__ import annotations

import datetime as dt
import logging
import re

import sqlalchemy as sa
from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from gateway import phones
from gateway.api_tokens import verify_token
from gateway.db import session_scope
from gateway.errors import ArgumentError, KumaError, NotFoundError
from gateway.models import Center, utcnow
from gateway.web import context
from gateway.web.throttling import client_address, throttle

log = logging.getLogger(__name__)

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

# A visit far outside these years is a typing mistake, and its send time would overflow.
VISIT_YEARS = (2000, 2999)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _error(status: int, message: str, **headers: str):
    response = jsonify(error=message)
    response.status_code = status
    response.headers.update(headers)
    return response


@blueprint.before_request
def authenticate():
    """Refuse requests without an active bearer token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(401, "this API needs `Authorization: Bearer <token>` "
                      "(create one with `gateway tokens create NAME`)",
                      **{"WWW-Authenticate": 'Bearer realm="kuma"'})
    # Wrong tokens are counted per address and, past a few, refused unchecked (429).
    guesses, address = throttle("api-address"), client_address()
    verdict = guesses.check(address)
    if not verdict.allowed:
        return _error(429, f"too many failed authentications from this address; try again "
                      f"in {verdict.retry_after} s", **{"Retry-After": str(verdict.retry_after)})
    # verify_token may note the time of use: a write after a read, so IMMEDIATE on SQLite.
    with session_scope(context.services().sessionmaker, immediate=True) as db:
        found = verify_token(db, token.strip())
        g.api_token = found.name if found else None
    if g.api_token is None:
        guesses.failed(address)
        return _error(401, "unknown or revoked API token",
                      **{"WWW-Authenticate": 'Bearer realm="kuma", error="invalid_token"'})
    return None


@blueprint.before_request
def refuse_hostile_values():
    """Refuse path and query values with control characters: no query may carry them."""
    for source, values in (("path", request.view_args or {}), ("query", request.args)):
        for name, value in values.items():
            _check_characters("code" if source == "path" else name, value)


@blueprint.app_errorhandler(404)
def not_found(error: HTTPException):
    """Answer an unknown path under /api/ in JSON too (other paths keep Flask's page)."""
    if request.path.startswith(blueprint.url_prefix + "/"):
        return _error(404, f"no such API path: {request.path!r}")
    return error


@blueprint.errorhandler(KumaError)
def kuma_error(error: KumaError):
    """Answer a refused request with its reason: 404 for unknown things, else 400."""
    status = getattr(error, "status_code", 400)
    log.info("API request refused (%s): %s", status, phones.mask_numbers_in_text(str(error)))
    return _error(status, str(error))


@blueprint.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Answer HTTP errors in JSON, like the rest of the API."""
    return _error(error.code or 500, error.description or error.name)


@blueprint.get("/centers")
def centers():
    """List every centre."""
    with session_scope(context.services().sessionmaker) as db:
        found = db.scalars(sa.select(Center).order_by(Center.code)).all()
        return jsonify([{"code": c.code, "name": c.name, "district": c.district,
                         "ussd_extension": c.ussd_extension, "sms_keyword": c.sms_keyword}
                        for c in found])


@blueprint.get("/centers/<code>/scores")
def center_scores(code: str):
    """Return one centre's scores from `from` to `to` (default: the current week)."""
    from reports.exports import as_dicts
    from reports.periods import default_range, local_today
    from reports.scores import compute_scores

    services = context.services()
    week_from, week_to = default_range("week", local_today(utcnow(), services.settings.tz),
                                       count=1, start=request.args.get("from"),
                                       end=request.args.get("to"))
    with session_scope(services.sessionmaker) as db:
        if db.scalar(sa.select(Center.id).where(Center.code == code)) is None:
            raise NotFoundError(f"no centre with code {code!r}")
        rows = compute_scores(db, centers=[code], week_from=week_from, week_to=week_to,
                              min_respondents=services.settings.min_respondents)
    return jsonify(as_dicts(rows))


@blueprint.post("/invitations")
def invitations():
    """Schedule a survey invitation (SMS, or a call) after a visit; 202 with what was scheduled."""
    from gateway.invitations import invite

    services = context.services()
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: not an invitation either
        body = None
    if not isinstance(body, dict):
        raise ArgumentError("body: send a JSON object {center, phone, flow?, visit_at?, "
                            "channel?}")
    center, phone = _text(body, "center"), _text(body, "phone")
    flow = _text(body, "flow", required=False)
    channel = _text(body, "channel", required=False) or "sms"
    if channel not in ("sms", "voice"):
        raise ArgumentError(f"channel: expected sms or voice, got {channel!r}")
    visit_at = _moment(body.get("visit_at"), services.settings.tz)
    # invite() commits, then enqueues the SMS (or the call) for send_at.
    done = invite(services, center_code=center, phone=phone, flow_id=flow, visit_at=visit_at,
                  now=utcnow(), channel=channel)
    return jsonify({"id": done.invitation_id, "center": done.center_code, "phone": done.phone,
                    "flow": done.flow_id, "status": str(done.status), "reason": done.reason,
                    "send_at": done.send_at.isoformat(), "channel": done.channel}), 202


def _text(body: dict, name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(f"{name}: {'required, ' if required else ''}a non-empty string")
    _check_characters(name, value)
    return value.strip()


def _check_characters(name: str, value: str) -> None:
    """Refuse control characters and lone surrogates, which no field of ours holds."""
    if _CONTROL.search(value):
        raise ArgumentError(f"{name}: control characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ArgumentError(f"{name}: not valid Unicode text") from None


def _check_year(name: str, week: str) -> None:
    """Refuse year 0 before the week is read: no calendar has it."""
    if isinstance(week, str) and week.strip().startswith("0000"):
        raise ArgumentError(f"{name}: {week!r} is not an ISO week; years start at 0001")


def _moment(value: object, tz: dt.tzinfo) -> dt.datetime | None:
    """Read visit_at: ISO 8601; a time without offset is the centre's local time."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise ArgumentError(f"visit_at: {value!r} is not an ISO 8601 date and time, "
                            "e.g. 2025-03-04T09:30 or 2025-03-04T09:30:00Z")
    moment = moment.replace(tzinfo=tz) if moment.tzinfo is None else moment
    try:
        year = moment.astimezone(dt.timezone.utc).year
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first representable UTC time
        year = 0
    if not VISIT_YEARS[0] <= year <= VISIT_YEARS[1]:
        raise ArgumentError(f"visit_at: {value!r} is out of range; expected a time between "
                            f"{VISIT_YEARS[0]} and {VISIT_YEARS[1]}")
    return moment
