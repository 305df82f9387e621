"""Reading a responses file: the flow's own steps decide what a value means."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.baseline import parse_responses, session_key
from gateway.engine.definition import parse_flow
from gateway.errors import ResponseImportError

FLOW = parse_flow("""
id: demo
title: {fr: Démo, bm: Demo}
languages: [fr, bm]
dimensions:
  - {id: respect, area: patient_experience, label: {fr: Respect, bm: Bonya}}
steps:
  - id: respect
    type: rating
    dimension: respect
    text: {fr: "Respect ?", bm: "Bonya?"}
    options:
      - {value: "2", score: 100, fr: Bien, bm: Ɲɛ}
      - {value: "1", score: 0, fr: Mal, bm: Jugu}
  - id: visits
    type: number
    min: 0
    max: 12
    text: {fr: "Combien ?", bm: "Joli?"}
  - id: comment
    type: text
    optional: true
    max_length: 10
    text: {fr: "Commentaire ?", bm: "Kuma?"}
""", "demo.yaml")
CENTERS = {"CS01": "CS01"}
TODAY = dt.date(2026, 3, 10)
HEADER = "center,date,respondent,step,value\n"


def parse(lines: str):
    return parse_responses(HEADER + lines, FLOW, CENTERS, TODAY, "f.csv")


def test_an_option_is_its_value_not_its_menu_number() -> None:
    # Option "1" is second on the menu: read as a menu number, "1" would pick option "2".
    respondents, _ = parse("CS01,2026-03-02,A,respect,1\nCS01,2026-03-02,B,respect,2\n")
    scores = {r.respondent: r.answers["respect"].answer for r in respondents}
    assert (scores["A"].score, scores["A"].top_box) == (0, False)
    assert (scores["B"].score, scores["B"].top_box) == (100, True)


def test_numbers_and_texts_are_read_by_their_step() -> None:
    respondents, summary = parse("CS01,2026-03-02,A,visits, 3 \n"
                                 "CS01,2026-03-02,A,comment,un commentaire trop long\n"
                                 "CS01,2026-03-02,B,visits,quatre\n"
                                 "CS01,2026-03-02,B,comment,0\n")
    a, b = respondents
    assert a.answers["visits"].answer.value == "3"
    assert a.answers["comment"].answer.value == "un comment"  # max_length 10
    assert b.answers["visits"].answer.value == "4"
    assert "comment" not in b.answers  # "0" skips an optional text, as on a phone
    assert summary.rows == 4


def test_a_number_out_of_range_names_the_range() -> None:
    with pytest.raises(ResponseImportError) as raised:
        parse("CS01,2026-03-02,A,visits,13\nCS01,2026-03-02,A,visits,\n")
    assert raised.value.errors == [
        "f.csv:2: value '13' is not accepted by step 'visits' (a whole number from 0 to 12)"]


def test_a_file_of_blank_answers_has_nothing_to_import() -> None:
    with pytest.raises(ResponseImportError) as raised:
        parse("CS01,2026-03-02,A,visits,\n")
    assert raised.value.errors == ["f.csv:2: no answers in the file"]


def test_the_session_key_is_keyed_and_stable() -> None:
    key = session_key("s1", "demo", "cs01", dt.date(2026, 3, 2), "A")
    assert key == session_key("s1", "demo", "CS01", dt.date(2026, 3, 2), "A")
    assert key.startswith("imported:") and len(key) <= 200
    assert key != session_key("s2", "demo", "CS01", dt.date(2026, 3, 2), "A")
    assert key != session_key("s1", "demo", "CS01", dt.date(2026, 3, 2), "B")
