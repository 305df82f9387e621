"""The Flask application factory: builds the app from Settings; no logic of its own."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway import logmask
from gateway.channels import registry
from gateway.runner import Runner
from gateway.services import Services
from gateway.settings import Settings, require_secret_key
from gateway.web import api, context, dashboard, health, media, pdsa_api, series_api, webhooks
from gateway.web.ussd import UssdEndpoint

log = logging.getLogger(__name__)

BLUEPRINTS = (
    webhooks.blueprint,
    health.blueprint,
    api.blueprint,
    pdsa_api.blueprint,
    series_api.blueprint,
    dashboard.blueprint,
    media.blueprint,
)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """Build the web app; `settings` default to the environment's, `services` to new ones."""
    settings = require_secret_key(settings or Settings.from_env(), "web server")
    if not logging.getLogger().handlers:  # under gunicorn; the CLI configures its own
        logging.basicConfig(level=settings.log_level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logmask.install()  # webhook URLs carry AT's token
    app = Flask("gateway")
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024)
    services = services or Services.build(settings)
    runner = Runner(services)
    providers = registry.build(settings)
    for warning in filter(None, (provider.warning() for provider in providers.values())):
        log.warning("%s", warning)  # the settings check at start: what is unsafe or refused
    context.init_app(app, services, runner, providers, registry.build_voice(settings))
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    # The USSD webhook is answered beneath Flask: see gateway.web.ussd.
    app.wsgi_app = UssdEndpoint(runner, app.wsgi_app,  # type: ignore[method-assign]
                                max_body=app.config["MAX_CONTENT_LENGTH"])
    if settings.proxy_hops:  # outermost, so the USSD endpoint sees the client's address too
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops,  # type: ignore
                                x_proto=settings.proxy_hops, x_host=settings.proxy_hops)
    return app
