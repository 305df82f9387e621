"""The free-text answers of a centre, by ISO week, for the change team's meeting.

A comment carries its week, its step and its text: never its session, contact, answer id
or time. Weeks come newest first; within a week the order is that of a keyed hash of the
answer's id (HMAC with a key the caller derives from the gateway's secret), so that the
list does not tell who answered first. The text is as filed (numbers already masked);
pages mask it again before showing it. SQL only: no Flask.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import math
from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.errors import NotFoundError
from gateway.models import Answer, Center, SurveySession

PER_PAGE = 25


@dataclasses.dataclass(frozen=True)
class Comment:
    """One free-text answer: its ISO week, the step it answers, and its text."""

    week: str
    step: str
    text: str


@dataclasses.dataclass(frozen=True)
class CommentPage:
    """One page of a centre's comments, and how many there are in all."""

    comments: list[Comment]
    total: int
    page: int
    pages: int


def center_comments(db: so.Session, center_code: str, *, steps: Iterable[tuple[str, str]],
                    start: str, end: str, key: bytes, page: int = 1,
                    per_page: int = PER_PAGE) -> CommentPage:
    """Return page `page` of the texts answered at `steps` ((flow, step) pairs) in start..end.

    Weeks are "YYYY-Www", both included; a page past the last gives an empty list. Raises
    NotFoundError for an unknown centre.
    """
    center_id = db.scalar(sa.select(Center.id).where(Center.code == center_code))
    if center_id is None:
        raise NotFoundError(f"no centre with code {center_code!r}")
    steps = list(steps)
    if not steps:
        return CommentPage([], 0, 1, 1)
    rows = db.execute(sa.select(Answer.id, Answer.week)
                      .join(SurveySession, SurveySession.id == Answer.session_id)
                      .where(*_texts(center_id, steps, start, end))).all()
    rows.sort(key=lambda row: _order_key(row.week, row.id, key))
    pages = max(1, math.ceil(len(rows) / per_page))
    chosen = [row.id for row in rows[(page - 1) * per_page:page * per_page]]
    found = {row.id: Comment(row.week, row.step_id, row.value) for row in db.execute(
        sa.select(Answer.id, Answer.week, Answer.step_id, Answer.value)
        .where(Answer.id.in_(chosen)))} if chosen else {}
    return CommentPage([found[i] for i in chosen], len(rows), page, pages)


def _texts(center_id: int, steps: list[tuple[str, str]], start: str,
           end: str) -> list[sa.ColumnElement[bool]]:
    """Return the conditions of a centre's non-empty answers to the text steps."""
    at_steps = sa.or_(*(sa.and_(SurveySession.flow_id == flow, Answer.step_id == step)
                        for flow, step in steps))
    return [Answer.center_id == center_id, Answer.week.between(start, end), at_steps,
            Answer.value != ""]


def _order_key(week: str, answer_id: int, key: bytes) -> tuple[int, str]:
    """Sort newest week first, then by a keyed hash that no clock can be read from."""
    year, number = int(week[:4]), int(week[-2:])
    digest = hmac.new(key, str(answer_id).encode(), hashlib.sha256).hexdigest()
    return (-(year * 100 + number), digest)
