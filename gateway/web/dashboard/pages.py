"""The dashboard's pages. Placeholders for now: the overview lists the centres she may see."""

from __future__ import annotations

from flask import render_template

from gateway.db import session_scope
from gateway.web.dashboard import blueprint
from gateway.web.dashboard.access import (center_for, current_viewer, login_required, services,
                                          visible_centers)


@blueprint.get("/")
@login_required()
def index():
    """List the centres the viewer may see."""
    with session_scope(services().sessionmaker) as db:
        centers = visible_centers(db, current_viewer())
    return render_template("dashboard/index.html", centers=centers)


@blueprint.get("/centers/<code>")
@login_required()
def center(code: str):
    """Show one centre (404 for a centre she may not see)."""
    return render_template("dashboard/center.html", center=center_for(current_viewer(), code))
