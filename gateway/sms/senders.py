"""The sender SMS_OUTBOX and SMS_PROVIDER ask for, one per worker process."""

from __future__ import annotations

import functools

from gateway.channels import registry
from gateway.channels.base import SmsSender
from gateway.settings import Settings

SEND_TIMEOUT = 10  # seconds a provider may take per socket wait (see channels)


def sender_for(settings: Settings, *, timeout: float = SEND_TIMEOUT) -> SmsSender:
    """Return the sender SMS_OUTBOX and SMS_PROVIDER ask for."""
    return registry.sender_for(settings, timeout=timeout)


@functools.lru_cache(maxsize=2)
def process_sender(settings: Settings) -> SmsSender:
    """Return this process's sender: its HTTP connections are pooled across jobs."""
    return sender_for(settings)
