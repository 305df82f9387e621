"""Providers' webhooks: authenticate, parse, hand to the runner, answer fast.

Each provider's routes are its own (`Provider.webhooks`, listed by
gateway.channels.registry): this module turns each into a view that authenticates with
the provider, parses with the route's parser and hands the value on by its kind. A voice
provider's routes (`registry.VOICE_PROVIDERS`) are answered with the provider's rendering
of the runner's `CallReply` (kind `voice`) or acknowledged (kind `call_status`).

Bad input is the provider's (or an attacker's) problem, never ours: it gets a logged 4xx
with the reason, and changes nothing. Only Redis is touched here; SQL is the worker's job.
The USSD screens themselves are answered in gateway.web.ussd, beneath Flask.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, request

from gateway import metrics
from gateway.channels import registry
from gateway.channels.base import (Acknowledgement, CallEvent, DeliveryReport, InboundSms,
                                   UssdSessionEnded, VoiceProvider, Webhook, WebhookRequest)
from gateway.errors import ChannelRequestError, EngineUsageError, SessionBusyError
from gateway.web import context

log = logging.getLogger(__name__)

blueprint = Blueprint("webhooks", __name__, url_prefix="/webhooks")
DELIVERY_JOB = "gateway.jobs.record_delivery"


@blueprint.before_request
def _start_clock() -> None:
    g.webhook_started = time.perf_counter()


@blueprint.after_request
def _observe(response: Response) -> Response:
    seconds = time.perf_counter() - g.get("webhook_started", time.perf_counter())
    endpoint = request.endpoint or "unknown"
    metrics.observe_webhook(endpoint, response.status_code, seconds)
    if log.isEnabledFor(logging.INFO):  # spare the look-ups when the line is not wanted
        log.info("webhook %s status=%s session=%s step=%s ms=%.1f", endpoint,
                 response.status_code, g.get("session", "-"), g.get("step", "-"),
                 seconds * 1000)
    return response


@blueprint.errorhandler(ChannelRequestError)
def _bad_request(error: ChannelRequestError) -> Response:
    log.warning("webhook %s refused (%s): %s", request.path, error.status_code, error)
    metrics.FAILURES.labels(kind="bad_webhook").inc()
    return Response(f"{error}\n", status=error.status_code, mimetype="text/plain")


@blueprint.errorhandler(SessionBusyError)
def _busy(error: SessionBusyError) -> Response:
    log.warning("webhook %s: %s", request.path, error)
    return Response("busy, retry\n", status=503, mimetype="text/plain",
                    headers={"Retry-After": "1"})


def _webhook_request() -> WebhookRequest:
    return WebhookRequest(query=request.args, remote_addr=request.remote_addr,
                          form=lambda: request.form, headers=lambda: request.headers,
                          url=lambda: request.url)


def _view(provider_name: str, webhook: Webhook) -> Callable[[], Response]:
    """Return the view of one provider route: authenticate, parse, hand over, acknowledge."""
    take = _HANDLERS[webhook.kind]

    def view() -> Response:
        context.providers()[provider_name].authenticate(_webhook_request())
        take(webhook.parse(request.form))
        return Response(webhook.answer.body, mimetype=webhook.answer.content_type)

    view.__doc__ = webhook.doc
    return view


def _voice_view(provider_name: str, webhook: Webhook) -> Callable[[], Response]:
    """Return the view of a voice route: its answer is the provider's rendering of the reply."""
    take = _VOICE_HANDLERS[webhook.kind]

    def view() -> Response:
        provider = context.voice_providers()[provider_name]
        provider.authenticate(_webhook_request())
        event = provider.parse_call(_with_turn(request.form))
        answer = take(provider, event) or webhook.answer
        return Response(answer.body, mimetype=answer.content_type)

    view.__doc__ = webhook.doc
    return view


def _handle_sms(message: InboundSms) -> None:
    try:
        context.runner().handle_sms(message)
    except EngineUsageError as error:
        # Our fault, not the provider's: a retry would fail the same way, so take the
        # message (200), log it and count it; her session is left as it was.
        log.error("sms %s cannot go on: %s", message.message_id, error)
        metrics.FAILURES.labels(kind="session_broken").inc()


def _end_ussd_session(notice: UssdSessionEnded) -> None:
    g.session = notice.session_id
    context.runner().handle_ussd_ended(notice)


def _queue_delivery(report: DeliveryReport) -> None:
    queue = context.services().queue
    queue.enqueue_call(DELIVERY_JOB, args=(report.provider, report.message_id,
                                           str(report.status), report.error_code,
                                           report.failure_reason, report.opted_out),
                       description="record delivery report")


def _with_turn(form: Any) -> dict[str, str]:
    """Return the posted form with the action URL's `turn` (Kuma's, in the query) added."""
    fields = {key: form.get(key) for key in form}
    if "turn" in request.args:
        fields["turn"] = request.args.get("turn", "")
    return fields


def _answer_call(provider: VoiceProvider, event: CallEvent) -> Acknowledgement:
    g.session = event.call_id
    return provider.render_call(context.runner().handle_call(event))


def _call_ended(provider: VoiceProvider, event: CallEvent) -> None:
    g.session = event.call_id
    context.runner().handle_call(event)


_VOICE_HANDLERS: dict[str, Callable[[VoiceProvider, CallEvent], Acknowledgement | None]] = {
    "voice": _answer_call,
    "call_status": _call_ended,
}

_HANDLERS: dict[str, Callable[[Any], None]] = {
    "sms": _handle_sms,
    "delivery": _queue_delivery,
    "ussd_ended": _end_ussd_session,
}

for _name, _provider in registry.PROVIDERS.items():
    for _webhook in _provider.webhooks:
        blueprint.add_url_rule(f"/{_name}/{_webhook.path}", endpoint=f"{_name}_{_webhook.name}",
                               view_func=_view(_name, _webhook), methods=["POST"])

for _name, _voice in registry.VOICE_PROVIDERS.items():
    for _webhook in _voice.webhooks:
        blueprint.add_url_rule(f"/{_name}/{_webhook.path}", endpoint=f"{_name}_{_webhook.name}",
                               view_func=_voice_view(_name, _webhook), methods=["POST"])
