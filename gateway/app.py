"""The Flask application factory: builds the app from Settings; no logic of its own."""

from __future__ import annotations

import logging

from flask import Flask

from gateway import logmask
from gateway.channels import registry
from gateway.runner import Runner
from gateway.services import Services
from gateway.settings import Settings, require_secret_key
from gateway.web import api, context, dashboard, health, pdsa_api, series_api, webhooks
from gateway.web.ussd import UssdEndpoint

log = logging.getLogger(__name__)

BLUEPRINTS = (
    webhooks.blueprint,
    health.blueprint,
    api.blueprint,
    pdsa_api.blueprint,
    series_api.blueprint,
    dashboard.blueprint,
)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """Build the web app; `settings` default to the environment's, `services` to new ones."""
    settings = require_secret_key(settings or Settings.from_env(), "web server")
    if not logging.getLogger().handlers:  # under gunicorn; the CLI configures its own
        logging.basicConfig(level=settings.log_level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logmask.install()  # webhook URLs carry AT's token
    app = Flask("gateway")
    # No SECRET_KEY for Flask: nothing here uses cookie sessions (the API takes bearer
    # tokens), and without it Flask skips building a signed-cookie serializer per request.
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024)
    services = services or Services.build(settings)
    runner = Runner(services)
    context.init_app(app, services, runner, registry.build(settings))
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    # The USSD webhook is answered beneath Flask: see gateway.web.ussd.
    app.wsgi_app = UssdEndpoint(runner, app.wsgi_app,  # type: ignore[method-assign]
                                max_body=app.config["MAX_CONTENT_LENGTH"])
    return app
