"""What AT posts during a call, as a test drives it through HTTP."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tests.voice.answers import CallDriver, XmlAnswer
from tests.voice.conftest import TOKEN, VOICE_NUMBER

PATH = "/webhooks/africastalking/voice"
PHONE = "+22376123456"


class Heard(XmlAnswer):
    """One answer of Kuma to a callback, read from its AT voice XML."""

    @property
    def plays(self) -> list[str]:
        return [e.get("url", "") for e in self.root.iter("Play")]

    @property
    def says(self) -> list[str]:
        return [e.text or "" for e in self.root.iter("Say")]

    @property
    def digits(self) -> ET.Element | None:
        return self.root.find("GetDigits")

    @property
    def turn(self) -> int | None:
        found = self.digits
        if found is None:
            return None
        return int(re.search(r"turn=(\d+)", found.get("callbackUrl", "")).group(1))

    @property
    def final(self) -> bool:
        return self.digits is None


class Call(CallDriver):
    """One call of AT's: its session id, her number, the direction; posts its callbacks."""

    def __init__(self, client, session_id: str, *, phone: str = PHONE,
                 direction: str = "Outbound") -> None:
        self.client, self.session_id, self.phone, self.direction = (client, session_id,
                                                                    phone, direction)
        self.last: Heard | None = None

    def form(self, **fields: str) -> dict[str, str]:
        return {"isActive": "1", "sessionId": self.session_id, "direction": self.direction,
                "callerNumber": self.phone, "destinationNumber": VOICE_NUMBER, **fields}

    def post(self, form: dict[str, str], turn: int | None = None) -> Heard:
        query = {"token": TOKEN, **({"turn": str(turn)} if turn is not None else {})}
        response = self.client.post(PATH, data=form, query_string=query)
        heard = Heard(response.status_code, response.text)
        if response.status_code == 200 and response.text.startswith("<?xml"):
            self.last = heard
        return heard

    def connect(self) -> Heard:
        return self.post(self.form())

    def press(self, keys: str, turn: int | None = None) -> Heard:
        assert self.last is not None and self.last.turn is not None
        return self.post(self.form(dtmfDigits=keys), turn if turn is not None else self.last.turn)

    def silence(self) -> Heard:
        """The GetDigits timed out: AT follows the Redirect, with no dtmfDigits."""
        return self.post(self.form(), self.last.turn)

    def hang_up(self, cause: str = "NORMAL_CLEARING", seconds: int = 95) -> Heard:
        return self.post(self.form(isActive="0", durationInSeconds=str(seconds),
                                   amount="45.0", currencyCode="XOF", hangupCause=cause,
                                   status="Success"))
