"""USSD input handling: the one new input, centre extensions, and the CON/END body."""

from __future__ import annotations

import pytest

from gateway.channels.africastalking import follows, new_input, render_ussd, split_service_code
from gateway.errors import ReplyError

NEW_INPUT_CASES = [
    ("first request, just dialled", None, "", ""),
    ("first request carrying input", None, "07", "07"),
    ("first answer after the opening screen", "", "1", "1"),
    ("third answer", "1*2", "1*2*5", "5"),
    ("free text holding a star", "1*2", "1*2*rue 5*porte 3", "rue 5*porte 3"),
    ("answer after a free text with a star", "1*rue 5*3", "1*rue 5*3*4", "4"),
    ("empty answer", "1*2", "1*2*", ""),
    ("provider retry of the same request", "1*2", "1*2", None),
    ("retry of the opening request", "", "", None),
    ("aggregator sending only the latest input", "1*2", "4", "4"),
]


@pytest.mark.parametrize(("label", "previous", "text", "expected"), NEW_INPUT_CASES,
                         ids=[c[0] for c in NEW_INPUT_CASES])
def test_new_input(label, previous, text, expected):
    assert new_input(previous, text) == expected


SPLIT_CASES = [
    # label, serviceCode, text, base_codes, expected
    ("extension in the service code", "*384*123*07#", "", ["*384*123#"], ("*384*123#", "07", "")),
    ("extension moved into text", "*384*123#", "07", ["*384*123#"], ("*384*123#", "07", "")),
    ("extension in text with an input typed ahead", "*384*123#", "07*1", ["*384*123#"],
     ("*384*123#", "07", "1")),
    ("base code alone", "*384*123#", "", ["*384*123#"], ("*384*123#", None, "")),
    ("longest base wins", "*384*123*07#", "", ["*384#", "*384*123#"], ("*384*123#", "07", "")),
    ("code that is none of ours", "*555*1#", "07", ["*384*123#"], ("*555*1#", None, "07")),
    ("no bases: three parts", "*384*123*07#", "", [], ("*384*123#", "07", "")),
    ("no bases: extension in text", "*384*123#", "07", [], ("*384*123#", "07", "")),
    ("no bases: two parts only", "*384*123#", "", [], ("*384*123#", None, "")),
    ("extension keeps its leading zero", "*384*123*007#", "", [], ("*384*123#", "007", "")),
    ("extra parts become input", "*384*123*07*2#", "", [], ("*384*123#", "07", "2")),
    ("base given without #", "*384*123*12#", "", ["*384*123"], ("*384*123#", "12", "")),
]


@pytest.mark.parametrize(("label", "code", "text", "bases", "expected"), SPLIT_CASES,
                         ids=[c[0] for c in SPLIT_CASES])
def test_split_service_code(label, code, text, bases, expected):
    assert split_service_code(code, text, base_codes=bases) == expected


@pytest.mark.parametrize(("text", "final", "expected"), [
    ("Votre avis compte.\n1. Oui\n2. Non", False, "CON Votre avis compte.\n1. Oui\n2. Non"),
    ("I ni ce!", True, "END I ni ce!"),
    ("x" * 178, True, "END " + "x" * 178),
])
def test_render_ussd(text, final, expected):
    assert render_ussd(text, final) == expected


def test_render_ussd_refuses_more_than_182_characters():
    with pytest.raises(ReplyError, match="183 characters"):
        render_ussd("x" * 179, final=False)


FOLLOWS_CASES = [
    ("the next screen's request", "1*2", "1*2*5", True),
    ("the same request again", "1*2", "1*2", True),
    ("the first answer after the dial", "", "1", True),
    ("two inputs on: another process served her", "1", "1*2*5", False),
    ("a free text holding a star: read first", "1", "1*rue 5*3", False),
    ("another session's text", "1*2", "3*4*5", False),
]


@pytest.mark.parametrize(("label", "answered", "text", "expected"), FOLLOWS_CASES,
                         ids=[c[0] for c in FOLLOWS_CASES])
def test_follows(label, answered, text, expected):
    assert follows(answered, text) is expected
