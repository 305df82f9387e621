"""The USSD aggregator's webhook, answered in plain WSGI in front of Flask.

Every screen a mother sees waits on this endpoint, and the network gives up after a few
seconds. Under load, Flask's per-request machinery (request context, routing, hooks, the
response object) cost as much CPU as the turn itself (docs/internals.md), so this one path
is served by `UssdEndpoint` and every other path goes on to Flask. It keeps what the other
webhooks have: the provider's own checks, the form parsed by werkzeug as Flask would,
a logged 4xx for bad input, the metrics and the one log line. The path, the checks, the
parsing and the screens are the provider's (`UssdProvider`, the runner's `ussd`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import parse_form_data
from werkzeug.wsgi import get_current_url

from gateway import metrics
from gateway.channels.base import UssdRequest, WebhookRequest
from gateway.errors import ChannelRequestError, EngineUsageError, SessionBusyError
from gateway.runner import Runner

log = logging.getLogger(__name__)

TEXT_PLAIN = "text/plain; charset=utf-8"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclasses.dataclass(frozen=True, slots=True)
class HttpAnswer:
    """One HTTP answer of the endpoint, and what its log line says."""

    status: int
    body: str
    headers: tuple[tuple[str, str], ...] = ()
    session: str = "-"
    step: str = "-"


class UssdEndpoint:
    """WSGI middleware: answer PATH itself, hand every other request to `app`."""

    def __init__(self, runner: Runner, app: WsgiApp, *, max_body: int) -> None:
        self.runner = runner
        self.provider = runner.ussd
        self.path = runner.ussd.ussd_path
        self.endpoint = runner.ussd.ussd_endpoint  # as a Flask view's name, in metrics and logs
        self.app = app
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != self.path:
            return self.app(environ, start_response)
        started = time.perf_counter()
        answer = self.answer(environ)
        seconds = time.perf_counter() - started
        metrics.observe_webhook(self.endpoint, answer.status, seconds)
        if log.isEnabledFor(logging.INFO):
            log.info("webhook %s status=%s session=%s step=%s ms=%.1f", self.endpoint,
                     answer.status, answer.session, answer.step, seconds * 1000)
        body = answer.body.encode("utf-8")
        start_response(_STATUS_LINES[answer.status],
                       [("Content-Type", TEXT_PLAIN), ("Content-Length", str(len(body))),
                        *answer.headers])
        return [body]

    def answer(self, environ: dict[str, Any]) -> HttpAnswer:
        """Check, parse and run one request; bad input becomes a 4xx, never an exception."""
        if environ.get("REQUEST_METHOD") != "POST":
            return HttpAnswer(405, "method not allowed: POST only\n", (("Allow", "POST"),))
        try:
            webhook = self.webhook_request(environ)
            self.provider.authenticate(webhook)
            ussd = self.provider.parse_ussd(webhook.form)
        except ChannelRequestError as error:
            return self.refused(error.status_code, str(error))
        except HTTPException as error:  # werkzeug's: a body over the limit, a broken one
            return self.refused(error.code or 400, error.description or error.name)
        try:
            reply = self.runner.handle_ussd(ussd)
        except ChannelRequestError as error:  # a phone number that is none
            return self.refused(error.status_code, str(error), ussd.session_id)
        except SessionBusyError as error:
            log.warning("webhook %s: %s", self.path, error)
            return HttpAnswer(503, "busy, retry\n", (("Retry-After", "1"),), ussd.session_id)
        except EngineUsageError as error:
            # A session that cannot go on (its flow version is gone): end it politely.
            log.error("ussd session %s cannot go on: %s", ussd.session_id, error)
            metrics.FAILURES.labels(kind="session_broken").inc()
            return self.goodbye(ussd, "unavailable")
        except Exception:  # noqa: BLE001 - a bug or an outage (Redis down): logged in full
            # A 500 would leave her with the network's bare error; an END tells her why.
            log.exception("ussd session %s failed", ussd.session_id)
            metrics.FAILURES.labels(kind="webhook_error").inc()
            return self.goodbye(ussd, "error")
        return HttpAnswer(200, reply.body, session=ussd.session_id, step=reply.step or "-")

    def goodbye(self, ussd: UssdRequest, message: str) -> HttpAnswer:
        """End the session with one of the gateway's messages, in her language if known."""
        try:
            text = self.runner.message_for(ussd.phone, message)
        except Exception:  # noqa: BLE001 - her language is in Redis, which may be the fault
            text = self.runner.in_both_languages(message)
        return HttpAnswer(200, self.provider.render(text, True), session=ussd.session_id)

    def refused(self, status: int, reason: str, session: str = "-") -> HttpAnswer:
        """Log and count a refused request; answer with the reason."""
        log.warning("webhook %s refused (%s): %s", self.path, status, reason)
        metrics.FAILURES.labels(kind="bad_webhook").inc()
        return HttpAnswer(status, f"{reason}\n", session=session)

    def webhook_request(self, environ: dict[str, Any]) -> WebhookRequest:
        """Wrap the request for the provider; the form is parsed once, when first read."""
        query = environ.get("QUERY_STRING", "")
        form = functools.cache(
            lambda: parse_form_data(environ, max_content_length=self.max_body)[1])
        return WebhookRequest(
            query=_first_values(query) if query else {},
            remote_addr=environ.get("REMOTE_ADDR"), form=form,
            headers=lambda: EnvironHeaders(environ), url=lambda: get_current_url(environ))


def _first_values(query: str) -> dict[str, str]:
    # As Flask's request.args.get: a repeated name's first value.
    values: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(name, value)
    return values


_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
