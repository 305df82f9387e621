"""GSM 03.38 alphabet, folding and SMS segment counting."""

from __future__ import annotations

import pytest

from gateway.engine import gsm

# The 128 characters of the GSM 03.38 default alphabet in code order (0x1B is ESC),
# and its extension table: a fixed copy of the standard to check the module against.
STANDARD_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
STANDARD_EXTENSION = "\f^{}\\[~]|€"


def test_tables_match_the_standard():
    assert len(STANDARD_BASIC) == 128
    assert gsm.GSM7_BASIC == set(STANDARD_BASIC) - {"\x1b"}
    assert gsm.GSM7_EXTENSION == set(STANDARD_EXTENSION)


@pytest.mark.parametrize("text, expected", [
    ("Bonjour, comment allez-vous ?", True),
    ("àéèùìò É Ç ÄÖÑÜ äöñü ß Æ ø Å", True),
    ("{[~]} ^ | \\ € and form feed \f", True),
    ("", True),
    ("ç", False),          # only the capital Ç is in the table
    ("È", False),          # only the capital É is
    ("Ò", False),
    ("ê", False),
    ("ɛ", False),
    ("«", False),
    ("’", False),
    ("\u00a0", False),
    ("`", False),
    ("👍", False),
])
def test_is_gsm7(text, expected):
    assert gsm.is_gsm7(text) is expected


@pytest.mark.parametrize("label, text, folded", [
    ("bambara lower", "ɛ ɔ ɲ ŋ", "è ò ny ng"),
    ("bambara capitals (È, Ò are not GSM-7)", "Ɛ Ɔ Ɲ Ŋ", "E O Ny Ng"),
    ("bambara sentence", "I ni ce! I ka kɛnɛ wa? Ɲɛnajɛ bɛ sɔgɔma.",
     "I ni ce! I ka kènè wa? Nyènajè bè sògòma."),
    ("bambara tone marks", "ɔ̀ ɛ́ à", "ò è à"),
    ("french kept", "à é è ù ì ò É Ç", "à é è ù ì ò É Ç"),
    ("french folded", "ê â î ô û ë ï ç œ Œ", "e a i o u e i c oe OE"),
    ("french capitals", "À Â È Ê Ë Î Ï Ô Ù Û", "A A E E E I I O U U"),
    ("french sentence", "Ça s'est très bien passé à l'hôpital, l'accueil était sûr et honnête.",
     "Ça s'est très bien passé à l'hopital, l'accueil était sur et honnete."),
    ("decomposed input", "e\u0301te\u0302", "éte"),
    ("single quotes", "‘a’ ‚b′", "'a' 'b'"),
    ("double quotes", "“a” „b« c »", '"a" "b" c "'),
    ("dashes and ellipsis", "a – b — c…", "a - b - c..."),
    ("spaces", "1\u00a0000\u202f%\u2009x\u2003y\tz", "1 000 % x y z"),
    ("zero-width dropped", "a\u200bb\ufeff", "ab"),
    ("compatibility", "ﬁn ² \u2126", "fin 2 Ω"),
    ("unknown", "ı 中 👍", "? ? ?"),
    ("emoji with skin tone", "👍🏽", "??"),
    ("extension kept", "{€}", "{€}"),
])
def test_fold_to_gsm7(label, text, folded):
    result = gsm.fold_to_gsm7(text)
    assert result == folded, label
    assert gsm.is_gsm7(result)


def test_prepare_sms_folds_unless_unicode_is_kept():
    text = "Aw ni cɛ, ɲɛ"
    assert gsm.prepare_sms(text) == "Aw ni cè, nyè"
    assert gsm.prepare_sms(text, keep_unicode=True) == text
    assert gsm.prepare_sms("e\u0301", keep_unicode=True) == "é"


@pytest.mark.parametrize("text, encoding, segments, units", [
    ("", "GSM-7", 1, 0),
    ("a" * 160, "GSM-7", 1, 160),
    ("a" * 161, "GSM-7", 2, 161),
    ("a" * 306, "GSM-7", 2, 306),
    ("a" * 307, "GSM-7", 3, 307),
    ("a" * 459, "GSM-7", 3, 459),
    ("a" * 460, "GSM-7", 4, 460),
    ("€" * 80, "GSM-7", 1, 160),
    ("€" * 80 + "a", "GSM-7", 2, 161),
    ("a" * 159 + "€", "GSM-7", 2, 161),
    # 152 septets, then an escape sequence that cannot be split: it starts part two,
    # so 306 septets need three parts here.
    ("a" * 152 + "€" + "a" * 151, "GSM-7", 2, 305),
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 3, 306),
    ("a" * 151 + "€" + "a" * 153, "GSM-7", 2, 306),
    ("ɛ" * 70, "UCS-2", 1, 70),
    ("ɛ" * 71, "UCS-2", 2, 71),
    ("ɛ" * 134, "UCS-2", 2, 134),
    ("ɛ" * 135, "UCS-2", 3, 135),
    ("👍" * 35, "UCS-2", 1, 70),
    ("👍" * 35 + "a", "UCS-2", 2, 71),
    # 66 units, then a surrogate pair that cannot be split across parts.
    ("ɛ" * 66 + "👍" + "ɛ" * 66, "UCS-2", 3, 134),
    ("ɛ" * 65 + "👍" + "ɛ" * 67, "UCS-2", 2, 134),
])
def test_count(text, encoding, segments, units):
    result = gsm.count(text)
    assert (result.encoding, result.segments, result.units) == (encoding, segments, units)
    assert result.characters == len(text)
    assert gsm.encoding(text) == encoding
    assert gsm.segments(text) == segments


def test_one_non_gsm_character_switches_the_whole_text_to_ucs2():
    text = "Merci pour votre réponse, votre avis compte beaucoup pour le centre de santé. " * 2
    assert gsm.count(text).segments == 1
    assert gsm.count(text + "ç").encoding == "UCS-2"
    assert gsm.count(text + "ç").segments == 3
    assert gsm.count(gsm.prepare_sms(text + "ç")).segments == 1


def test_fit():
    assert gsm.fit("a" * 160, 1)
    assert not gsm.fit("a" * 161, 1)
    assert gsm.fit("a" * 161, 2)
