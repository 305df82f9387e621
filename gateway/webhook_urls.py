"""The callback URLs to enter in each provider's dashboard, with the AT token escaped or masked."""

from __future__ import annotations

import urllib.parse

from gateway.logmask import MASK

WEBHOOKS = {
    "Africa's Talking": [("USSD callback", "/webhooks/africastalking/ussd", True),
                         ("USSD end-of-session events", "/webhooks/africastalking/ussd/events",
                          True),
                         ("incoming SMS", "/webhooks/africastalking/sms", True),
                         ("SMS delivery reports", "/webhooks/africastalking/delivery", True)],
    "Twilio": [("incoming SMS (A message comes in)", "/webhooks/twilio/sms", False),
               ("status callback", "/webhooks/twilio/status", False)],
}


def webhook_urls(base: str, token: str | None, *,
                 masked: bool = True) -> dict[str, list[tuple[str, str]]]:
    """Return provider -> [(label, URL)]; the token percent-encoded, or *** when `masked`."""
    # Percent-encoded whole: a token with + / = must reach us as it is, not as a space.
    query = ""
    if token:
        query = "?token=" + (MASK if masked else urllib.parse.quote(token, safe=""))
    return {provider: [(label, f"{base}{path}{query if with_token else ''}")
                       for label, path, with_token in hooks]
            for provider, hooks in WEBHOOKS.items()}
