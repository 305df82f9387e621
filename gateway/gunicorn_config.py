"""gunicorn's settings for Kuma's web role: `gateway serve` and the Procfile both use them.

    gunicorn -c python:gateway.gunicorn_config -w 2 -b 0.0.0.0:$PORT 'gateway.app:create_app()'

Threaded workers (`gthread`): a slow or stalled client (half a request sent, then silence)
holds one thread of a worker, not the whole worker as gunicorn's default sync workers do,
so USSD screens keep being answered while `THREADS - 1` such clients hang on each
worker. More than that many at once still needs a buffering reverse proxy in front (see
the README); the providers do not stall, and `AT_ALLOWED_NETWORKS` or the proxy keep
others out.
"""

from __future__ import annotations

import logging
import sys

from gunicorn import glogging

from gateway.errors import SettingsError
from gateway.logmask import install
from gateway.settings import Settings, require_secret_key

worker_class = "gthread"
threads = 16
# A USSD screen takes milliseconds; a request still running after this is stuck.
timeout = 30
graceful_timeout = 10  # gateway serve gives its children 20 s before it kills them
keepalive = 5
accesslog = "-"
logger_class = "gateway.gunicorn_config.MaskedLogger"
# Load the app once in the master: a broken flow or a missing setting stops the start
# with one message, instead of every worker failing to boot in turn.
preload_app = True
# gunicorn's control socket sits at one path per user: two gateways on a machine would
# fight over it, and Kuma is stopped by signals (serve, the Procfile's supervisor) anyway.
control_socket_disable = True


class MaskedLogger(glogging.Logger):
    """gunicorn's logger, with `token=` masked in access-log and error-log lines."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            install(log)
        install(logging.getLogger())


def check_settings() -> None:
    """Refuse to start, in one clear line, with settings a web server cannot run on."""
    try:
        require_secret_key(Settings.from_env(), "web server")
    except SettingsError as error:
        print(f"Error: {error}", file=sys.stderr)
        raise SystemExit(1) from None


check_settings()  # gunicorn reads this file before it loads the app
