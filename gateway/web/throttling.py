"""The failure throttles of the web app (gateway.throttle), one per scope, built once.

Tests change a scope's limits with `app.config["KUMA_THROTTLE_POLICIES"] = {scope: Policy}`.
"""

from __future__ import annotations

from flask import current_app, request

from gateway.throttle import POLICIES, Throttle
from gateway.web import context


def throttle(scope: str) -> Throttle:
    """Return the app's throttle for `scope` (one of gateway.throttle.POLICIES)."""
    built = current_app.extensions.setdefault("kuma_throttles", {})
    if scope not in built:
        services = context.services()
        policy = current_app.config.get("KUMA_THROTTLE_POLICIES", {}).get(scope, POLICIES[scope])
        built[scope] = Throttle(services.redis, scope, services.settings.secret_key,
                                policy=policy)
    return built[scope]


def client_address() -> str:
    """Return the address the request came from (as the WSGI server, or a proxy fix, says)."""
    return request.remote_addr or "unknown"
