"""The weekly SMS summary of one centre's scores, in French or Bambara: a pure text builder.

No database, no clock: `gateway.summaries` gathers the score rows and sends the text.

What a summary says, in this order: the centre and the week; how many mothers answered and
the change from the week before; the overall score (the mean, out of 100) and its change;
a warning for each dimension that *fell clearly*; the weakest and the strongest dimension.
A week whose `overall` row is suppressed (too few respondents) or missing gets a short
message instead, which says so and reminds how mothers can answer.

A dimension *fell clearly* when its row this week is shown (not suppressed) and its top-box
share is below the lower bound of the 95 % Wilson interval of its top-box share over the
BASELINE_WEEKS weeks before (pooled: successes, the mothers' top-box shares, and
respondents summed; suppressed weeks left out; no such week, no warning).
The Wilson interval is the top-box proportion's, so the top-box share, not the mean, is
compared with it. With one previous week the bound is that week's own `ci_low`.

A summary is at most MAX_SEGMENTS GSM-7 segments. While the text is longer, parts are
dropped one by one in DROP_ORDER (after the first two, a centre name longer than SHORT_NAME
characters is cut to whole words that fit), then the name loses a word at a time (then
becomes the centre's code), then the dimension labels likewise, then LAST_RESORT parts go.
Words are never cut; a shortened name or label ends with "...".
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Protocol

from gateway import i18n
from gateway.engine import gsm
from gateway.i18n import N_
from reports.scores import OVERALL, previous_week, weeks_back
from reports.stats import wilson_interval

MAX_SEGMENTS = 2
BASELINE_WEEKS = 4
ELLIPSIS = "..."

HEADER = N_("%(center)s, %(week)s:")
RESPONDENTS = N_("%(respondents)s.")
RESPONDENTS_CHANGE = N_("%(respondents)s (%(change)s in a week).")
OVERALL_SCORE = N_("Overall score %(score)s/100.")
OVERALL_CHANGE = N_("Overall score %(score)s/100 (%(change)s in a week).")
FELL = N_("Warning: %(label)s fell clearly.")
FELL_SEVERAL = N_("Warning, fell clearly: %(labels)s.")
FELL_DETAIL = N_("Warning: %(label)s fell clearly (%(share)s top marks, %(before)s before).")
WEAKEST = N_("Weakest: %(label)s %(score)s/100.")
STRONGEST = N_("Strongest: %(label)s %(score)s/100.")
TOO_FEW = N_("%(respondents)s: too few to give scores.")
HOW_USSD = N_("Mothers can answer free of charge by dialling %(code)s.")
HOW_SMS = N_("Mothers can answer free of charge by SMS: %(keyword)s.")
ENCOURAGE = N_("Invite them after each visit.")

# Parts dropped, one more at each try; the centre's name is cut to SHORT_NAME characters
# (whole words) after the first two.
SHORT_NAME = 40
DROP_ORDER = ("fall_detail", "respondents_change", "strongest", "more_falls",
              "overall_change", "encourage")
# Dropped last of all, after names and labels are down to one word.
LAST_RESORT = ("weakest", "falls")


class ScoreLike(Protocol):
    """What a summary reads of a score row (reports.scores.ScoreRow)."""

    week: str
    dimension: str
    level: str
    respondents: int
    mean: float | None
    top_box: float | None
    suppressed: bool


@dataclasses.dataclass(frozen=True)
class Fall:
    """A dimension whose top-box share fell below its previous weeks' Wilson interval."""

    dimension: str
    share: float  # this week's top-box %, 0-100
    before: float  # the previous weeks' pooled top-box %
    bound: float  # the lower bound of their 95 % Wilson interval, %


@dataclasses.dataclass(frozen=True)
class _Facts:
    center_name: str
    center_code: str | None
    week: str
    respondents: int
    change: int | None
    score: int | None
    score_change: int | None
    falls: tuple[Fall, ...]
    weakest: tuple[str, int] | None
    strongest: tuple[str, int] | None
    how: tuple[str, str] | None  # (msgid, code or keyword)


def whole(value: float) -> int:
    """Round a figure half up, as it is shown (84.5 → 85)."""
    return int(i18n.round_half_up(value))


