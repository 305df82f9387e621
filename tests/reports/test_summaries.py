"""The weekly summary text: golden texts in fr and bm, the fall rule, the 2-SMS limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.engine import gsm
from reports import summaries
from reports.scores import ScoreRow
from reports.stats import wilson_interval
from reports.summaries import baseline, compose_summary, falls
from tests.engine.support import shipped

GOLDEN = Path(__file__).resolve().parent / "golden"
WEEK, LAST, EARLIER = "2026-W47", "2026-W46", "2026-W45"
USSD = "*384*123*07#"
LONG_NAME = ("Centre de Santé Communautaire de l'Association de Santé Communautaire "
             "de Sabalibougou Est et Ouest, Commune V du District de Bamako")


def row(week: str, dimension: str, n: int, mean: float | None, top_box: float | None = None, *,
        level: str = "dimension", suppressed: bool = False) -> ScoreRow:
    return ScoreRow(center="07", week=week, dimension=dimension, level=level, respondents=n,
                    answers=n, mean=mean, top_box=top_box, ci_low=None, ci_high=None,
                    suppressed=suppressed)


def overall(week: str, n: int, mean: float | None, *, suppressed: bool = False) -> ScoreRow:
    return row(week, "overall", n, mean, None, level="overall", suppressed=suppressed)


def labels(lang: str) -> dict[str, str]:
    return {dim_id: dim.label[lang] for dim_id, dim in shipped("maternal_care").dimensions.items()}


THIS_WEEK = [
    overall(WEEK, 24, 78.4),
    row(WEEK, "respect", 24, 93.6, 88),
    row(WEEK, "waiting", 22, 51.5, 27),
    row(WEEK, "cleanliness", 24, 60, 21),
    row(WEEK, "informal_payment", 20, 70, 40),
    row(WEEK, "patient_experience", 24, 85, 70, level="area"),  # areas are not ranked
]
PREVIOUS = [
    overall(LAST, 21, 73.2), row(LAST, "cleanliness", 21, 82, 71),
    row(LAST, "informal_payment", 21, 85, 75), row(LAST, "respect", 21, 90, 85),
    overall(EARLIER, 18, 70), row(EARLIER, "cleanliness", 18, 80, 66),
]

CASES = {
    # A normal week: changes, one dimension fallen clearly (cleanliness), weakest, strongest.
    "full": dict(center_name="CSCom de Banconi", this_week=THIS_WEEK[:4], previous_weeks=PREVIOUS),
    # Two falls do not fit with their figures: the figures go first.
    "two_falls": dict(center_name="CSCom de Banconi", this_week=THIS_WEEK,
                      previous_weeks=PREVIOUS),
    # The centre's first week with answers: nothing to compare with.
    "first_week": dict(center_name="CSCom de Banconi", this_week=THIS_WEEK, previous_weeks=[]),
    # Too few mothers answered: say so and remind the USSD code.
    "too_few_ussd": dict(center_name="CSCom de Banconi",
                         this_week=[overall(WEEK, 4, None, suppressed=True)],
                         previous_weeks=PREVIOUS),
    # No answer at all, and no USSD code known: the SMS keyword instead.
    "too_few_sms": dict(center_name="CSCom de Sabalibougou", this_week=[], previous_weeks=[],
                        ussd_code=None),
    # The worst case: a 140-character name, long labels, everything to say.
    "long_names": dict(center_name=LONG_NAME, this_week=THIS_WEEK, previous_weeks=PREVIOUS),
    "long_names_too_few": dict(center_name=LONG_NAME + " " + LONG_NAME, this_week=[],
                               previous_weeks=[]),
}


def compose(case: dict, lang: str) -> str:
    params = {"ussd_code": USSD, "center_code": "07", **case}
    return compose_summary(language=lang, week=WEEK, labels=labels(lang), **params)


@pytest.mark.parametrize("lang", ["fr", "bm"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_texts(name: str, lang: str, update_summary_golden: bool) -> None:
    text = compose(CASES[name], lang)
    path = GOLDEN / f"{name}.{lang}.txt"
    if update_summary_golden:
        path.write_text(text + "\n", encoding="utf-8")
    assert text == path.read_text(encoding="utf-8").removesuffix("\n"), (
        f"{path.name} differs; rerun with --update-summary-golden and review the diff")
    assert gsm.is_gsm7(text)
    assert gsm.segments(text) <= 2


def test_full_french_text_says_everything_in_order() -> None:
    assert compose(CASES["full"], "fr") == (
        "CSCom de Banconi, semaine 47 (16-22 nov.) : 24 répondantes (+3 en une semaine). "
        "Score global 78/100 (+5 en une semaine). Alerte : Propreté en nette baisse "
        "(21 % de meilleures notes, contre 69 % avant). Point faible : Temps d'attente 52/100. "
        "Point fort : Respect et dignité 94/100.")


def test_bambara_is_folded_to_gsm7() -> None:
    text = compose(CASES["full"], "bm")
    assert text.startswith("CSCom de Banconi, dògòkun 47 (now 16-22): jaabibaga 24 (+3 ")
    assert "Saniya jiginna kosèbè" in text and "Makònòni waati 52/100" in text


def test_first_week_has_no_changes_of_score_or_falls() -> None:
    text = compose(CASES["first_week"], "fr")
    assert "24 répondantes (+24 en une semaine)" in text
    assert "Score global 78/100." in text
    assert "Alerte" not in text


def test_suppressed_week_says_so_and_how_mothers_answer() -> None:
    assert compose(CASES["too_few_ussd"], "fr") == (
        "CSCom de Banconi, semaine 47 (16-22 nov.) : 4 répondantes : trop peu pour donner des "
        "scores. Les mères peuvent répondre gratuitement en composant le *384*123*07#. "
        "Invitez-les après chaque consultation.")
    assert "par SMS : AVIS 07." in compose(CASES["too_few_sms"], "fr")
    assert "ni SMS ye: AVIS 07." in compose(CASES["too_few_sms"], "bm")


def test_changes_compare_the_figures_as_shown() -> None:
    # 78.4 and 77.6 both show as 78: the change shown must be 0, not +1.
    text = compose(dict(center_name="X", this_week=[overall(WEEK, 12, 78.4)],
                        previous_weeks=[overall(LAST, 12, 77.6)]), "fr")
    assert "Score global 78/100 (0 en une semaine)." in text


def test_weakest_and_strongest_need_two_dimensions_and_break_ties_by_id() -> None:
    one = compose(dict(center_name="X", this_week=[overall(WEEK, 12, 80),
                                                   row(WEEK, "respect", 12, 80, 50)],
                       previous_weeks=[]), "fr")
    assert "Point faible" not in one and "Point fort" not in one
    tie = compose(dict(center_name="X", previous_weeks=[], this_week=[
        overall(WEEK, 12, 80), row(WEEK, "waiting", 12, 70, 50), row(WEEK, "privacy", 12, 70, 50),
        row(WEEK, "respect", 12, 90, 50, suppressed=True)]), "fr")
    assert "Point faible : Intimité 70/100. Point fort : Temps d'attente 70/100." in tie


def test_long_names_are_shortened_at_word_boundaries() -> None:
    text = compose(CASES["long_names"], "fr")
    assert text.startswith("Centre de Santé Communautaire de..., semaine 47")
    assert "Alerte, en nette baisse : Propreté, Paiements hors tarif." in text
    for lang in ("fr", "bm"):
        shortest = compose(CASES["long_names_too_few"], lang)
        assert gsm.segments(shortest) <= 2
        head = shortest.split(", ")[0]
        assert head == "07" or (head.endswith("...") and LONG_NAME.startswith(head[:-3]))


def test_a_label_is_shortened_before_it_is_dropped() -> None:
    long_label = {"waiting": "Temps " * 60 + "d'attente", "respect": "Respect"}
    text = compose_summary(language="fr", center_name="X", week=WEEK, ussd_code=None,
                           this_week=[overall(WEEK, 12, 80), row(WEEK, "waiting", 12, 50, 10),
                                      row(WEEK, "respect", 12, 90, 80)],
                           previous_weeks=[], labels=long_label)
    assert gsm.segments(text) <= 2
    assert "Point faible : Temps" in text and "... 50/100." in text
    assert "d'attente" not in text


@pytest.mark.parametrize("mutate, message", [
    (dict(language="en"), "unknown language"),
    (dict(week="2026-W54"), "not an ISO week"),
])
def test_bad_arguments_are_clear_errors(mutate: dict, message: str) -> None:
    params = dict(language="fr", center_name="X", week=WEEK, this_week=[], previous_weeks=[],
                  ussd_code=None, labels={}) | mutate
    with pytest.raises(ValueError, match=message):
        compose_summary(**params)


# ---------------------------------------------------------------- the fall rule


def test_baseline_of_one_week_is_its_own_wilson_interval() -> None:
    share, bound = baseline([row(LAST, "respect", 21, 80, 71)])
    assert share == pytest.approx(71)
    assert bound == pytest.approx(100 * wilson_interval(0.71 * 21, 21)[0])


def test_baseline_pools_weeks_and_skips_suppressed_ones() -> None:
    share, bound = baseline([row(LAST, "r", 20, 80, 50), row(EARLIER, "r", 30, 80, 80),
                             row(EARLIER, "r", 3, None, None, suppressed=True)])
    assert share == pytest.approx(68)  # (10 + 24) / 50
    assert bound == pytest.approx(100 * wilson_interval(34, 50)[0])
    assert baseline([row(LAST, "r", 3, None, None, suppressed=True)]) is None
    assert baseline([]) is None


def test_a_fall_is_a_share_below_the_lower_bound_not_at_it() -> None:
    previous = [row(LAST, "respect", 40, 85, 75)]
    _, bound = baseline(previous)
    below = row(WEEK, "respect", 15, 60, bound - 0.01)
    at = row(WEEK, "respect", 15, 60, bound)
    assert [f.dimension for f in falls([below], previous)] == ["respect"]
    assert falls([at], previous) == []
    # A drop from a small, uncertain past is not "clear": 2 of 3 then, 1 of 3 now.
    assert falls([row(WEEK, "w", 3, 40, 33)], [row(LAST, "w", 3, 70, 67)]) == []


def test_falls_ignore_suppressed_weeks_areas_and_new_dimensions() -> None:
    previous = [row(LAST, "respect", 40, 85, 75), row(LAST, "patient_experience", 40, 85, 75,
                                                      level="area")]
    assert falls([row(WEEK, "respect", 4, None, None, suppressed=True),
                  row(WEEK, "patient_experience", 40, 30, 10, level="area"),
                  row(WEEK, "privacy", 40, 30, 10)], previous) == []


def test_falls_come_biggest_drop_first() -> None:
    previous = [row(LAST, "a", 40, 80, 70), row(LAST, "b", 40, 80, 90)]
    found = falls([row(WEEK, "a", 40, 50, 30), row(WEEK, "b", 40, 50, 20)], previous)
    assert [f.dimension for f in found] == ["b", "a"]


# ---------------------------------------------------------------- any input fits 2 SMS

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèêçàɛɔɲŋƐƆ'-{}[]€", min_size=1,
                max_size=24)
NAMES = st.lists(WORDS, min_size=1, max_size=12).map(" ".join).filter(lambda s: len(s) <= 200)
SCORES = st.floats(min_value=0, max_value=100, allow_nan=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lang=st.sampled_from(["fr", "bm"]), name=NAMES,
       label_words=st.lists(NAMES, min_size=4, max_size=4),
       means=st.lists(SCORES, min_size=4, max_size=4),
       shares=st.lists(SCORES, min_size=4, max_size=4),
       n=st.integers(min_value=0, max_value=100_000), suppressed=st.booleans())
def test_any_summary_fits_two_gsm7_segments_without_cutting_words(
        lang, name, label_words, means, shares, n, suppressed) -> None:
    ids = ["respect", "waiting", "privacy", "cleanliness"]
    this_week = [overall(WEEK, n, None if suppressed else means[0], suppressed=suppressed)]
    this_week += [row(WEEK, d, n, m, s) for d, m, s in zip(ids, means, shares)]
    previous = [row(LAST, d, 100_000, 90, 99.9) for d in ids] + [overall(LAST, n, 50)]
    text = compose_summary(language=lang, center_name=name, week=WEEK, this_week=this_week,
                           previous_weeks=previous, ussd_code=USSD,
                           labels=dict(zip(ids, label_words)), center_code="CS-0007")
    assert gsm.is_gsm7(text)
    assert gsm.segments(text) <= 2
    folded_words = set(gsm.fold_to_gsm7(" ".join([name, *label_words])).split())
    head = text.split(", ", 1)[0] if text.startswith(gsm.fold_to_gsm7(name)) else None
    if head is None:  # shortened: whole words and an ellipsis, or the code
        first = text.split(", ", 1)[0]
        assert first == "CS-0007" or first.endswith(summaries.ELLIPSIS)
        for word in first.removesuffix(summaries.ELLIPSIS).split()[:-1]:
            assert word in folded_words


def test_only_the_baseline_weeks_before_count() -> None:
    cleanliness_fell = dict(center_name="X", this_week=[overall(WEEK, 24, 70),
                                                        row(WEEK, "cleanliness", 24, 60, 21)])
    long_ago = [row("2026-W42", "cleanliness", 40, 80, 70)]  # five weeks before: too old
    later = [row("2026-W48", "cleanliness", 40, 80, 70)]  # after the week summarised
    for previous in (long_ago, later):
        assert "Alerte" not in compose(cleanliness_fell | {"previous_weeks": previous}, "fr")
    recent = [row("2026-W43", "cleanliness", 40, 80, 70)]  # four weeks before: counts
    assert "Alerte" in compose(cleanliness_fell | {"previous_weeks": recent}, "fr")
