"""Flow files: each mistake a nurse can make is reported as `file:line: message`."""

from __future__ import annotations

import pytest

from gateway.engine.checks import check_fit
from gateway.engine.definition import AREAS, load_flow, parse_flow, version_of
from gateway.errors import FlowLoadError
from tests.engine.support import MESSAGES, demo

PATH = "flows/demo.yaml"

# A small valid flow; each case below edits one part of it.
BASE = """\
id: demo
title: {fr: Démo, bm: Demo}
languages: [fr, bm]
channels: [ussd, sms]
sms:
  max_segments: 2
dimensions:
  - id: respect
    area: patient_experience
    label: {fr: Respect, bm: Bonya}
steps:
  - id: visit
    type: choice
    text:
      fr: Pour quelle visite êtes-vous venue ?
      bm: I nana mun kama?
    options:
      - {value: prenatal, fr: Prénatale, bm: Kɔnɔmaya lajɛ}
      - {value: delivery, fr: Accouchement, bm: Jiginni}
  - id: respect
    type: rating
    dimension: respect
    text:
      fr: Vous a-t-on respectée ?
      bm: U ye i bonya wa?
    options:
      - {value: always, score: 100, fr: Toujours, bm: Tuma bɛɛ}
      - {value: never, score: 0, fr: Jamais, bm: Abada}
    next:
      - if: {visit: prenatal}
        goto: thanks
      - goto: thanks
  - id: thanks
    type: end
    text:
      fr: Merci !
      bm: I ni ce!
"""


def edit(old: str, new: str, source: str = BASE) -> str:
    """Replace exactly one occurrence of `old`, so that a case cannot silently test nothing."""
    assert source.count(old) == 1, f"{old!r} occurs {source.count(old)} times in the flow"
    return source.replace(old, new)


def line_of(source: str, fragment: str, nth: int = 1) -> int:
    """Return the number of the line holding the nth occurrence of `fragment`."""
    found = [n for n, line in enumerate(source.splitlines(), 1) if fragment in line]
    return found[nth - 1]


def errors_of(source: str) -> list[str]:
    """Return the errors parse_flow reports, as the CLI prints them."""
    with pytest.raises(FlowLoadError) as caught:
        parse_flow(source, PATH)
    return [str(error) for error in caught.value.errors]


def test_base_flow_is_valid():
    flow = parse_flow(BASE, PATH)
    assert list(flow.steps) == ["visit", "respect", "thanks"]
    assert flow.dimensions["respect"].area == "patient_experience"
    assert check_fit(flow, MESSAGES) == []


def test_yaml_syntax_error_points_at_its_line():
    source = edit("title: {fr: Démo, bm: Demo}", "title: {fr: Démo, bm: Demo")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'languages:')}: YAML syntax: expected ',' or '}}', but got ':'"]


def test_question_mark_in_a_braced_text_is_a_yaml_error():
    # French puts a space before '?': inside {…} YAML reads ' ?' as the start of a key.
    source = edit("label: {fr: Respect, bm: Bonya}", "label: {fr: Respect ?, bm: Bonya}")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'Respect ?')}: YAML syntax: expected ',' or '}}', but got '?'"]


def test_tab_indentation_is_a_yaml_error():
    source = edit("    type: end", "\ttype: end")
    assert errors_of(source) == [f"{PATH}:{line_of(source, 'type: end')}: YAML syntax: "
                                 "found character '\\t' that cannot start any token"]


def test_duplicate_key():
    source = edit("      bm: I ni ce!", "      bm: I ni ce!\n    text: {fr: Encore, bm: Kokura}")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'text:', 4)}: YAML syntax: 'text' is given twice"]


def test_unknown_step_type():
    source = edit("type: end", "type: ending")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'type: ending')}: step 'thanks': unknown step type 'ending' "
        "(known: center_code, choice, consent, end, info, language, number, rating, text, "
        "yes_no)"]


def test_unknown_field_is_named_with_the_allowed_ones():
    source = edit("    options:\n      - {value: prenatal", "    optons:\n      - {value: prenatal")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'id: visit')}: step 'visit' needs 'options', a list",
        f"{PATH}:{line_of(source, 'optons:')}: step 'visit': unknown field 'optons' "
        "(allowed: dimension, id, next, options, text, type)",
    ]


def test_unknown_top_level_field():
    source = edit("channels: [ussd, sms]", "chanels: [ussd, sms]")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'chanels')}: unknown field 'chanels' (allowed: channels, "
        "dimensions, id, languages, max_tries, review, sms, start, steps, title, voice)"]


