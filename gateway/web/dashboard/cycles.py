"""A centre's PDSA cycles: list, new, show (with its before and after), edit, close.

    GET       /dashboard/centers/<code>/pdsa
    GET/POST  /dashboard/centers/<code>/pdsa/new
    GET       /dashboard/centers/<code>/pdsa/<id>
    GET/POST  /dashboard/centers/<code>/pdsa/<id>/edit
    GET/POST  /dashboard/centers/<code>/pdsa/<id>/close

A team edits only her centre's cycles (any other answers 404, as an unknown one does);
coordinators every centre's. Fields are checked by gateway.pdsa, as the API and CLI are.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date, format_datetime
from flask import abort, g, redirect, render_template, url_for

from gateway import pdsa
from gateway.db import session_scope
from gateway.errors import ArgumentError, NotFoundError
from gateway.i18n import dashboard_translations
from gateway.models import PdsaCycle, utcnow
from gateway.web import charts
from gateway.web.dashboard import blueprint, cycle_form
from gateway.web.dashboard.access import center_for, current_viewer, login_required, services
from reports import before_after, periods
from reports.runchart import period_bounds
from reports.scores import OVERALL

ID_LIMIT = 2**31  # the id column's range: a larger id in a URL names no cycle
EDIT_FIELDS = ("title", "change", "area", "dimension", "prediction", "started_on", "ended_on",
               "plan", "do", "study", "act", "notes", "baseline")


@blueprint.get("/centers/<code>/pdsa")
@login_required()
def cycles(code: str):
    """List a centre's cycles, the latest start first."""
    with session_scope(services().sessionmaker) as db:
        center = center_for(current_viewer(), code, db)
        found = list(reversed(pdsa.list_cycles(db, [center.code])))
        return render_template("dashboard/cycles.html", center=center, cycles=found,
                               **_helpers())


@blueprint.route("/centers/<code>/pdsa/new", methods=["GET", "POST"])
@login_required()
def new_cycle(code: str):
    """Show the form of a new cycle; on a good POST add it and show it."""
    center = center_for(current_viewer(), code)
    form = _form(cycle_form.CycleForm(data={"started_on": _today().isoformat()}))
    if not form.is_submitted():
        return _edit_page(center, form, None, {})
    fields, errors = cycle_form.check(cycle_form.values(form, EDIT_FIELDS), _vocabulary(),
                                      partial=False)
    if errors:
        return _edit_page(center, form, None, errors), 400
    try:
        with session_scope(services().sessionmaker) as db:
            cycle = pdsa.create_cycle(db, center.code, fields, by=_by(), today=_today())
            cycle_id = cycle.id
    except ArgumentError as error:
        return _edit_page(center, form, None, _beside(error)), 400
    return redirect(url_for("dashboard.cycle", code=center.code, cycle_id=cycle_id), 303)


@blueprint.get("/centers/<code>/pdsa/<int:cycle_id>")
@login_required()
def cycle(code: str, cycle_id: int):
    """Show a cycle, who wrote it, and its before against its after."""
    settings = services().settings
    with session_scope(services().sessionmaker) as db:
        center = center_for(current_viewer(), code, db)
        found = _cycle(db, center.code, cycle_id)
        effect = before_after.compare(
            db, center.code, started_on=found.started_on, ended_on=found.ended_on,
            dimension=_target(found), today=_today(),
            min_respondents=settings.min_respondents, tz=settings.tz, title=found.title)
        return render_template("dashboard/cycle.html", center=center, cycle=found,
                               effect=effect, chart=_effect_chart(effect, found),
                               **_helpers())


@blueprint.route("/centers/<code>/pdsa/<int:cycle_id>/edit", methods=["GET", "POST"])
@login_required()
def edit_cycle(code: str, cycle_id: int):
    """Show a cycle's form; on a good POST save the changes."""
    names = EDIT_FIELDS + ("status", "decision")
    with session_scope(services().sessionmaker) as db:
        center = center_for(current_viewer(), code, db)
        found = _cycle(db, center.code, cycle_id)
        form = _form(cycle_form.CycleForm(data=_form_values(found)))
        if not form.is_submitted():
            return _edit_page(center, form, found, {})
        fields, errors = cycle_form.check(cycle_form.values(form, names), _vocabulary(),
                                          partial=True)
        if not errors:
            try:
                with db.begin_nested():
                    pdsa.update_cycle(db, found, fields, by=_by())
            except ArgumentError as error:
                errors = _beside(error)
        if errors:
            return _edit_page(center, form, found, errors), 400
    return redirect(url_for("dashboard.cycle", code=center.code, cycle_id=cycle_id), 303)


