"""The README's promises stay true: its settings table is the one the code has."""

from __future__ import annotations

from pathlib import Path

from gateway.settings import markdown_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_settings_table_in_the_readme_is_generated_from_settings():
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- settings-table -->")[1].split("<!-- /settings-table -->")[0]
    assert table.strip() == markdown_table().strip()


def test_the_readme_names_every_cli_command():
    from gateway.cli import COMMANDS

    text = README.read_text(encoding="utf-8")
    missing = [name for name in COMMANDS
               if f"gateway {name}" not in text and name not in ("db", "worker", "scheduler")]
    assert not missing, f"README does not show: {missing}"
