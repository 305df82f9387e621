"""A call's cost when the provider prices it only after the end-of-call notice (Twilio).

AT's notice carries the amount; Twilio's status callback has none, and its Call resource
gets a `price` a little after the call ends. A provider with `call_price(call_id)` is asked
again a few minutes after the end, then at growing intervals for about an hour, and the
first price it gives is stored on the call and counted.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal

import rq
import sqlalchemy as sa

from gateway import metrics
from gateway.channels import registry
from gateway.db import session_scope
from gateway.errors import SendError
from gateway.models import Call
from gateway.services import Services

log = logging.getLogger(__name__)

PRICE_JOB = "gateway.jobs.record_call_price"
FIRST_ASK = dt.timedelta(minutes=2)
MAX_ASKS = 5  # 2, 4, 8, 16, 32 minutes after the end: about an hour in all
_JOB_ID = re.compile(r"[^A-Za-z0-9_-]")  # what RQ allows in a job id


def priced_later(provider: str) -> bool:
    """Tell whether `provider` prices a call only after its end (it has `call_price`)."""
    return hasattr(registry.VOICE_PROVIDERS.get(provider), "call_price")


def ask_later(queue: rq.Queue, provider: str, provider_call_id: str, ask: int = 1) -> None:
    """Schedule the `ask`-th look-up of a call's price, each one twice as late as the last."""
    # One job per look-up: a repeated end-of-call notice schedules the same job again.
    queue.enqueue_in(FIRST_ASK * 2 ** (ask - 1), PRICE_JOB, provider, provider_call_id, ask,
                     job_id=_JOB_ID.sub("_", f"call-price-{provider}-{provider_call_id}-{ask}"),
                     description="record a call's price")


def record_price(services: Services, provider: str, provider_call_id: str,
                 ask: int = 1) -> Decimal | None:
    """Store a call's price once the provider has one; ask again later while it has not."""
    try:
        price = registry.voice_provider(services.settings, provider).call_price(provider_call_id)
    except SendError as error:
        if not error.retryable:
            log.warning("price of call %s not available: %s", provider_call_id, error)
            return None
        price = None
    if price is None:
        if ask < MAX_ASKS:
            ask_later(services.queue, provider, provider_call_id, ask + 1)
        else:
            log.info("call %s has no price after %d look-ups: left empty", provider_call_id, ask)
        return None
    amount, currency = price
    with session_scope(services.sessionmaker) as db:
        call = db.scalars(sa.select(Call).where(
            Call.provider == provider, Call.provider_call_id == provider_call_id)).first()
        if call is None or call.cost is not None:
            return call.cost if call else None  # not ours, or priced already
        call.cost, call.currency = amount, currency
    metrics.CALL_COST.labels(currency=currency).inc(float(amount))
    return amount
