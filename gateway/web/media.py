"""`GET /media/<flow>/<lang>/<file>.wav`: the recordings the providers fetch to play on a call.

Served from the recordings folder beside the flows (`FLOWS_DIR/recordings/`) with ETag,
Last-Modified and `Cache-Control: public`, so a provider fetches each file once an hour at
most and revalidates with a 304. Only names of that one shape are served, resolved inside
the folder (no `..`, no absolute path, no symlink out of it); anything else is a 404 and
nothing is ever listed.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, abort, request

from gateway.web import context

blueprint = Blueprint("media", __name__, url_prefix="/media")

MAX_AGE = 3600  # seconds; a recording made again is fetched again within the hour
_PART = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_FILE = re.compile(r"^[A-Za-z0-9_-]{1,100}(\.[A-Za-z0-9_-]{1,100})?\.wav$")


def recordings_root() -> Path:
    """Return the folder the recordings are served from."""
    return Path(context.services().settings.flows_dir) / "recordings"


@blueprint.get("/<flow>/<language>/<name>")
def recording(flow: str, language: str, name: str) -> Response:
    """Serve one recording as audio/wav, or 404."""
    if not (_PART.match(flow) and _PART.match(language) and _FILE.match(name)):
        abort(404)
    root = recordings_root().resolve()
    path = (root / flow / language / name).resolve()
    # resolve() follows symlinks: a link that leads out of the folder is refused.
    if not path.is_relative_to(root) or not path.is_file():
        abort(404)
    stat = path.stat()
    # Read whole (a minute of 8 kHz audio is under 1 MB): no file handle outlives the request.
    response = Response(path.read_bytes(), mimetype="audio/wav")
    response.set_etag(f"{stat.st_mtime_ns:x}-{stat.st_size:x}")
    response.last_modified = stat.st_mtime
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response.make_conditional(request)
