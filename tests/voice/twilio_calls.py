"""What Twilio posts during a call, signed, as a test drives it through HTTP.

A `TwilioCall` plays Twilio's part: it posts the call's webhook to the answer URL, then
follows the TwiML it gets back as Twilio would (the Gather's action with `Digits`, or the
Redirect with none when the timeout passes), and the status callback at the end. Every
request is signed with the auth token for the public URL Twilio would have called.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

from tests.voice.answers import CallDriver, XmlAnswer

ACCOUNT = "AC" + "0123456789abcdef" * 2   # the stand-in's
TOKEN = "twilio-test-token"
NUMBER = "+15005550006"                   # the centre's Twilio number
PHONE = "+22376123456"
PUBLIC_URL = "https://kuma.example.org"
VOICE = f"{PUBLIC_URL}/webhooks/twilio/voice"
STATUS = f"{PUBLIC_URL}/webhooks/twilio/voice/status"


class Heard(XmlAnswer):
    """One answer of Kuma to a callback, read from its TwiML."""

    @property
    def plays(self) -> list[str]:
        return [e.text or "" for e in self.root.iter("Play")]

    @property
    def says(self) -> list[tuple[str, str]]:
        return [(e.get("language", ""), e.text or "") for e in self.root.iter("Say")]

    @property
    def gather(self) -> ET.Element | None:
        return self.root.find("Gather")

    @property
    def action(self) -> str | None:
        gather = self.gather
        return gather.get("action") if gather is not None else None

    @property
    def redirect(self) -> str | None:
        found = self.root.find("Redirect")
        return found.text if found is not None else None

    @property
    def turn(self) -> int | None:
        return int(re.search(r"turn=(\d+)", self.action).group(1)) if self.action else None

    @property
    def final(self) -> bool:
        return self.gather is None

    @property
    def verbs(self) -> list[str]:
        return [element.tag for element in self.root]


def post_signed(client, url: str, form: dict[str, str], *, token: str = TOKEN):
    """POST `form` to the public `url` through the test client, signed as Twilio signs it."""
    signature = RequestValidator(token).compute_signature(url, form)
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


class TwilioCall(CallDriver):
    """One call as Twilio makes it: its CallSid, her number, the direction."""

    def __init__(self, client, call_sid: str, *, phone: str = PHONE,
                 direction: str = "outbound-api") -> None:
        self.client, self.sid, self.phone, self.direction = client, call_sid, phone, direction
        self.last: Heard | None = None

    def form(self, status: str = "in-progress", **fields: str) -> dict[str, str]:
        ours, hers = (NUMBER, self.phone)
        caller, called = (hers, ours) if self.direction == "inbound" else (ours, hers)
        return {"CallSid": self.sid, "AccountSid": ACCOUNT, "From": caller, "To": called,
                "Caller": caller, "Called": called, "CallStatus": status,
                "Direction": self.direction, "ApiVersion": "2010-04-01", "FromCountry": "ML",
                "ToCountry": "ML", **fields}

    def post(self, url: str, form: dict[str, str]) -> Heard:
        response = post_signed(self.client, url, form)
        heard = Heard(response.status_code, response.text)
        if response.status_code == 200 and response.mimetype == "text/xml":
            self.last = heard
        return heard

    def connect(self, url: str = VOICE) -> Heard:
        """Twilio fetches the answer URL: she picked up (or, inbound, it rings)."""
        status = "ringing" if self.direction == "inbound" else "in-progress"
        return self.post(url, self.form(status))

    def press(self, keys: str) -> Heard:
        """She pressed `keys`: Twilio posts them to the Gather's action."""
        assert self.last is not None and self.last.action, self.last
        finished = "#" if keys.endswith("#") else ""
        return self.post(self.last.action, self.form(Digits=keys.removesuffix("#"),
                                                     FinishedOnKey=finished))

    def silence(self) -> Heard:
        """No key within the timeout: Twilio follows the Redirect, without Digits."""
        assert self.last is not None and self.last.redirect, self.last
        return self.post(self.last.redirect, self.form())

    def ended(self, status: str = "completed", seconds: int = 95, url: str = STATUS) -> Heard:
        """The status callback of the call's end."""
        return self.post(url, self.form(status, CallDuration=str(seconds),
                                        Timestamp="Tue, 01 Dec 2026 10:12:45 +0000",
                                        CallbackSource="call-progress-events",
                                        SequenceNumber="0"))