def baseline(previous: Iterable[ScoreLike]) -> tuple[float, float] | None:
    """Return (pooled top-box %, lower Wilson bound %) of previous rows, or None if none count."""
    successes = respondents = 0.0
    for row in previous:
        if row.suppressed or row.top_box is None or row.respondents <= 0:
            continue
        successes += row.top_box / 100 * row.respondents
        respondents += row.respondents
    if respondents <= 0:
        return None
    successes = min(successes, respondents)  # float sums may pass n by 1e-12
    low, _ = wilson_interval(successes, respondents)
    return 100 * successes / respondents, 100 * low


def falls(this_week: Iterable[ScoreLike], previous_weeks: Iterable[ScoreLike]) -> list[Fall]:
    """Return the dimensions that fell clearly this week, the biggest drop first."""
    history: dict[str, list[ScoreLike]] = {}
    for row in previous_weeks:
        if row.level == "dimension":
            history.setdefault(row.dimension, []).append(row)
    found = []
    for row in this_week:
        if row.level != "dimension" or row.suppressed or row.top_box is None:
            continue
        base = baseline(history.get(row.dimension, ()))
        if base is not None and row.top_box < base[1]:
            found.append(Fall(row.dimension, row.top_box, base[0], base[1]))
    return sorted(found, key=lambda fall: (fall.share - fall.before, fall.dimension))


def compose_summary(*, language: str, center_name: str, week: str,
                    this_week: Sequence[ScoreLike], previous_weeks: Sequence[ScoreLike],
                    ussd_code: str | None, labels: Mapping[str, str],
                    center_code: str | None = None) -> str:
    """Return the week's summary SMS of one centre in `language`, GSM-7, at most 2 segments.

    `this_week` and `previous_weeks` are the centre's score rows (any level); `labels`
    names dimensions in `language` (an id without a label is shown as is). Without a
    `ussd_code`, mothers are told to send "AVIS <center_code>" by SMS.
    """
    lang = i18n.language(language)
    _week_text(week, lang)  # a bad week fails here, with the week in the message
    facts = _facts(center_name, center_code, week, this_week, previous_weeks, ussd_code, labels)
    for text in _drafts(facts, lang, labels):
        if gsm.segments(text) <= MAX_SEGMENTS:
            return text
    raise ValueError(f"center_name: {center_name[:40]!r}... cannot be shortened to fit "
                     f"{MAX_SEGMENTS} SMS; give center_code")


def _facts(center_name: str, center_code: str | None, week: str, this_week: Sequence[ScoreLike],
           previous_weeks: Sequence[ScoreLike], ussd_code: str | None,
           labels: Mapping[str, str]) -> _Facts:
    first = weeks_back(week, BASELINE_WEEKS)
    previous_weeks = [r for r in previous_weeks if first <= r.week < week]  # ISO weeks sort
    overall = _overall(this_week, week)
    before = _overall(previous_weeks, previous_week(week))
    respondents = overall.respondents if overall else 0
    change = respondents - (before.respondents if before else 0)
    scored = overall is not None and not overall.suppressed and overall.mean is not None
    score = whole(overall.mean) if scored else None
    score_change = None
    if scored and before is not None and not before.suppressed and before.mean is not None:
        score_change = score - whole(before.mean)
    dims = sorted((r for r in this_week if r.level == "dimension" and r.week == week
                   and not r.suppressed and r.mean is not None),
                  key=lambda r: (whole(r.mean), r.dimension))
    weakest = strongest = None
    if len(dims) >= 2:
        weakest = (dims[0].dimension, whole(dims[0].mean))
        strongest = (dims[-1].dimension, whole(dims[-1].mean))
    how = None
    if ussd_code:
        how = (HOW_USSD, ussd_code)
    elif center_code:
        how = (HOW_SMS, f"AVIS {center_code}")
    return _Facts(center_name=" ".join(center_name.split()), center_code=center_code,
                  week=week, respondents=respondents, change=change, score=score,
                  score_change=score_change,
                  falls=tuple(falls([r for r in this_week if r.week == week], previous_weeks)),
                  weakest=weakest, strongest=strongest, how=how)


@functools.lru_cache(maxsize=64)
def _week_text(week: str, lang: str) -> str:
    # Babel's interval formatting is the slowest part of a summary; 1,500 share one week.
    return i18n.format_week(week, lang)


def _overall(rows: Iterable[ScoreLike], week: str) -> ScoreLike | None:
    return next((r for r in rows if r.dimension == OVERALL and r.week == week), None)


