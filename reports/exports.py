"""Score rows and run-chart points as a terminal table, CSV for French spreadsheets, or JSON.

Figures are rounded to one decimal here, and only here: reports.scores keeps them exact.

CSV is written for Excel and LibreOffice as set up in France and Mali: UTF-8 with a byte
order mark (without it Excel reads the file as Windows-1252 and mangles "é"), `;` between
fields and a decimal comma (a French locale reads `80.5` as text and `80,5` as a number).
The header uses the field names of the JSON; null figures are empty cells and
`suppressed` is `true` or `false`.
"""

from __future__ import annotations

import csv
import io
import dataclasses
import json
from collections.abc import Iterable, Sequence

from gateway.i18n import round_half_up
from reports.scores import ScoreRow
from reports.series import Point

DECIMALS = 1
BOM = "\ufeff"
CSV_FIELDS = ("center", "week", "dimension", "level", "respondents", "mean", "top_box",
              "ci_low", "ci_high", "suppressed")
SERIES_FIELDS = ("center", "dimension", "interval", "period", "respondents", "mean", "top_box",
                 "top_box_hits", "ci_low", "ci_high", "suppressed")
FIGURES = ("mean", "top_box", "top_box_hits", "ci_low", "ci_high")
TOO_FEW = "too few responses"


def as_dicts(rows: Sequence[ScoreRow]) -> list[dict]:
    """Return the rows as the contract's JSON objects, figures rounded to one decimal."""
    return [row.as_dict(DECIMALS) for row in rows]


def to_json(rows: Sequence[ScoreRow]) -> str:
    """Return the rows as a JSON list of objects."""
    return json.dumps(as_dicts(rows), ensure_ascii=False, indent=2)


def _decimal_comma(value: float | None) -> str:
    return "" if value is None else _percent(value).replace(".", ",")


def to_csv(rows: Sequence[ScoreRow]) -> str:
    """Return the rows as CSV text for a French spreadsheet, BOM first (encode as UTF-8)."""
    return _csv(CSV_FIELDS, (row.as_dict() for row in rows))


def series_to_csv(center: str, interval: str,
                  charts: Iterable[tuple[str, Sequence[Point]]]) -> str:
    """Return run-chart points as CSV, as to_csv writes scores: a row per chart and period.

    `charts` pairs a dimension (an id, an area or `overall`) with its points.
    """
    return _csv(SERIES_FIELDS, ({"center": center, "dimension": dimension, "interval": interval,
                                 **dataclasses.asdict(point)}
                                for dimension, points in charts for point in points))


def _csv(fields: Sequence[str], rows: Iterable[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(fields)
    for values in rows:
        writer.writerow([_decimal_comma(values[field]) if field in FIGURES
                         else str(values[field]).lower() if field == "suppressed"
                         else values[field] for field in fields])
    return BOM + buffer.getvalue()


def _percent(value: float | None) -> str:
    return "" if value is None else f"{round_half_up(value, DECIMALS):.{DECIMALS}f}"


def to_table(rows: Sequence[ScoreRow], *, min_respondents: int) -> str:
    """Return the rows as an aligned text table; suppressed rows say there were too few."""
    header = ("centre", "week", "dimension", "level", "resp.", "mean", "top box", "95% CI")
    lines = [header]
    for row in rows:
        if row.suppressed:
            figures = (f"{TOO_FEW} (< {min_respondents})", "", "")
        else:
            interval = ("" if row.ci_low is None
                        else f"{_percent(row.ci_low)}–{_percent(row.ci_high)}")
            figures = (_percent(row.mean), _percent(row.top_box), interval)
        lines.append((row.center, row.week, row.dimension, row.level, str(row.respondents),
                      *figures))
    widths = [max(len(line[i]) for line in lines if not _spans(line, i)) for i in range(8)]
    right = {4, 5, 6}
    out = []
    for line in lines:
        cells = []
        for i, cell in enumerate(line):
            if _spans(line, i):  # the "too few responses" note runs over the empty columns
                cells.append(cell)
                break
            cells.append(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]))
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _spans(line: tuple[str, ...], i: int) -> bool:
    return i == 5 and line[5].startswith(TOO_FEW)
