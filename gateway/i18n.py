"""The gateway's own messages in French and Bambara, and number and week formats.

Catalogs are the `.po` files under `locales/`, read with Babel and compiled in memory on first
use, so that installing Kuma needs no compile step. Bambara falls back to French, then to the
English msgid, for anything not yet translated.
"""

from __future__ import annotations

import datetime
import functools
import io
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from babel import Locale, numbers
from babel.dates import format_interval
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("fr", "bm")
DEFAULT_LANGUAGE = "fr"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def N_(msgid: str) -> str:
    """Mark msgid for extraction (pybabel extract -k N_) without translating it."""
    return msgid


# Texts the flow engine shows on phones, by key; the engine fills the %(name)s placeholders.
ENGINE_MSGIDS = {
    "invalid": N_("Invalid answer."),
    "reply_range": N_("Reply %(low)s to %(high)s."),
    "reply_number": N_("Reply with a number from %(low)s to %(high)s."),
    "reply_yes_no": N_("Reply 1 for yes, 2 for no."),
    "reply_text": N_("Reply with your comment."),
    "reply_text_optional": N_("Reply with your comment, or 0 to skip."),
    "skip_label": N_("Skip"),
    "too_many_tries": N_("Too many invalid answers. Thank you for your time."),
    "opted_out": N_("You will receive no more messages. Write to us to start again."),
    "opted_in": N_("You will receive our messages again. Send STOP to stop."),
    "help": N_("Answer with the number of your choice. STOP to stop, RESTART to start again."),
    "more": N_("More"),
    "back": N_("Back"),
    "unavailable": N_("This survey is not available now. Thank you."),
    "expired": N_("Your session has expired. Thank you for your time."),
    "error": N_("Sorry, something went wrong. Please try again later."),
    "thanks": N_("Thank you."),
    # Said on a voice call, each from a recording (gateway/engine/voice.py names the files).
    "voice_press": N_("Press %(key)s."),
    "voice_not_an_answer": N_("That key is not an answer."),
    "voice_number_hint": N_("Type the number, then press the hash key."),
    "voice_goodbye": N_("We did not get your answer. Thank you, goodbye."),
}
WEEK_MSGID = N_("week %(number)s (%(dates)s)")

_LANG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def language(lang: str) -> str:
    """Return the supported language code for lang ("fr-ML" → "fr"), or raise ValueError."""
    match = _LANG.match(lang or "") if isinstance(lang, str) else None
    code = match.group(1).lower() if match else None
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    return code


def _compiled(lang: str, domain: str) -> Translations:
    """Read one language's .po file of `domain` and compile it in memory (no .mo shipped)."""
    path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=lang, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=domain)


@functools.cache
def _load(lang: str) -> Translations:
    """Read one language's .po file and compile it in memory."""
    translations = _compiled(lang, DOMAIN)
    if lang != DEFAULT_LANGUAGE:
        translations.add_fallback(_load(DEFAULT_LANGUAGE))
    return translations


def translations(lang: str) -> Translations:
    """Return the Babel translations of lang (cached; falls back to French, then English)."""
    return _load(language(lang))


def gettext(lang: str, msgid: str, **params: object) -> str:
    """Return msgid translated into lang, with params filled in."""
    text = translations(lang).gettext(msgid)
    return text % params if params else text


def ngettext(lang: str, singular: str, plural: str, n: int, **params: object) -> str:
    """Return the form of singular/plural for n in lang, filled with params and count=n."""
    text = translations(lang).ngettext(singular, plural, n)
    return text % {"count": n, **params}


def respondents(n: int, lang: str) -> str:
    """Return "12 respondents" in lang, for summaries."""
    return ngettext(lang, "%(count)s respondent", "%(count)s respondents", n,
                    count=format_number(n, lang))


def engine_messages() -> dict[str, dict[str, str]]:
    """Return {language: {key: text}} for the flow engine, placeholders left in."""
    return {lang: {key: translations(lang).gettext(msgid) for key, msgid in ENGINE_MSGIDS.items()}
            for lang in LANGUAGES}


