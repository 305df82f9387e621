"""The PDSA cycle form: its fields, their choices, and gateway.pdsa's errors beside them.

Values are checked by `gateway.pdsa.check_fields` alone (the API and the CLI use it too):
each field on its own first, so that every bad field gets its message, then together.
Its English errors are mapped to messages of the dashboard's catalog, by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from gateway import pdsa
from gateway.errors import ArgumentError
from gateway.i18n import N_
from gateway.statuses import PdsaBaseline, PdsaDecision, PdsaStatus
from gateway.web.dashboard.labels import AREA_NAMES

STATUS_NAMES = {PdsaStatus.PLANNED: N_("Planned"), PdsaStatus.RUNNING: N_("Running"),
                PdsaStatus.CLOSED: N_("Closed")}
DECISION_NAMES = {PdsaDecision.ADOPT: N_("Adopt"), PdsaDecision.ADAPT: N_("Adapt"),
                  PdsaDecision.ABANDON: N_("Abandon")}
BASELINE_NAMES = {"": N_("None: the chart keeps one median"),
                  PdsaBaseline.FREEZE: N_("Freeze: test the points after against the median "
                                          "before"),
                  PdsaBaseline.SPLIT: N_("Split: a new median from the start")}
OVERALL_NAME = N_("Overall score")
REQUIRED = N_("Required.")
# (field or "", words in gateway.pdsa's message, message shown); the first match wins.
MESSAGES = [
    ("", "required", REQUIRED),
    ("", "characters that cannot be kept", N_("Remove the control characters.")),
    ("title", "give 1 to", N_("Give a title of 1 to %(max)s characters.")),
    ("", "at most", N_("At most %(max)s characters.")),
    ("", "expected a date", N_("Give a date as YYYY-MM-DD.")),
    ("ended_on", "is before", N_("The end date is before the start date.")),
    ("ended_on", "closed cycle needs", N_("A closed cycle needs its end date.")),
    ("decision", "only a closed cycle", N_("Only a closed cycle has a decision.")),
    ("area", "belongs to", N_("The dimension chosen belongs to another area.")),
]
CHOOSE = N_("Choose one of the options.")
CONTROL = {chr(c) for c in range(32)} - {"\n", "\r", "\t"}
NEEDED = ("title", "started_on")  # in every form: a cycle cannot lose them
TEXT_FIELDS = ("title", "change", "prediction", "plan", "do", "study", "act", "notes")


class CycleForm(FlaskForm):
    """A cycle's fields as the dashboard edits them (choices checked by gateway.pdsa)."""

    title = StringField()
    change = TextAreaField()
    area = SelectField(validate_choice=False)
    dimension = SelectField(validate_choice=False)
    prediction = TextAreaField()
    started_on = StringField()
    ended_on = StringField()
    plan = TextAreaField()
    do = TextAreaField()
    study = TextAreaField()
    act = TextAreaField()
    notes = TextAreaField()
    baseline = SelectField(validate_choice=False)
    status = SelectField(validate_choice=False)
    decision = SelectField(validate_choice=False)


class CloseForm(FlaskForm):
    """The decision and the end date that close a cycle."""

    decision = SelectField(validate_choice=False)
    ended_on = StringField()


def values(form: FlaskForm, names: tuple[str, ...]) -> dict[str, str]:
    """Return the form's values for `names` as plain text, as gateway.pdsa reads them."""
    return {name: form[name].data if isinstance(form[name].data, str) else ""
            for name in names}


def check(data: Mapping[str, str], vocabulary: pdsa.Vocabulary, *,
          partial: bool) -> tuple[dict[str, Any], dict[str, tuple[str, dict]]]:
    """Return (model fields, {}) or ({}, {field: (message, params)}) for the form's values."""
    errors: dict[str, tuple[str, dict]] = {}
    for name, value in data.items():
        if name in NEEDED and not value.strip():
            errors[name] = (REQUIRED, {})
            continue
        try:
            _plain(name, value)
            pdsa.check_fields({name: value}, vocabulary, partial=True)
        except ArgumentError as error:
            errors[name] = message_of(error)
    if errors:
        return {}, errors
    try:
        return pdsa.check_fields(data, vocabulary, partial=partial), {}
    except ArgumentError as error:
        field, _ = _split(error)
        return {}, {field: message_of(error)}


def message_of(error: ArgumentError) -> tuple[str, dict]:
    """Return the dashboard's message for one of gateway.pdsa's errors, and its parameters."""
    field, text = _split(error)
    for name, words, message in MESSAGES:
        if name in ("", field) and words in text:
            limit = pdsa.TITLE_MAX if field == "title" else pdsa.TEXT_MAX
            return message, {"max": limit}
    return CHOOSE, {}


def field_of(error: ArgumentError) -> str:
    """Return the field an error of gateway.pdsa names."""
    return _split(error)[0]


def fill_choices(form: FlaskForm, vocabulary: pdsa.Vocabulary,
                 dimension_names: Mapping[str, str], gettext) -> None:
    """Give the form's selects their choices, labelled in the viewer's language."""
    if "area" in form:
        form.area.choices = [("", "—")] + [(a, gettext(AREA_NAMES.get(a, a)))
                                        for a in sorted(vocabulary.areas)]
        form.dimension.choices = [("", "—"), ("overall", gettext(OVERALL_NAME))] + [
            (d, f"{gettext(AREA_NAMES.get(vocabulary.dimensions[d], d))} · "
                f"{dimension_names.get(d, d)}")
            for d in sorted(vocabulary.dimensions,
                            key=lambda d: (vocabulary.dimensions[d], dimension_names.get(d, d)))]
        form.baseline.choices = [(str(k), gettext(v)) for k, v in BASELINE_NAMES.items()]
        form.status.choices = [(str(k), gettext(v)) for k, v in STATUS_NAMES.items()]
    form.decision.choices = [("", "—")] + [(str(k), gettext(v))
                                           for k, v in DECISION_NAMES.items()]


def _plain(name: str, value: str) -> None:
    # PostgreSQL refuses NUL in text; no form field needs any other control character.
    if name in TEXT_FIELDS and CONTROL & set(value):
        raise ArgumentError(f"{name}: characters that cannot be kept")


def _split(error: ArgumentError) -> tuple[str, str]:
    field, _, text = str(error).partition(": ")
    return field, text
