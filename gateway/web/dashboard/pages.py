"""The dashboard's pages: the overview of the centres she may see, and a centre's charts.

    GET /dashboard/                  overview (?sort=&order=&district=&page=&interval=)
    GET /dashboard/centers/<code>    run charts (?dimension=&measure=&interval=&from=&to=&chart=)

A value that cannot be used answers 400 with the page in her language; another centre
404 (access.center_for). The print page and the CSV export are in exports.py.
"""

from __future__ import annotations

import math

from babel.dates import format_date
from flask import g, render_template, request

from gateway import i18n

from gateway.db import session_scope
from gateway.errors import ArgumentError
from gateway.models import utcnow
from gateway.pdsa import Vocabulary, list_cycles
from gateway.statuses import PdsaStatus
from gateway.web import charting, charts
from gateway.web.dashboard import blueprint, center_charts, overview
from gateway.web.dashboard.access import (center_for, current_viewer, login_required, services,
                                          visible_centers)
from reports import periods
from reports.runchart import period_bounds


def today():
    """Return today's date in the gateway's time zone."""
    return periods.local_today(utcnow(), services().settings.tz)


@blueprint.context_processor
def formats() -> dict:
    """Give templates numbers, dates and periods written in the viewer's language."""
    lang = g.get("language", "fr")
    return {"number": lambda value, decimals=1: charts.number(value, lang, decimals),
            "percent": lambda value, decimals=0: charts.percent(value, lang, decimals),
            "signed": lambda value: signed(value, lang),
            "period_name": lambda period: charts.period_name(period, lang),
            "span": lambda start, end: span(start, end, lang),
            "date": lambda day: format_date(day, "d MMM y", locale="en" if lang == "en"
                                            else i18n.language(lang))}


def span(start: str, end: str, lang: str) -> str:
    """Return the days from the first of `start` to the last of `end`, years included."""
    locale = "en" if lang == "en" else i18n.language(lang)
    first, last = period_bounds(start)[0], period_bounds(end)[1]
    return f"{format_date(first, 'd MMM y', locale=locale)} – " \
        f"{format_date(last, 'd MMM y', locale=locale)}"


def signed(value: float, lang: str) -> str:
    """Return a change with its sign and one decimal ("+2,5")."""
    text = charts.number(abs(value), lang)
    rounded = charting.rounded(value)
    return ("+" if rounded > 0 else "−" if rounded < 0 else "") + text


@blueprint.errorhandler(ArgumentError)
def bad_value(error: ArgumentError):
    """Answer a query value that cannot be used: 400, naming it."""
    return render_template("dashboard/error.html", status=400, reason=None,
                           detail=str(error)), 400


@blueprint.get("/")
@login_required()
def index():
    """List the centres she may see with their latest complete period's figures."""
    listing = overview.read_listing(request.args)
    viewer, found = current_viewer(), services()
    with session_scope(found.sessionmaker) as db:
        codes = None if viewer.coordinator else [c.code for c in visible_centers(db, viewer)]
        period, lines = overview.overview_lines(db, codes, listing, today(), found.settings,
                                                found.redis)
        districts = overview.districts(db) if viewer.coordinator else []
    pages = max(1, math.ceil(len(lines) / overview.PAGE_SIZE))
    first = (min(listing.page, pages) - 1) * overview.PAGE_SIZE
    return render_template("dashboard/index.html", lines=lines[first:first + overview.PAGE_SIZE],
                           total=len(lines), period=period, listing=listing, pages=pages,
                           districts=districts, min_respondents=found.settings.min_respondents)


@blueprint.get("/centers/<code>")
@login_required()
def center(code: str):
    """Show a centre's run charts: overall, each QI area, a dimension on demand."""
    viewer, found = current_viewer(), services()
    vocabulary = Vocabulary.of(found.flows.flows.values())
    labels = center_charts.dimension_labels(found.flows.flows.values())
    with session_scope(found.sessionmaker) as db:
        place = center_for(viewer, code, db)
        interval = center_charts.default_interval(db, place.code, request.args, today(),
                                                  found.settings, vocabulary)
        query = charting.read_query(request.args, today(), interval=interval, chart=True)
        views = center_charts.center_charts(db, place.code, query, found.settings,
                                            vocabulary=vocabulary, labels=labels,
                                            lang=g.language)
        cycles = list_cycles(db, [place.code])
        return render_template(
            "dashboard/center.html", center=place, query=query, views=views, cycles=cycles,
            open_cycles=[c for c in cycles if c.status != PdsaStatus.CLOSED],
            dimensions=sorted(labels, key=lambda d: center_charts.dimension_name(
                d, labels, g.language).casefold()),
            labels=labels, area_names=center_charts.AREA_NAMES,
            dimension_name=center_charts.dimension_name, nav="charts")
