"""Score rows as a terminal table, French-spreadsheet CSV and JSON."""

from __future__ import annotations

import csv
import io
import json

from reports import exports
from reports.scores import ScoreRow
from reports.series import Point

SHOWN = ScoreRow(center="CS01", week="2025-W10", dimension="respect", level="dimension",
                 respondents=10, answers=10, mean=80.0, top_box=80.0,
                 ci_low=49.01624691221323, ci_high=94.33178490622331, suppressed=False)
HIDDEN = ScoreRow(center="CS01", week="2025-W10", dimension="waiting", level="dimension",
                  respondents=5, answers=5, mean=None, top_box=None, ci_low=None, ci_high=None,
                  suppressed=True)
ACCENTED = ScoreRow(center="CSCOM-SÉGOU", week="2025-W10", dimension="overall",
                    level="overall", respondents=12, answers=40, mean=66.66666666666667,
                    top_box=62.5, ci_low=35.25, ci_high=83.75, suppressed=False)


def test_csv_opens_in_a_french_spreadsheet() -> None:
    text = exports.to_csv([SHOWN, HIDDEN, ACCENTED])
    raw = text.encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows == [
        ["center", "week", "dimension", "level", "respondents", "mean", "top_box", "ci_low",
         "ci_high", "suppressed"],
        ["CS01", "2025-W10", "respect", "dimension", "10", "80,0", "80,0", "49,0", "94,3",
         "false"],
        ["CS01", "2025-W10", "waiting", "dimension", "5", "", "", "", "", "true"],
        ["CSCOM-SÉGOU", "2025-W10", "overall", "overall", "12", "66,7", "62,5", "35,3", "83,8",
         "false"],
    ]


def test_json_is_the_contract_list_rounded_to_one_decimal() -> None:
    assert json.loads(exports.to_json([SHOWN, HIDDEN])) == [
        {"center": "CS01", "week": "2025-W10", "dimension": "respect", "level": "dimension",
         "respondents": 10, "answers": 10, "mean": 80.0, "top_box": 80.0, "ci_low": 49.0,
         "ci_high": 94.3, "suppressed": False},
        {"center": "CS01", "week": "2025-W10", "dimension": "waiting", "level": "dimension",
         "respondents": 5, "answers": 5, "mean": None, "top_box": None, "ci_low": None,
         "ci_high": None, "suppressed": True},
    ]


def test_table_says_when_there_were_too_few_responses() -> None:
    assert exports.to_table([SHOWN, HIDDEN, ACCENTED], min_respondents=10).splitlines() == [
        "centre       week      dimension  level      resp.  mean  top box  95% CI",
        "CS01         2025-W10  respect    dimension     10  80.0     80.0  49.0–94.3",
        "CS01         2025-W10  waiting    dimension      5  too few responses (< 10)",
        "CSCOM-SÉGOU  2025-W10  overall    overall       12  66.7     62.5  35.3–83.8",
    ]


def test_run_chart_points_export_like_the_scores() -> None:
    points = [Point(period="2026-W10", respondents=12, mean=71.25, top_box=62.5,
                    top_box_hits=7.5, ci_low=35.25, ci_high=83.75, suppressed=False),
              Point(period="2026-W11", respondents=0, mean=None, top_box=None,
                    top_box_hits=None, ci_low=None, ci_high=None, suppressed=True)]
    text = exports.series_to_csv("CSCOM-SÉGOU", "week", [("overall", points),
                                                         ("respect", points[1:])])
    assert text.startswith(exports.BOM)
    rows = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))
    assert rows == [
        ["center", "dimension", "interval", "period", "respondents", "mean", "top_box",
         "top_box_hits", "ci_low", "ci_high", "suppressed"],
        ["CSCOM-SÉGOU", "overall", "week", "2026-W10", "12", "71,3", "62,5", "7,5", "35,3",
         "83,8", "false"],
        ["CSCOM-SÉGOU", "overall", "week", "2026-W11", "0", "", "", "", "", "", "true"],
        ["CSCOM-SÉGOU", "respect", "week", "2026-W11", "0", "", "", "", "", "", "true"],
    ]
