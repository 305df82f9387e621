"""The run-chart part of the JSON API, behind the same bearer tokens as gateway.web.api.

    GET /api/v1/centers/<code>/series?dimension=&measure=&interval=&from=&to=

DESIGN.md's run chart JSON (gateway.web.charting.series_json). A value that cannot be
used gets 400 naming its field; an unknown centre 404.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from gateway.db import session_scope
from gateway.errors import KumaError
from gateway.models import utcnow
from gateway.pdsa import Vocabulary
from gateway.web import api, charting, context
from reports.periods import local_today

blueprint = Blueprint("series_api", __name__, url_prefix="/api/v1")
blueprint.before_request(api.authenticate)
blueprint.before_request(api.refuse_hostile_values)
blueprint.register_error_handler(KumaError, api.kuma_error)
blueprint.register_error_handler(HTTPException, api.http_error)


@blueprint.get("/centers/<code>/series")
def center_series(code: str):
    """Return one centre's run chart: points, median, the Anhøj rules, its PDSA cycles."""
    services = context.services()
    settings = services.settings
    query = charting.read_query(request.args, local_today(utcnow(), settings.tz))
    vocabulary = Vocabulary.of(services.flows.flows.values())
    with session_scope(services.sessionmaker) as db:
        chart = charting.build_chart(db, code, query, settings,
                                     dimension_areas=vocabulary.dimensions)
        return jsonify(charting.series_json(chart))
