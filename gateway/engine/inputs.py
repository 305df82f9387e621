"""Read what people type on a phone: ` 1.`, `un`, `kelen`, `OUI`, `awɔ`, `Arrêt`.

Everything here folds case, accents and Bambara letters first, so that `Awɔ`, `awo` and
`AWO` are one word, and then looks the word up.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Bambara letters that have no decomposition in Unicode, spelled as phones without them do.
_BAMBARA_PLAIN = str.maketrans({"ɛ": "e", "ɔ": "o", "ɲ": "ny", "ŋ": "ng",
                                "Ɛ": "e", "Ɔ": "o", "Ɲ": "ny", "Ŋ": "ng", "œ": "oe"})

NUMBER_WORDS = {
    # French
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
    # Bambara
    "fu": 0, "kelen": 1, "fila": 2, "saba": 3, "naani": 4, "duuru": 5, "woro": 6,
    "wooro": 6, "wolonwula": 7, "seegin": 8, "segin": 8, "kononton": 9, "tan": 10,
    # English, for the odd visitor's phone
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
}

YES_WORDS = frozenset({"oui", "o", "ok", "yes", "y", "awo", "owo", "aw", "ayw"})
NO_WORDS = frozenset({"non", "no", "n", "ayi", "ay"})

# Keywords that act at any point of an SMS or USSD session.
STOP_WORDS = frozenset({"stop", "arret", "arreter", "desabonner", "unsubscribe", "dabila",
                        "a dabila", "jo"})
HELP_WORDS = frozenset({"aide", "help", "deme", "?"})
RESTART_WORDS = frozenset({"restart", "recommencer", "reprendre", "kokura", "ka damine kokura"})

_EDGE_PUNCTUATION = " \t\r\n.,;:!)(-_'\"*#"


@functools.lru_cache(maxsize=4096)
def plain(text: str) -> str:
    """Fold text for comparison: lower case, no accents, Bambara letters spelled plainly."""
    text = unicodedata.normalize("NFKD", text.translate(_BAMBARA_PLAIN))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_BAMBARA_PLAIN).casefold()
    return re.sub(r"\s+", " ", text).strip(_EDGE_PUNCTUATION)


def parse_integer(raw: str) -> int | None:
    """Read a whole number typed as digits (` 3.`) or as a small number word (`trois`)."""
    word = plain(raw)
    if re.fullmatch(r"[+-]?\d{1,9}", word):
        return int(word)
    return NUMBER_WORDS.get(word)


def parse_yes_no(raw: str) -> bool | None:
    """Read yes or no in French, Bambara or English; None when it is neither."""
    word = plain(raw)
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None


def keyword(raw: str) -> str | None:
    """Name the session keyword in `raw` (`stop`, `help`, `restart`), if it is one."""
    word = plain(raw)
    if word in STOP_WORDS:
        return "stop"
    if word in HELP_WORDS:
        return "help"
    if word in RESTART_WORDS:
        return "restart"
    return None
