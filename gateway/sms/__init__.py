"""Outbound SMS: the row queued in the caller's transaction, sent by a job after commit.

`outbox` writes the row and enqueues its send job once the transaction commits;
`send` is that job's work (claim, rate limit, provider call, filing the answer);
`delivery` files the providers' delivery reports; `ratelimit` is the token bucket, pure
beside its Redis twin; `senders` picks the provider's sender. Sending knows the message's
purpose, never what an invitation or a summary is: their owners register a `FollowUp`.
"""
