"""Provider channels: parse and authenticate webhooks, render replies, send SMS.

One module per provider (africastalking.py, twilio.py) over the normalised values of
base.py. Channels know providers' formats and nothing of flows, the engine, Redis or SQL;
they take plain constructor arguments, never a Settings object.
"""
