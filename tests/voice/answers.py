"""What the AT and Twilio call drivers share: Kuma's XML answer, and answering in one go."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass
class XmlAnswer:
    """One answer of Kuma to a callback: its status and the XML body."""

    status: int
    xml: str

    @property
    def root(self) -> ET.Element:
        return ET.fromstring(self.xml)


class CallDriver:
    """A call driven through HTTP: a subclass connects and presses keys its provider's way."""

    def answer(self, keys: list[str]) -> list[XmlAnswer]:
        heard = [self.connect()]
        for key in keys:
            heard.append(self.press(key))
        return heard
