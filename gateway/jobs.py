"""Every RQ entry point, one short function each: the worker's index of what it can run.

Each job takes ids and plain values, builds its process's services once (`for_worker`)
and hands them to the module that does the work, which takes its services explicitly.
Exceptions reach RQ's failed registry; retries are the enqueuer's (`retry=`). Job names
are `gateway.jobs.<function>`; tests/test_jobs.py checks that every name used resolves.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import rq

from gateway import center_import, eventlog, invitations, summaries, upkeep
from gateway.calls import callback, outcome, place, price
from gateway.services import for_worker
from gateway.sms import delivery, send, senders


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def send_message(message_id: int) -> None:
    """Send one queued outbound SMS (retried with backoff when retryable)."""
    services = for_worker()
    job = rq.get_current_job()
    # retries_left is None without a Retry, 0 on the last try: then a failure is final.
    send.deliver(services, message_id, sender=senders.process_sender(services.settings),
                 final_attempt=job is not None and not job.retries_left)


def record_delivery(provider: str, message_id: str, status: str, error_code: str | None,
                    failure_reason: str | None, opted_out: bool) -> None:
    """File a provider's delivery report (enqueued by the webhooks)."""
    delivery.apply_delivery(for_worker(), provider, message_id, status, error_code,
                            failure_reason, opted_out)


def flush_events() -> int:
    """File every waiting session event in batches; return how many records were filed."""
    job = rq.get_current_job()
    return eventlog.drain(for_worker(), owner=job.id if job else secrets.token_hex(8),
                        linger=eventlog.LINGER_SECONDS)


def staff_sms(provider: str, message_id: str, phone_hash: str, text: str) -> str | None:
    """Act on a staff phone's `VISITE <number>` SMS (`text` sealed) and answer the staff."""
    services = for_worker()
    return invitations.handle_staff_message(services, provider, message_id, phone_hash,
                                            services.vault.unseal(text), now=_now())


def sweep_sessions() -> dict[str, int]:
    """End sessions whose state lapsed; refile events and resend SMS a crash left behind."""
    return upkeep.sweep_sessions(for_worker(), now=_now())


def refresh_directory() -> int:
    """Copy the centres and staff phones from SQL into the webhooks' Redis directory."""
    return center_import.refresh_directory(for_worker())


def send_summaries(week: str | None = None) -> dict[str, Any]:
    """Send the week's summaries (the scheduler's Monday job); return counts by status."""
    return summaries.counts(summaries.send_summaries(for_worker(), week=week))


def place_call(call_id: int) -> str | None:
    """Place one queued outbound call (rate-limited, outside the quiet hours)."""
    status = place.place(for_worker(), call_id, now=_now())
    return str(status) if status else None


def record_call_end(provider: str, call_id: str, result: str, duration_s: int | None,
                    cost: str | None, currency: str | None) -> str | None:
    """File a provider's end-of-call notice (enqueued by the voice webhooks)."""
    services = for_worker()
    status = outcome.record_end(services, provider, call_id, result, duration_s, cost,
                                currency, now=_now())
    if status is not None and cost is None and price.priced_later(provider):
        price.ask_later(services.queue, provider, call_id)
    return str(status) if status else None


def record_call_price(provider: str, call_id: str, ask: int = 1) -> str | None:
    """Store a call's price once its provider has set it (Twilio prices after the end)."""
    amount = price.record_price(for_worker(), provider, call_id, ask)
    return str(amount) if amount is not None else None


def call_back(provider: str, inbound_call_id: str, phone_token: str, phone_hash: str) -> int:
    """Queue the call back to a mother whose call to the voice number was rejected."""
    return callback.call_back(for_worker(), provider, inbound_call_id, phone_token,
                              phone_hash, now=_now())
