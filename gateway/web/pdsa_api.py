"""The PDSA part of the JSON API, behind the same bearer tokens as gateway.web.api.

    GET  /api/v1/centers/<code>/pdsa     the centre's cycles (gateway.pdsa.cycle_dict each)
    POST /api/v1/centers/<code>/pdsa     add a cycle from a JSON object; 201 with it

A field that cannot be used gets 400 naming it; an unknown centre 404.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from gateway import pdsa
from gateway.db import session_scope
from gateway.errors import KumaError
from gateway.web import api, context

blueprint = Blueprint("pdsa_api", __name__, url_prefix="/api/v1")
blueprint.before_request(api.authenticate)
blueprint.register_error_handler(KumaError, api.kuma_error)
blueprint.register_error_handler(HTTPException, api.http_error)


@blueprint.get("/centers/<code>/pdsa")
def cycles(code: str):
    """List one centre's cycles."""
    with session_scope(context.services().sessionmaker) as db:
        pdsa.center_by_code(db, code)
        return jsonify([pdsa.cycle_dict(c) for c in pdsa.list_cycles(db, [code])])


@blueprint.post("/centers/<code>/pdsa")
def add_cycle(code: str):
    """Add a cycle to a centre; 201 with the cycle as stored."""
    services = context.services()
    body = request.get_json(silent=True)
    with session_scope(services.sessionmaker) as db:
        pdsa.center_by_code(db, code)
        fields = pdsa.check_fields(body, pdsa.Vocabulary.of(services.flows.flows.values()))
        cycle = pdsa.create_cycle(db, code, fields, by=f"token:{g.api_token}",
                                  today=dt.datetime.now(services.settings.tz).date())
        return jsonify(pdsa.cycle_dict(cycle)), 201
