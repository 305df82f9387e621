"""Provider channels: each provider's whole protocol, one module per provider.

A provider module (africastalking.py, twilio.py) owns its routes, parsing, authentication,
status tables, replies (USSD screens with their 182-character check, the rules of USSD's
`text`) and sending, over the normalised values and protocols of base.py; `registry.py`
lists the providers. Channels know nothing of flows, the engine, Redis or SQL. The parsers
and senders take plain arguments; each provider class is built from Settings.
"""