@blueprint.route("/centers/<code>/pdsa/<int:cycle_id>/close", methods=["GET", "POST"])
@login_required()
def close_cycle(code: str, cycle_id: int):
    """Ask for the decision and the end date; on a good POST close the cycle."""
    with session_scope(services().sessionmaker) as db:
        center = center_for(current_viewer(), code, db)
        found = _cycle(db, center.code, cycle_id)
        form = _form(cycle_form.CloseForm(data={
            "decision": str(found.decision or ""),
            "ended_on": (found.ended_on or _today()).isoformat()}))
        errors = {}
        if form.is_submitted():
            errors = _close(db, found, cycle_form.values(form, ("decision", "ended_on")))
            if not errors:
                return redirect(url_for("dashboard.cycle", code=center.code,
                                        cycle_id=cycle_id), 303)
        page = render_template("dashboard/cycle_close.html", center=center, cycle=found,
                               form=form, errors=errors, **_helpers())
        return page, 400 if errors else 200


def _close(db, cycle: PdsaCycle, data: dict[str, str]) -> dict[str, tuple[str, dict]]:
    """Close `cycle` from the form's values; return the errors by field (none: closed)."""
    if not data["decision"]:
        return {"decision": (cycle_form.CHOOSE, {})}
    fields, errors = cycle_form.check(data, _vocabulary(), partial=True)
    if errors:
        return errors
    if fields.get("ended_on") is None:
        return {"ended_on": (cycle_form.REQUIRED, {})}
    try:
        with db.begin_nested():
            pdsa.close_cycle(db, cycle, decision=data["decision"], ended_on=fields["ended_on"],
                             by=_by())
    except ArgumentError as error:
        return _beside(error)
    return {}


def _edit_page(center, form, cycle: PdsaCycle | None, errors: dict) -> str:
    return render_template("dashboard/cycle_form.html", center=center, form=form, cycle=cycle,
                           errors=errors, **_helpers())


def _form(form):
    cycle_form.fill_choices(form, _vocabulary(), _dimension_names(), _gettext)
    return form


def _cycle(db, code: str, cycle_id: int) -> PdsaCycle:
    if cycle_id >= ID_LIMIT:
        abort(404)
    try:
        return pdsa.get_cycle(db, code, cycle_id)
    except NotFoundError:
        abort(404)


def _form_values(cycle: PdsaCycle) -> dict[str, str]:
    shown = pdsa.cycle_dict(cycle)
    return {name: shown[name] or "" for name in EDIT_FIELDS + ("status", "decision")}


def _beside(error: ArgumentError) -> dict[str, tuple[str, dict]]:
    return {cycle_form.field_of(error): cycle_form.message_of(error)}


def _target(cycle: PdsaCycle) -> str:
    """Return what the before/after figures measure: the cycle's dimension, area or overall."""
    return cycle.dimension or cycle.area or OVERALL


def _effect_chart(effect: before_after.BeforeAfter, cycle: PdsaCycle) -> dict | None:
    if effect.chart is None:
        return None
    lang = g.language
    return {"svg": charts.svg(effect.chart, lang, title=cycle.title, chart_id="before-after"),
            "sentences": charts.explain(effect.chart, lang)}


def _vocabulary() -> pdsa.Vocabulary:
    return pdsa.Vocabulary.of(services().flows.flows.values())


def _dimension_names() -> dict[str, str]:
    """Return each scored dimension's name in the viewer's language (French if none)."""
    names = {}
    for flow in services().flows.flows.values():
        for dimension in flow.dimensions.values():
            label = dimension.label
            names[dimension.id] = label.get(g.language) or label.get("fr") or dimension.id
    return names


def _target_name(target: str | None) -> str:
    if not target:
        return "—"
    if target == OVERALL:
        return _gettext(cycle_form.OVERALL_NAME)
    if target in cycle_form.AREA_NAMES:
        return _gettext(cycle_form.AREA_NAMES[target])
    return _dimension_names().get(target, target)


def _helpers() -> dict:
    """Return what the cycle templates format with, in the viewer's language."""
    lang, tz = g.language, services().settings.tz
    return {
        "target_name": _target_name,
        "status_name": lambda s: _gettext(cycle_form.STATUS_NAMES[s]) if s else "—",
        "decision_name": lambda d: _gettext(cycle_form.DECISION_NAMES[d]) if d else "—",
        "baseline_name": lambda b: _gettext(cycle_form.BASELINE_NAMES[b or ""]),
        "span": lambda side: _span(side, lang),
        "number": lambda v: charts.number(v, lang),
        "percent": lambda v: charts.percent(v, lang),
        "day": lambda d: format_date(d, "d MMM y", locale=lang),
        "moment": lambda m: format_datetime(m, "d MMM y HH:mm", tzinfo=tz, locale=lang),
    }


def _span(side: before_after.Side, lang: str) -> str:
    """Return the days a side covers, short: "10 août – 4 oct. 2026"."""
    first, last = period_bounds(side.first)[0], period_bounds(side.last)[1]
    return (f"{format_date(first, 'd MMM', locale=lang)} – "
            f"{format_date(last, 'd MMM y', locale=lang)}")


def _gettext(msgid: str, **params: object) -> str:
    text = dashboard_translations(g.language).gettext(msgid)
    return text % params if params else text


def _today() -> dt.date:
    return periods.local_today(utcnow(), services().settings.tz)


def _by() -> str:
    return current_viewer().username
