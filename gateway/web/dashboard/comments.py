"""A centre's comments: the free-text answers of its mothers, for the team's meeting.

    GET /dashboard/centers/<code>/comments?from=YYYY-Www&to=YYYY-Www&step=FLOW.STEP&page=N

The survey promises anonymity, so a comment shows its week and its text only: no phone,
contact, session or answer id, in the page or its links, and no day or hour. Within a week
the order is a keyed hash (reports.comments), not the time; the current week is left out
until it ends, so that a comment appearing on the page does not date it to the day. Numbers
are masked again before showing, whatever filing did.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import g, render_template, request

from gateway.db import session_scope
from gateway.errors import ArgumentError
from gateway.models import utcnow
from gateway.phones import mask_numbers_in_text
from gateway.web import charts
from gateway.web.dashboard import blueprint
from gateway.web.dashboard.access import center_for, current_viewer, login_required, services
from reports import comments as comment_queries
from reports import periods
from reports.periods import WEEK

DEFAULT_WEEKS = 13  # a quarter: what a monthly meeting looks back over


@blueprint.get("/centers/<code>/comments")
@login_required()
def comments(code: str):
    """List a centre's comments, newest week first, a page at a time."""
    settings = services().settings
    steps = text_steps()
    chosen = [s for s in steps if _step_param(s) == request.args.get("step")] or steps
    try:
        start, end = _weeks(request.args.get("from"), request.args.get("to"))
        page = _page(request.args.get("page"))
    except ArgumentError as error:
        return _page_of(code, steps, None, None, None, str(error).partition(": ")[0]), 400
    with session_scope(services().sessionmaker) as db:
        center = center_for(current_viewer(), code, db)
        found = comment_queries.center_comments(
            db, center.code, steps=chosen, start=start, end=end, page=page,
            key=order_key(settings.secret_key))
        return render_template("dashboard/comments.html", center=center, found=found,
                               shown=_shown(found.comments, chosen if len(steps) > 1 else []),
                               start=start, end=end, steps=_step_choices(steps),
                               step=request.args.get("step", ""), bad=None,
                               week_name=lambda w: charts.period_name(w, g.language))


def text_steps() -> list[tuple[str, str]]:
    """Return the (flow, step) pairs of every text step of the live flows."""
    return sorted((flow.id, step.id) for flow in services().flows.flows.values()
                  for step in flow.steps.values() if step.type_name == "text")


def order_key(secret: str) -> bytes:
    """Return the key that orders comments within a week, derived from the gateway's secret."""
    return hmac.new(secret.encode(), b"kuma comments order", hashlib.sha256).digest()


def _weeks(start: str | None, end: str | None) -> tuple[str, str]:
    """Return the weeks asked for, the last ending no later than the last complete week."""
    last = periods.last_complete(WEEK, periods.local_today(utcnow(), services().settings.tz))
    end = periods.parse_period(end, WEEK, "to") if end else last
    start = (periods.parse_period(start, WEEK, "from") if start
             else periods.weeks_back(min(end, last), DEFAULT_WEEKS - 1))
    periods.check_period_range(start, end, WEEK, names=("from", "to"))
    return start, min(end, last)


def _page(text: str | None) -> int:
    if not text:
        return 1
    if not text.isdigit() or not 0 < int(text) < 100_000:
        raise ArgumentError("page: expected a page number")
    return int(text)


def _page_of(code: str, steps, start, end, found, bad: str):
    """Answer a request with a bad filter: the page with the filter form and its error."""
    center = center_for(current_viewer(), code)
    return render_template("dashboard/comments.html", center=center, found=found, shown=[],
                           start=request.args.get("from", ""), end=request.args.get("to", ""),
                           steps=_step_choices(steps), step=request.args.get("step", ""),
                           bad=bad, week_name=lambda w: charts.period_name(w, g.language))


def _step_param(step: tuple[str, str]) -> str:
    return f"{step[0]}.{step[1]}"


def _shown(found: list[comment_queries.Comment],
           steps: list[tuple[str, str]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Return [(week, [(question or "", masked text)])], weeks in the order found."""
    flows = services().flows.flows
    questions = {step: _question(flows[flow].steps[step].text) for flow, step in steps}
    weeks: dict[str, list[tuple[str, str]]] = {}
    for comment in found:
        weeks.setdefault(comment.week, []).append(
            (questions.get(comment.step, ""), mask_numbers_in_text(comment.text)))
    return list(weeks.items())


def _step_choices(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return (param, question in her language) for the step filter, if there is a choice."""
    if len(steps) < 2:
        return []
    flows = services().flows.flows
    return [(_step_param(s), _question(flows[s[0]].steps[s[1]].text)) for s in steps]


def _question(text) -> str:
    return text.get(g.language) or text.get("fr") or next(iter(text.values()), "")
