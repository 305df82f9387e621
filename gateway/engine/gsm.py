"""GSM 03.38 text: what a basic phone can show, folding to it, and counting SMS segments.

Pure: stdlib only, no I/O. The tables are the 3GPP TS 23.038 default alphabet and its
extension table; an extension character is sent as ESC + code and so costs two septets.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"  # \x1b (ESC) is listed for completeness; text never carries it
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7 = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE = 160
GSM7_PART = 153  # 7 septets of each part go to the concatenation header
UCS2_SINGLE = 70
UCS2_PART = 67

# Explicit folds come first: NFKD alone would turn ɛ into '?' and ç into c-cedilla debris.
# È and Ò are not in the GSM-7 table (only è, ò and É are), so capital Ɛ and Ɔ fold to E and O.
_FOLDS = {
    # Bambara
    "ɛ": "è", "Ɛ": "E", "ɔ": "ò", "Ɔ": "O",
    "ɲ": "ny", "Ɲ": "Ny", "ŋ": "ng", "Ŋ": "Ng",
    # French letters outside GSM-7 (à é è ù ì ò É Ç are in it and kept)
    "ç": "c", "œ": "oe", "Œ": "OE",
    # punctuation
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "‹": "'", "›": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "…": "...", "•": "-", "\t": " ",
}


@dataclass(frozen=True)
class SmsCount:
    """How a text goes out as SMS: its encoding, segments and length."""

    encoding: Encoding
    segments: int
    characters: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2


def is_gsm7(text: str) -> bool:
    """Return True if every character of text is in the GSM-7 alphabet or its extension."""
    return all(ch in GSM7 for ch in text)


def fold_to_gsm7(text: str) -> str:
    """Return text rewritten with GSM-7 characters only, keeping it readable."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in GSM7:
            out.append(ch)
        elif ch in _FOLDS:
            out.append(_FOLDS[ch])
        elif (category := unicodedata.category(ch)) == "Zs":
            out.append(" ")
        elif category in ("Zl", "Zp"):
            out.append("\n")
        elif category in ("Mn", "Me", "Cf"):
            # A tone mark left on ɛ/ɔ after NFC has no precomposed form, and zero-width
            # or variation characters show nothing: drop them rather than print '?'.
            continue
        else:
            out.append(_decompose(ch))
    return "".join(out)


def _decompose(ch: str) -> str:
    """Fold one character by compatibility decomposition, or '?' when that fails."""
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and is_gsm7(base):
        return base
    return "?"


def encoding(text: str) -> Encoding:
    """Return the encoding an SMS of text needs."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def septets(text: str) -> int:
    """Return the GSM-7 length of text, extension characters counting two."""
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)


def utf16_units(text: str) -> int:
    """Return the UCS-2/UTF-16 length of text (a character beyond the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _parts(costs: list[int], single: int, part: int) -> int:
    """Count parts when items (never split) of the given costs are packed greedily."""
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def segments(text: str) -> int:
    """Return how many SMS segments text takes; the empty text takes one."""
    if is_gsm7(text):
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return _parts(costs, GSM7_SINGLE, GSM7_PART)
    # A surrogate pair, like an escape sequence, is never split across two parts.
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return _parts(costs, UCS2_SINGLE, UCS2_PART)


def count(text: str) -> SmsCount:
    """Return the encoding, segments, characters and units of text as an SMS."""
    enc = encoding(text)
    units = septets(text) if enc == "GSM-7" else utf16_units(text)
    return SmsCount(encoding=enc, segments=segments(text), characters=len(text), units=units)


def prepare_sms(text: str, *, keep_unicode: bool = False) -> str:
    """Return text ready to send: folded to GSM-7 unless keep_unicode is set."""
    if keep_unicode:
        return unicodedata.normalize("NFC", text)
    return fold_to_gsm7(text)


def fit(text: str, limit: int) -> bool:
    """Return True if text goes out in at most limit SMS segments."""
    return segments(text) <= limit
