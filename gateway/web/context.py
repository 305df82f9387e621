"""What the blueprints share, read from the app they run in: never from the app factory.

`create_app` calls `init_app`; a view calls `services()` or `runner()` during a request.
"""

from __future__ import annotations

from flask import Flask, current_app

from gateway.channels.base import Provider, VoiceProvider
from gateway.runner import Runner
from gateway.services import Services

SERVICES = "kuma"
RUNNER = "kuma_runner"
PROVIDERS = "kuma_providers"
VOICE_PROVIDERS = "kuma_voice_providers"


def init_app(app: Flask, services: Services, runner: Runner,
             providers: dict[str, Provider],
             voice_providers: dict[str, VoiceProvider] | None = None) -> None:
    """Register a process's services, runner and configured providers on `app`."""
    app.extensions[SERVICES] = services
    app.extensions[RUNNER] = runner
    app.extensions[PROVIDERS] = providers
    app.extensions[VOICE_PROVIDERS] = voice_providers or {}


def services_of(app: Flask) -> Services:
    """Return the services an app was built with."""
    return app.extensions[SERVICES]


def services() -> Services:
    """Return the services of the app handling the current request."""
    return current_app.extensions[SERVICES]


def runner() -> Runner:
    """Return the runner of the app handling the current request."""
    return current_app.extensions[RUNNER]


def providers() -> dict[str, Provider]:
    """Return the configured providers of the app handling the current request, by name."""
    return current_app.extensions[PROVIDERS]


def voice_providers() -> dict[str, VoiceProvider]:
    """Return the configured voice providers of the app handling the request, by name."""
    return current_app.extensions[VOICE_PROVIDERS]
