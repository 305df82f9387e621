"""The dashboard's gettext catalog: every string of its pages is in the template, in French."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from gateway import i18n

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _ids(path: Path, locale: str | None = None) -> dict:
    with path.open("rb") as fp:
        return {m.id: m for m in read_po(fp, locale=locale) if m.id}


def test_the_template_holds_every_string_the_pages_use() -> None:
    mapping = [("gateway/web/dashboard/templates/**.html", "jinja2"),
               ("gateway/web/dashboard/**.py", "python")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    used = {message if isinstance(message, str) else tuple(message)
            for _, _, message, _, _ in extract_from_dir(str(ROOT), mapping, keywords=keywords)}
    template = _ids(i18n.LOCALES_DIR / "dashboard.pot")
    assert used == set(template)


def test_french_translates_every_entry_with_its_placeholders() -> None:
    template = _ids(i18n.LOCALES_DIR / "dashboard.pot")
    french = _ids(i18n.LOCALES_DIR / "fr" / "LC_MESSAGES" / "dashboard.po", "fr")
    assert set(french) == set(template)
    for msgid, message in french.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        first = msgid[0] if isinstance(msgid, tuple) else msgid
        for text in strings:
            assert text.strip() and not message.fuzzy, msgid
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(first)), msgid


def test_english_is_the_msgids_and_bambara_falls_back_to_french() -> None:
    assert i18n.dashboard_translations("en").gettext("Log in") == "Log in"
    assert i18n.dashboard_translations("fr").gettext("Log in") == "Connexion"
    assert i18n.dashboard_translations("bm").gettext("Log in") == "Connexion"