@functools.cache
def _number_locale(lang: str) -> Locale:
    """Return the locale whose number symbols lang uses: its own, or French if CLDR has none."""
    locale = Locale.parse(language(lang))
    # CLDR's bm has no number symbols of its own and inherits root's "1,234.5", which is
    # not how numbers are written in Mali. (localedata.load(merge_inherited=False) would
    # tell directly, but it poisons Babel's locale cache.)
    if locale.number_symbols == Locale.parse("root").number_symbols:
        return Locale.parse(DEFAULT_LANGUAGE)
    return locale


def _pattern(decimals: int) -> str:
    if decimals < 0:
        raise ValueError(f"decimals must be 0 or more, got {decimals}")
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def round_half_up(value: float | int | Decimal, decimals: int = 0) -> Decimal:
    """Round as people do by hand (84.5 -> 85, 62.25 -> 62.3), not to even as round() does."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def format_number(value: float | int | Decimal, lang: str, decimals: int = 0) -> str:
    """Return value written the way lang writes numbers, with exactly `decimals` decimals."""
    return numbers.format_decimal(round_half_up(value, decimals), format=_pattern(decimals),
                                  locale=_number_locale(lang))


def format_percent(value_0_100: float | int | Decimal, lang: str, decimals: int = 0) -> str:
    """Return a 0-100 value as a percentage in lang ("85 %" in French)."""
    locale = _number_locale(lang)
    pattern = locale.percent_formats[None].pattern.replace("#,##0", _pattern(decimals), 1)
    fraction = round_half_up(value_0_100, decimals) / 100
    return numbers.format_percent(fraction, format=pattern, locale=locale)


def format_signed(value: float | int | Decimal, lang: str, decimals: int = 0) -> str:
    """Return a change with its sign, "+5" or "-3", and "0" for no change."""
    rounded = round_half_up(value, decimals)
    text = format_number(abs(rounded), lang, decimals)
    if rounded > 0:
        return "+" + text
    if rounded < 0:
        return numbers.get_minus_sign_symbol(_number_locale(lang)) + text
    return text


def format_week(iso_week: str, lang: str) -> str:
    """Return an ISO week such as "2026-W47" in words: "semaine 47 (16–22 nov.)"."""
    match = _ISO_WEEK.match(iso_week or "") if isinstance(iso_week, str) else None
    try:
        if not match:
            raise ValueError
        year, week = int(match.group(1)), int(match.group(2))
        monday = datetime.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(
            f"not an ISO week {iso_week!r}: expected YYYY-Www, e.g. 2026-W47") from None
    sunday = monday + datetime.timedelta(days=6)
    dates = format_interval(monday, sunday, "MMMd", locale=language(lang))
    return gettext(lang, WEEK_MSGID, number=week, dates=dates)


# ---------------------------------------------------------------- the dashboard's pages

DASHBOARD_DOMAIN = "dashboard"
DASHBOARD_LANGUAGES = ("fr", "en", "bm")


@functools.cache
def dashboard_translations(lang: str) -> Translations:
    """Return the dashboard's translations (`locales/*/LC_MESSAGES/dashboard.po`).

    Its msgids are English, so `en` needs no catalog; Bambara falls back to French for
    anything not yet translated (all of it while it has no catalog).
    """
    if lang not in DASHBOARD_LANGUAGES:
        raise ValueError(f"unknown dashboard language {lang!r}: expected one of "
                         f"{', '.join(DASHBOARD_LANGUAGES)}")
    path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DASHBOARD_DOMAIN}.po"
    if lang == "en":
        return Translations(domain=DASHBOARD_DOMAIN)
    if not path.exists():  # no Bambara catalog yet: French
        return dashboard_translations(DEFAULT_LANGUAGE)
    translations = _compiled(lang, DASHBOARD_DOMAIN)
    if lang != DEFAULT_LANGUAGE:
        translations.add_fallback(dashboard_translations(DEFAULT_LANGUAGE))
    return translations
