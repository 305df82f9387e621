"""The words people type: a staff phone's visit command, a survey keyword and code."""

from __future__ import annotations

import pytest

from gateway import keywords


@pytest.mark.parametrize(("text", "expected"), [
    ("VISITE 76123456", "76123456"),
    ("visite 76 12 34 56", "76123456"),
    ("Visité +223 76-12-34-56.", "+22376123456"),
    ("TAALI 76123456", "76123456"),
    ("taali", ""),
    ("VISITE", ""),
    ("1", None),
    ("AVIS 07", None),
    ("", None),
    ("visiter 76123456", None),
])
def test_a_visit_command_names_the_number_to_invite(text, expected):
    assert keywords.visit_command(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("AVIS 07", (None, "07")),
    ("hakilina cs01", (None, "CS01")),
    ("BANCONI", ("BANCONI", None)),
    ("avis", ("AVIS", None)),
    ("", (None, None)),
])
def test_a_survey_keyword_with_a_code_names_the_centre(text, expected):
    assert keywords.survey_code(text) == expected