def _drafts(facts: _Facts, lang: str, labels: Mapping[str, str]) -> Iterator[str]:
    """Yield the summary from the fullest to the shortest, each already folded to GSM-7."""
    dropped: set[str] = set()
    names = list(_shortened(facts.center_name))
    if facts.center_code and facts.center_code != facts.center_name:
        names.append(facts.center_code)
    label_words = max((len(labels.get(d, d).split()) for d in _shown(facts)), default=1)

    def draft(name: str, words: int = label_words) -> str:
        return gsm.fold_to_gsm7(_render(facts, lang, labels, dropped, name, words))

    yield draft(names[0])
    for part in DROP_ORDER[:2]:
        dropped.add(part)
        yield draft(names[0])
    # A long official name is worth less than the figures: trim it before dropping any.
    name = next((n for n in names if len(n) <= SHORT_NAME), names[-1])
    yield draft(name)
    for part in DROP_ORDER[2:]:
        dropped.add(part)
        yield draft(name)
    for name in names[names.index(name) + 1:]:
        yield draft(name)
    for words in range(label_words - 1, 0, -1):
        yield draft(names[-1], words)
    for part in LAST_RESORT:
        dropped.add(part)
        yield draft(names[-1], 1)


def _shown(facts: _Facts) -> list[str]:
    shown = [fall.dimension for fall in facts.falls]
    shown += [pick[0] for pick in (facts.weakest, facts.strongest) if pick]
    return shown


def _shortened(text: str) -> Iterator[str]:
    """Yield text, then its first n-1, n-2 … 1 words followed by an ellipsis."""
    yield text
    words = text.split()
    for count in range(len(words) - 1, 0, -1):
        yield " ".join(words[:count]).rstrip(",;:-") + ELLIPSIS


def _label(labels: Mapping[str, str], dimension: str, words: int) -> str:
    text = " ".join(labels.get(dimension, dimension).split())
    return next(short for short in _shortened(text) if len(short.split()) <= words)


def _render(facts: _Facts, lang: str, labels: Mapping[str, str], dropped: set[str], name: str,
            words: int) -> str:
    def t(msgid: str, **params: object) -> str:
        return i18n.gettext(lang, msgid, **params)

    def number(value: float) -> str:
        return i18n.format_number(value, lang)

    parts = [t(HEADER, center=name, week=_week_text(facts.week, lang))]
    respondents = i18n.respondents(facts.respondents, lang)
    if facts.score is None:
        parts.append(t(TOO_FEW, respondents=respondents))
        if facts.how:
            msgid, code = facts.how
            parts.append(t(msgid, code=code) if msgid == HOW_USSD else t(msgid, keyword=code))
        if "encourage" not in dropped:
            parts.append(t(ENCOURAGE))
        return " ".join(parts)
    if "respondents_change" in dropped or facts.change is None:
        parts.append(t(RESPONDENTS, respondents=respondents))
    else:
        parts.append(t(RESPONDENTS_CHANGE, respondents=respondents,
                       change=i18n.format_signed(facts.change, lang)))
    if "overall_change" in dropped or facts.score_change is None:
        parts.append(t(OVERALL_SCORE, score=number(facts.score)))
    else:
        parts.append(t(OVERALL_CHANGE, score=number(facts.score),
                       change=i18n.format_signed(facts.score_change, lang)))
    shown_falls = () if "falls" in dropped else (
        facts.falls[:1] if "more_falls" in dropped else facts.falls)
    fallen = [_label(labels, fall.dimension, words) for fall in shown_falls]
    if "fall_detail" not in dropped:
        parts += [t(FELL_DETAIL, label=label, share=i18n.format_percent(fall.share, lang),
                    before=i18n.format_percent(fall.before, lang))
                  for label, fall in zip(fallen, shown_falls)]
    elif len(fallen) == 1:
        parts.append(t(FELL, label=fallen[0]))
    elif fallen:
        parts.append(t(FELL_SEVERAL, labels=", ".join(fallen)))
    if facts.weakest and "weakest" not in dropped:
        parts.append(t(WEAKEST, label=_label(labels, facts.weakest[0], words),
                       score=number(facts.weakest[1])))
    if facts.strongest and "strongest" not in dropped and "weakest" not in dropped:
        parts.append(t(STRONGEST, label=_label(labels, facts.strongest[0], words),
                       score=number(facts.strongest[1])))
    return " ".join(parts)