def test_unknown_goto_target():
    source = edit("      - goto: thanks", "      - goto: thank")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, '- goto: thank')}: step 'respect' goes to unknown step 'thank'"]


def test_unreachable_step():
    source = edit("        goto: thanks\n      - goto: thanks",
                  "        goto: thanks\n      - goto: thanks\n"
                  "  - id: lost\n    type: info\n    text: {fr: Perdu, bm: Tununnen}")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'id: lost')}: step 'lost' can never be reached"]


def test_loop_that_can_never_end():
    source = edit("        goto: thanks\n      - goto: thanks",
                  "        goto: visit\n      - goto: visit")
    # 'thanks' is then unreachable too, and is reported first.
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'id: visit')}: step 'visit' is in a loop that can never end",
        f"{PATH}:{line_of(source, 'id: respect', 2)}: step 'respect' is in a loop that can never "
        "end",
        f"{PATH}:{line_of(source, 'id: thanks')}: step 'thanks' can never be reached",
    ]


def test_loop_with_a_way_out_is_fine():
    source = edit("      - goto: thanks", "      - goto: visit")
    flow = parse_flow(source, PATH)
    assert flow.next_step("respect", {"visit": "delivery"}) == "visit"
    assert flow.next_step("respect", {"visit": "prenatal"}) == "thanks"


def test_missing_translation():
    source = edit("      bm: U ye i bonya wa?\n", "")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'Vous a-t-on respectée') - 1}: text: missing translation 'bm'"]


def test_missing_option_translation():
    source = edit("fr: Jamais, bm: Abada}", "fr: Jamais}")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'fr: Jamais')}: option 'never': missing translation 'bm'"]


def test_dimension_not_declared():
    source = edit("    dimension: respect", "    dimension: dignity")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'dimension: dignity')}: dimension 'dignity' is not declared "
        "under 'dimensions'"]


@pytest.mark.parametrize("reserved", ["overall", "clinical_quality"])
def test_a_dimension_cannot_take_a_roll_up_name(reserved):
    source = edit("  - id: respect\n    area", f"  - id: {reserved}\n    area")
    source = edit("    dimension: respect", f"    dimension: {reserved}", source)
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, f'- id: {reserved}')}: dimension id '{reserved}' is reserved "
        "for the scores' roll-ups: choose another"]


def test_area_not_one_of_the_four():
    source = edit("area: patient_experience", "area: experience")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'area: experience')}: dimension 'respect': 'area' must be one "
        "of clinical_quality, patient_experience, management_governance, revenue_cost_recovery"]


def test_the_four_areas():
    assert list(AREAS) == ["clinical_quality", "patient_experience", "management_governance",
                           "revenue_cost_recovery"]


def test_score_out_of_range():
    source = edit("score: 100", "score: 120")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'score: 120')}: 'score' is 120: it must be between 0 and 100"]


def test_rating_option_without_score():
    source = edit("{value: never, score: 0, ", "{value: never, ")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'value: never')}: option 'never' needs a 'score' from 0 to 100"]


def test_duplicate_step_id():
    source = edit("  - id: thanks", "  - id: visit")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'id: visit', 2)}: step id 'visit' is used twice"]


def test_condition_on_an_unknown_option_value():
    source = edit("if: {visit: prenatal}", "if: {visit: prenatl}")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'prenatl')}: 'visit' has no option 'prenatl' "
        "(options: delivery, prenatal)"]


def test_condition_on_an_unknown_step():
    source = edit("if: {visit: prenatal}", "if: {visits: prenatal}")
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'visits')}: condition on 'visits', which is not a question "
        "of this flow"]


def test_every_mistake_is_reported_at_once_in_line_order():
    source = edit("score: 100", "score: 120", edit("area: patient_experience", "area: x"))
    assert [error.split(":")[1] for error in errors_of(source)] == [
        str(line_of(source, "area: x")), str(line_of(source, "score: 120"))]


def test_flow_error_carries_path_line_and_step():
    source = edit("      - goto: thanks", "      - goto: thank")
    with pytest.raises(FlowLoadError) as caught:
        parse_flow(source, PATH)
    [error] = caught.value.errors
    assert (error.path, error.line, error.step) == (PATH, line_of(source, "- goto: thank"),
                                                    "respect")


# ------------------------------------------------------------------ screens that do not fit


