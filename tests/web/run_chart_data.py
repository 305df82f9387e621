"""A centre whose run chart has a known shift: ten weeks around 50, then ten weeks at 90.

Each week ten mothers answer `respect` (and so the patient-experience area and overall):
weeks 1-10 alternate 40 and 60 (median 50, nine crossings), weeks 11-20 are all 90 (top
box). Week 16 has too few mothers and is suppressed: 19 points are shown.

On one phase: median 60 (the five 60s sit on it: 14 useful points), the nine 90s a run
above it (longest run 9 > 7, 1 crossing < 4): a signal. With a `freeze` cycle starting in
week 11: median 50 of the baseline, the nine after points all above it (longest run 9 > 6,
0 crossings < 2): a signal against the baseline.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy.orm as so

from gateway.models import Center
from reports import periods
from tests.reports.dataset import Dataset

WEEKS = 20
SHIFT_AT = 10  # index of the first week at 90
SUPPRESSED_AT = 15  # index of the week with too few mothers
MOTHERS = 10


def build_shift(db: so.Session, center: Center, last_week: str) -> list[str]:
    """Add the twenty weeks ending at `last_week` to `center`; return the weeks."""
    data = Dataset(db)
    weeks = periods.weeks_between(periods.weeks_back(last_week, WEEKS - 1), last_week)
    for index, week in enumerate(weeks):
        if index >= SHIFT_AT:
            answer = (90.0, True)
        else:
            answer = (40.0, False) if index % 2 == 0 else (60.0, False)
        for _ in range(3 if index == SUPPRESSED_AT else MOTHERS):
            data.session(center, week, {"respect": answer})
    return weeks


def shift_start(weeks: list[str]) -> dt.date:
    """Return the Monday the shift begins: where a cycle that caused it would start."""
    return periods.monday_of(weeks[SHIFT_AT])
