"""A centre's charts to take away: one printable A4 page, and every chart's points as CSV.

    GET /dashboard/centers/<code>/print        overall and the four areas, open cycles, figures
    GET /dashboard/centers/<code>/export.csv   the points of the same charts (and ?dimension=)

Both take the centre page's query values; the CSV is written as `report scores` writes
its own (reports.exports.series_to_csv: `;`, decimal comma, UTF-8 with BOM).
"""

from __future__ import annotations

import re

from flask import Response, g, render_template, request

from gateway.db import session_scope
from gateway.pdsa import Vocabulary, list_cycles
from gateway.statuses import PdsaStatus
from gateway.web import charting
from gateway.web.dashboard import blueprint, center_charts
from gateway.web.dashboard.access import center_for, current_viewer, login_required, services
from gateway.web.dashboard.pages import today
from reports.exports import series_to_csv
from reports.scores import OVERALL
from reports.series import level_of

# The sheet has room for this many cycles under the charts and still fits one A4 page.
PRINT_CYCLES = 4


def _charts(code: str, db, *, keys: list[str] | None = None):
    found = services()
    vocabulary = Vocabulary.of(found.flows.flows.values())
    labels = center_charts.dimension_labels(found.flows.flows.values())
    interval = center_charts.default_interval(db, code, request.args, today(), found.settings,
                                              vocabulary)
    query = charting.read_query(request.args, today(), interval=interval, chart=True)
    return query, center_charts.center_charts(db, code, query, found.settings,
                                              vocabulary=vocabulary, labels=labels,
                                              lang=g.language, keys=keys)


@blueprint.get("/centers/<code>/print")
@login_required()
def print_page(code: str):
    """Show the centre on one A4 page for the ASACO meeting (the browser prints it)."""
    with session_scope(services().sessionmaker) as db:
        place = center_for(current_viewer(), code, db)
        query, views = _charts(place.code, db,
                               keys=[OVERALL, *center_charts.AREA_NAMES])
        level_of(db, query.dimension)  # not drawn here, but a wrong one is still a mistake
        cycles = [c for c in list_cycles(db, [place.code]) if c.status != PdsaStatus.CLOSED]
        return render_template("dashboard/print.html", center=place, query=query, views=views,
                               open_cycles=cycles, print_cycles=PRINT_CYCLES, nav="print")


@blueprint.get("/centers/<code>/export.csv")
@login_required()
def export_csv(code: str):
    """Send the points of every chart of the centre page as CSV."""
    with session_scope(services().sessionmaker) as db:
        place = center_for(current_viewer(), code, db)
        query, views = _charts(place.code, db)
    text = series_to_csv(place.code, query.interval,
                         [(view.key, view.chart.points) for view in views])
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", place.code)
    name = f"kuma-{safe}-{query.interval}-{query.start}-{query.end}.csv"
    return Response(text.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
