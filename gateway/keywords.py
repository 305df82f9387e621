"""The words people type to start something: a survey, an invitation by staff."""

from __future__ import annotations

import re

from gateway.engine import inputs

# `AVIS 07`: a survey keyword then a centre's code (French, then Bambara "hakilina").
SURVEY_KEYWORDS = frozenset({"AVIS", "KUMA", "SONDAGE", "HAKILINA"})
# `VISITE 76123456` from a staff phone; Bambara "taali", going: the visit made.
VISIT_KEYWORDS = frozenset({"visite", "visit", "taali"})
MIN_VISIT_DIGITS = 8  # a Malian number without its country code
# `VISITE 76123456 APPEL`: invite her by a call, not an SMS (Bambara "wele", to call).
CALL_WORDS = frozenset({"appel", "appeler", "wele", "call"})


def visit_command(text: str) -> str | None:
    """Return the number in `VISITE 76123456` / `TAALI 76123456` ("" if none), else None."""
    words = inputs.plain(text or "").split(" ", 1)
    if not words or words[0] not in VISIT_KEYWORDS:
        return None
    rest = words[1] if len(words) > 1 else ""
    last = rest.rsplit(" ", 1)
    if len(last) == 2 and last[1] in CALL_WORDS:
        rest = last[0]
    return re.sub(r"[\s.\-]", "", rest)


def visit_by_call(text: str) -> bool:
    """Whether a visit command asks for a call (`VISITE 76123456 APPEL`) instead of an SMS."""
    words = inputs.plain(text or "").split(" ")
    return len(words) > 2 and words[0] in VISIT_KEYWORDS and words[-1] in CALL_WORDS


def names_a_phone(number: str | None) -> bool:
    """Whether a visit command's number has enough digits to be a phone number."""
    return number is not None and sum(ch.isdigit() for ch in number) >= MIN_VISIT_DIGITS


def survey_code(text: str) -> tuple[str | None, str | None]:
    """Split `AVIS 07` into (None, "07") and `BANCONI` into ("BANCONI", None)."""
    words = inputs.plain(text).upper().split()
    if not words:
        return None, None
    if words[0] in SURVEY_KEYWORDS and len(words) > 1:
        return None, words[1]
    return words[0], None