def test_ussd_screen_that_cannot_fit_even_with_paging():
    long_question = "Pour quelle visite êtes-vous venue au centre de santé ? " * 3
    source = edit("fr: Pour quelle visite êtes-vous venue ?", f"fr: {long_question.strip()}")
    flow = parse_flow(source, PATH)
    errors = [str(error) for error in check_fit(flow, MESSAGES)]
    line = line_of(source, "    text:")
    assert errors == [
        f"{PATH}:{line}: step 'visit' on ussd: fr: the question and its first option take "
        "194 characters with paging; a USSD screen holds 182"]


def test_long_menu_is_paged_not_refused():
    options = "".join(f"      - {{value: v{n}, fr: Option numéro {n}, bm: Sugandili {n}}}\n"
                      for n in range(3, 15))
    source = edit("      - {value: delivery, fr: Accouchement, bm: Jiginni}\n",
                  "      - {value: delivery, fr: Accouchement, bm: Jiginni}\n" + options)
    source = edit("max_segments: 2", "max_segments: 3", source)
    assert check_fit(parse_flow(source, PATH), MESSAGES) == []


def test_sms_question_longer_than_max_segments():
    source = edit("  max_segments: 2", "  max_segments: 1")
    long_question = "Vous a-t-on respectée pendant toute la durée de votre séjour au centre ? " * 2
    source = edit("fr: Vous a-t-on respectée ?", f"fr: {long_question.strip()}", source)
    flow = parse_flow(source, PATH)
    errors = [str(error) for error in check_fit(flow, MESSAGES)]
    line = line_of(source, "    text:", 2)
    assert errors == [
        f"{PATH}:{line}: step 'respect' on sms: fr: the SMS takes 2 GSM-7 segments "
        "(183 characters), more than the flow's max_segments of 1"]


def test_unicode_sms_takes_ucs2_segments_that_folding_avoids():
    source = edit("  max_segments: 2", "  max_segments: 1\n  unicode: true")
    source = edit("bm: U ye i bonya wa?", "bm: " + "Baarakɛlaw ye i bonya wa? " * 3, source)
    flow = parse_flow(source, PATH)
    assert [str(error) for error in check_fit(flow, MESSAGES)] == [
        f"{PATH}:{line_of(source, '    text:')}: step 'visit' on sms: fr: the SMS takes 2 UCS-2 "
        "segments (81 characters), more than the flow's max_segments of 1",
        f"{PATH}:{line_of(source, '    text:', 2)}: step 'respect' on sms: bm: the SMS takes 2 "
        "UCS-2 segments (118 characters), more than the flow's max_segments of 1",
    ]
    folded = parse_flow(edit("  unicode: true", "  unicode: false", source), PATH)
    assert check_fit(folded, MESSAGES) == []


# ------------------------------------------------------------------ versions and files


def test_version_is_the_hash_of_the_file_and_changes_with_it():
    first = parse_flow(BASE, PATH)
    edited = parse_flow(edit("fr: Merci !", "fr: Merci beaucoup !"), PATH)
    assert first.version == version_of(BASE)
    assert len(first.version) == 12
    assert edited.version != first.version
    assert parse_flow(BASE, "elsewhere.yaml").version == first.version


def test_load_flow_reads_a_file(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(BASE, encoding="utf-8")
    assert load_flow(path).path == str(path)


def test_load_flow_refuses_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_bytes("id: démo\n".encode("latin-1"))
    with pytest.raises(FlowLoadError) as caught:
        load_flow(path)
    assert str(caught.value).startswith(f"{path}: not UTF-8 text")


def test_load_flow_missing_file(tmp_path):
    with pytest.raises(FlowLoadError) as caught:
        load_flow(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: cannot read the file: " \
                                "No such file or directory"


def test_a_file_that_is_not_a_mapping():
    assert errors_of("- just\n- a list\n") == [
        f"{PATH}:1: a flow file must be a mapping with id, title, languages, channels, "
        "dimensions and steps"]


def test_yes_and_no_stay_words():
    flow = demo(BASE.replace("value: always", "value: yes").replace("value: never", "value: no"))
    assert [option.value for option in flow.step("respect").options()] == ["yes", "no"]


def test_a_condition_on_the_language_step_is_refused():
    source = edit("steps:\n  - id: visit", "steps:\n  - id: language\n    type: language\n"
                  "    text: {fr: Langue, bm: Kan}\n  - id: visit")
    source = edit("      - if: {visit: prenatal}", "      - if: {language: fr}", source)
    assert errors_of(source) == [
        f"{PATH}:{line_of(source, 'if: {language: fr}')}: condition on 'language': a language "
        "step records no answer to test (it is skipped when already known)"]
