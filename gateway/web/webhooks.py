"""Providers' webhooks: authenticate, parse, hand to the runner, answer fast.

Bad input is the provider's (or an attacker's) problem, never ours: it gets a logged 4xx
with the reason, and changes nothing. Only Redis is touched here; SQL is the worker's job.
The USSD screens themselves are answered in gateway.web.ussd, beneath Flask.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, g, request

from gateway import metrics
from gateway.channels import africastalking as at
from gateway.channels import twilio
from gateway.channels.base import DeliveryReport, InboundSms
from gateway.errors import (AuthenticationError, ChannelRequestError, EngineUsageError,
                            SessionBusyError)
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


def _check_africastalking() -> None:
    settings = context.services().settings
    at.authenticate(request.args.get("token"), request.remote_addr,
                    expected_token=settings.at_webhook_token,
                    allowed_networks=settings.at_allowed_networks)


def _check_twilio() -> None:
    settings = context.services().settings
    if not settings.twilio_auth_token:
        raise AuthenticationError("Twilio is not configured here (TWILIO_AUTH_TOKEN unset)")
    url = twilio.public_url(request.url, request.headers,
                            trust_forwarded=settings.twilio_trust_forwarded,
                            public_base=settings.public_url)
    twilio.check_signature(settings.twilio_auth_token, url, request.form.to_dict(),
                           request.headers.get("X-Twilio-Signature"),
                           settings_header=request.headers.get(
                               "X-Twilio-Webhooks-Signature-Settings"))


@blueprint.post("/africastalking/ussd/events")
def africastalking_ussd_events() -> Response:
    """Take AT's notice that a USSD session ended (Success, Incomplete or Failed)."""
    _check_africastalking()
    notice = at.parse_ussd_event(request.form)
    g.session = notice.session_id
    context.runner().handle_ussd_ended(notice)
    return Response("ok\n", mimetype="text/plain")


@blueprint.post("/africastalking/sms")
def africastalking_sms() -> Response:
    """Take an incoming SMS; the reply goes out as an outbound SMS from the worker."""
    _check_africastalking()
    _handle_sms(at.parse_sms(request.form))
    return Response("ok\n", mimetype="text/plain")


@blueprint.post("/africastalking/delivery")
def africastalking_delivery() -> Response:
    """Take an AT delivery report."""
    _check_africastalking()
    _queue_delivery(at.parse_delivery(request.form))
    return Response("ok\n", mimetype="text/plain")


@blueprint.post("/twilio/sms")
def twilio_sms() -> Response:
    """Take an incoming Twilio SMS; answer with empty TwiML (the reply is sent by a job)."""
    _check_twilio()
    _handle_sms(twilio.parse_sms(request.form))
    return Response(twilio.render_twiml(), mimetype="text/xml")


@blueprint.post("/twilio/status")
def twilio_status() -> Response:
    """Take a Twilio status callback."""
    _check_twilio()
    _queue_delivery(twilio.parse_status(request.form))
    return Response("ok\n", mimetype="text/plain")


def _handle_sms(message: InboundSms) -> None:
    try:
        context.runner().handle_sms(message)
    except EngineUsageError as error:
        # Our fault, not the provider's: a retry would fail the same way, so take the
        # message (200), log it and count it; her session is left as it was.
        log.error("sms %s cannot go on: %s", message.message_id, error)
        metrics.FAILURES.labels(kind="session_broken").inc()


def _queue_delivery(report: DeliveryReport) -> None:
    queue = context.services().queue
    queue.enqueue_call(DELIVERY_JOB, args=(report.provider, report.message_id,
                                           str(report.status), report.error_code,
                                           report.failure_reason, report.opted_out),
                       description="record delivery report")
