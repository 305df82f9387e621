"""Outbound survey calls, free for the mother: queued rows placed after commit by a job.

`outbox` adds a call (inside the caller's transaction) and enqueues its job after commit;
`place` places one call through the voice provider, rate-limited, at most once per
attempt; `outcome` files the provider's end-of-call notice (outcome, duration, cost) and
retries an unanswered call a bounded number of times, never in the quiet hours;
`callback` queues the call back to a mother whose own call was rejected.
"""
