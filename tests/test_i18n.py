"""The gateway's own messages in fr and bm, and locale formats."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from gateway import i18n
from gateway.engine import gsm

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ENGINE_KEYS = {
    "invalid", "reply_range", "reply_number", "reply_yes_no", "reply_text",
    "reply_text_optional", "skip_label", "too_many_tries", "opted_out", "help", "more",
    "back", "unavailable", "expired", "thanks",
}


def _catalog(lang=None):
    path = (i18n.LOCALES_DIR / "messages.pot" if lang is None
            else i18n.LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po")
    with path.open("rb") as fp:
        return read_po(fp, locale=lang)


def _entries(catalog):
    return {m.id: m for m in catalog if m.id}


def test_template_holds_every_message_the_code_uses():
    template = _entries(_catalog())
    assert set(i18n.ENGINE_MSGIDS.values()) | {i18n.WEEK_MSGID} <= set(template)
    assert ("%(count)s respondent", "%(count)s respondents") in template


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_template_entry_is_translated_with_the_same_placeholders(lang):
    catalog = _catalog(lang)
    entries = _entries(catalog)
    assert set(entries) == set(_entries(_catalog()))
    for msgid, message in entries.items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not message.fuzzy, msgid
        assert len(strings) == catalog.num_plurals if len(ids) > 1 else len(strings) == 1
        expected = set(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            assert text.strip(), f"{lang}: {msgid!r} has no translation"
            assert set(PLACEHOLDER.findall(text)) == expected, f"{lang}: {msgid!r}"
    # Babel's own checks: python-format flags and placeholders agree.
    assert [errors for _, errors in catalog.check()] == []


def test_every_bambara_entry_awaits_native_review():
    for message in _entries(_catalog("bm")).values():
        assert "needs review by a native Bambara speaker" in message.auto_comments


def test_engine_messages_cover_every_key_in_every_language():
    messages = i18n.engine_messages()
    assert set(messages) == set(i18n.LANGUAGES)
    for lang, texts in messages.items():
        assert ENGINE_KEYS <= set(texts)
        for key, text in texts.items():
            assert text != i18n.ENGINE_MSGIDS[key], f"{lang}.{key} is untranslated"
            # placeholders are left for the engine to fill
            msgid = i18n.ENGINE_MSGIDS[key]
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid))
    assert messages["fr"]["reply_range"] == "Répondez %(low)s à %(high)s."
    assert messages["fr"]["skip_label"] == "Passer"
    assert messages["bm"]["thanks"] == "Aw ni ce."


def test_engine_messages_fit_a_ussd_screen_and_fold_to_gsm7():
    for texts in i18n.engine_messages().values():
        for text in texts.values():
            folded = gsm.fold_to_gsm7(text)
            assert folded.count("?") == text.count("?"), text
            assert len(folded) <= 120


def test_gettext_translates_and_fills_params():
    assert i18n.gettext("fr", "Reply %(low)s to %(high)s.", low=1, high=5) == "Répondez 1 à 5."
    assert i18n.gettext("bm", "Reply %(low)s to %(high)s.", low=1, high=5) == "Jaabi 1 ka se 5 ma."
    assert i18n.gettext("fr", "Thank you.") == "Merci."


def test_gettext_falls_back_to_the_msgid():
    assert i18n.gettext("fr", "Not in any catalog") == "Not in any catalog"
    assert i18n.gettext("bm", "Not in %(x)s catalog", x="a") == "Not in a catalog"


def test_bambara_falls_back_to_french_before_english():
    i18n.translations("fr")._catalog["Only French"] = "Seulement en français"
    try:
        assert i18n.gettext("bm", "Only French") == "Seulement en français"
    finally:
        del i18n.translations("fr")._catalog["Only French"]


@pytest.mark.parametrize("lang, n, text", [
    ("fr", 0, "0 répondante"),
    ("fr", 1, "1 répondante"),
    ("fr", 2, "2 répondantes"),
    ("fr", 1200, "1\u202f200 répondantes"),
    ("bm", 1, "jaabibaga 1"),
    ("bm", 12, "jaabibaga 12"),
])
def test_plurals(lang, n, text):
    assert i18n.respondents(n, lang) == text
    assert i18n.ngettext(lang, "%(count)s respondent", "%(count)s respondents", n) == (
        text.replace("\u202f", ""))


@pytest.mark.parametrize("lang", ["fr-ML", "fr_ML", "FR", "bm_ML"])
def test_language_variants_are_accepted(lang):
    assert i18n.translations(lang) is i18n.translations(lang[:2].lower())


@pytest.mark.parametrize("lang", ["en", "", "xx-YY", None])
def test_unknown_language_is_a_clear_error(lang):
    with pytest.raises(ValueError, match="unknown language"):
        i18n.gettext(lang, "Thank you.")


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("call, expected", [
    # French conventions for both: CLDR has no Bambara number symbols.
    (lambda lang: i18n.format_number(1234567, lang), "1\u202f234\u202f567"),
    (lambda lang: i18n.format_number(12.345, lang, decimals=1), "12,3"),
    (lambda lang: i18n.format_number(84.5, lang), "85"),
    (lambda lang: i18n.format_number(3, lang, decimals=2), "3,00"),
    (lambda lang: i18n.format_percent(85, lang), "85\u00a0%"),
    (lambda lang: i18n.format_percent(85.25, lang, decimals=1), "85,3\u00a0%"),
    (lambda lang: i18n.format_percent(100, lang), "100\u00a0%"),
    (lambda lang: i18n.format_signed(5, lang), "+5"),
    (lambda lang: i18n.format_signed(-3, lang), "-3"),
    (lambda lang: i18n.format_signed(0, lang), "0"),
    (lambda lang: i18n.format_signed(-0.4, lang), "0"),
    (lambda lang: i18n.format_signed(2.25, lang, decimals=1), "+2,3"),
])
def test_number_formats(lang, call, expected):
    assert call(lang) == expected


def test_formats_fold_to_plain_gsm7():
    assert gsm.fold_to_gsm7(i18n.format_percent(85, "fr")) == "85 %"
    assert gsm.fold_to_gsm7(i18n.format_number(1500, "bm")) == "1 500"


@pytest.mark.parametrize("week, lang, text", [
    ("2026-W47", "fr", "semaine 47 (16–22 nov.)"),
    ("2026-W47", "bm", "dɔgɔkun 47 (now 16–22)"),
    ("2026-W01", "fr", "semaine 1 (29 déc.\u2009–\u20094 janv.)"),
])
def test_format_week(week, lang, text):
    assert i18n.format_week(week, lang) == text


@pytest.mark.parametrize("week", ["2026-47", "2026-W54", "2025-W53", "W47", "", None, "2026-W00"])
def test_format_week_rejects_bad_weeks(week):
    with pytest.raises(ValueError, match="not an ISO week"):
        i18n.format_week(week, "fr")


def test_negative_decimals_is_a_clear_error():
    with pytest.raises(ValueError, match="decimals"):
        i18n.format_number(1, "fr", decimals=-1)
