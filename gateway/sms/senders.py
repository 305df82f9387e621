"""The sender SMS_OUTBOX and SMS_PROVIDER ask for, one per worker process."""

from __future__ import annotations

import functools

from gateway.channels.africastalking import AfricasTalkingSender
from gateway.channels.base import LogSender, SmsSender
from gateway.channels.twilio import TwilioSender
from gateway.settings import Settings

SEND_TIMEOUT = 10  # seconds a provider may take per socket wait (see channels)


def sender_for(settings: Settings, *, timeout: float = SEND_TIMEOUT) -> SmsSender:
    """Return the sender SMS_OUTBOX and SMS_PROVIDER ask for."""
    if settings.sms_outbox == "log" or settings.sms_provider is None:
        return LogSender()
    if settings.sms_provider == "africastalking":
        return AfricasTalkingSender(settings.at_username, settings.at_api_key,
                                    settings.at_sender, api_base=settings.at_api_base,
                                    timeout=timeout)
    callback = f"{settings.public_url}/webhooks/twilio/status" if settings.public_url else None
    return TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token,
                        settings.twilio_from, api_base=settings.twilio_api_base,
                        timeout=timeout, status_callback=callback)


@functools.lru_cache(maxsize=2)
def process_sender(settings: Settings) -> SmsSender:
    """Return this process's sender: its HTTP connections are pooled across jobs."""
    return sender_for(settings)
