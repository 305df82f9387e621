"""The QI dashboard: server-rendered pages for coordinators and change teams (`/dashboard/`).

    setup.py    what the app needs for pages: signed sessions, CSRF, headers, Babel in Jinja
    access.py   who is logged in, `login_required(role)`, `center_for(viewer, code)`
    auth.py     GET/POST /dashboard/login, POST /dashboard/logout (throttled, CSRF-checked)
    pages.py    /dashboard/ (overview.py) and the centre's run charts (center_charts.py)
    cycles.py   a centre's PDSA cycles (cycle_form.py: their form and its errors)
    comments.py a centre's comments, by week, anonymous
    exports.py  the centre's print page (one A4) and CSV export

Templates are in `templates/dashboard/` (one base layout), the stylesheet in `static/`:
no CDN and no script is needed to read a page.
"""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("dashboard", __name__, url_prefix="/dashboard",
                      template_folder="templates", static_folder="static")

# The routes and hooks register themselves on the blueprint when imported.
from gateway.web.dashboard import auth, comments, cycles, exports, pages, setup  # noqa: E402,F401

blueprint.record_once(lambda state: setup.init_app(state.app))
