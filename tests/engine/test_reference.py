"""The staff's flows reference (flows/README.md) and the step docstrings stay true to the code.

Every ```yaml block of the reference and every step type's docstring example must load:
a whole flow as it is; a list of steps wrapped into a minimal flow with French and Bambara
texts; top-level fields merged into one.
"""

from __future__ import annotations

import inspect
import re
import textwrap

import pytest

from gateway.engine import gsm, inputs
from gateway.engine.checks import check_fit
from gateway.engine.definition import AREAS, parse_flow
from gateway.engine.steps import STEP_TYPES
from gateway.engine.yamlsource import read_yaml
from tests.engine.support import FLOWS_DIR, MESSAGES

REFERENCE = FLOWS_DIR / "README.md"
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)

MINIMAL = {  # the fields of a minimal flow, as YAML text
    "id": "id: example\n",
    "title": "title: {fr: Exemple, bm: Misali}\n",
    "languages": "languages: [fr, bm]\n",
}
END_STEP = "  - id: example_end\n    type: end\n    text: {fr: Merci !, bm: I ni ce!}\n"


def reference_blocks() -> list[tuple[int, str]]:
    """Return (line, text) of every ```yaml block of the reference."""
    text = REFERENCE.read_text(encoding="utf-8")
    return [(text.count("\n", 0, match.start()) + 2, match.group(1))
            for match in YAML_BLOCK.finditer(text)]


def docstring_examples() -> list[tuple[str, str]]:
    """Return (type name, YAML) of each step type's docstring example."""
    found = []
    for name, cls in sorted(STEP_TYPES.items()):
        doc = inspect.cleandoc(cls.__doc__ or "")
        blocks = YAML_BLOCK.findall(doc + "\n")
        assert len(blocks) == 1, f"step type '{name}' must have one ```yaml example"
        found.append((name, blocks[0]))
    return found


def as_flow(example: str) -> str:
    """Return a flow file for an example: itself, or wrapped into a minimal flow.

    The example's own text is kept (read with the engine's YAML rules, where `no` is a
    word), so that what is checked is exactly what the reference shows.
    """
    data = read_yaml(example, "example")
    if isinstance(data, dict) and "steps" in data:
        return example
    if isinstance(data, list):
        used = sorted({step["dimension"] for step in data if "dimension" in step})
        dimensions = "".join(f"  - {{id: {dim}, area: patient_experience, "
                             f"label: {{fr: {dim}, bm: {dim}}}}}\n" for dim in used)
        ends = any(step.get("type") == "end" for step in data)
        return ("".join(MINIMAL.values()) + (f"dimensions:\n{dimensions}" if used else "")
                + "steps:\n" + textwrap.indent(example, "  ") + ("" if ends else END_STEP))
    assert isinstance(data, dict), "an example is a flow, a list of steps or flow fields"
    head = "".join(text for key, text in MINIMAL.items() if key not in data)
    return head + example + ("" if "steps" in data else "steps:\n" + END_STEP)


def check_example(example: str, path: str) -> None:
    """Parse an example as a flow and check that every screen fits."""
    flow = parse_flow(as_flow(example), path)
    assert [str(error) for error in check_fit(flow, MESSAGES)] == []


@pytest.mark.parametrize("line, block", reference_blocks(), ids=lambda v: str(v)[:20])
def test_reference_yaml_block_is_valid(line, block):
    check_example(block, f"flows/README.md (block at line {line})")


@pytest.mark.parametrize("name, example", docstring_examples(), ids=lambda v: str(v)[:20])
def test_step_docstring_example_is_valid(name, example):
    [step] = read_yaml(example, "example")
    assert step["type"] == name
    check_example(example, f"step_types.py ({name})")


@pytest.mark.parametrize("name, example", docstring_examples(), ids=lambda v: str(v)[:20])
def test_reference_shows_each_step_type_with_its_docstring_example(name, example):
    reference = REFERENCE.read_text(encoding="utf-8")
    assert f"### `{name}`" in reference
    assert f"```yaml\n{example}```" in reference, f"flows/README.md lacks the '{name}' example"


def test_reference_has_a_whole_flow_that_validates_as_is():
    whole = [block for _, block in reference_blocks() if "steps" in read_yaml(block, "README")]
    assert len(whole) == 1
    for block in whole:
        assert parse_flow(block, "README").languages == ("fr", "bm")


def test_the_wrapper_does_not_hide_mistakes():
    with pytest.raises(Exception, match="missing translation 'bm'"):
        check_example("- id: x\n  type: info\n  text: {fr: Bonjour}\n", "wrapped")
    with pytest.raises(Exception, match="unknown step type"):
        check_example("- id: x\n  type: question\n  text: {fr: a, bm: b}\n", "wrapped")


def test_reference_names_the_four_areas():
    reference = REFERENCE.read_text(encoding="utf-8")
    for area in AREAS:
        assert f"`{area}`" in reference


@pytest.mark.parametrize("word, meaning", [
    ("STOP", "stop"), ("ARRET", "stop"), ("ARRÊT", "stop"), ("DABILA", "stop"),
    ("AIDE", "help"), ("DEME", "help"), ("RECOMMENCER", "restart"), ("KOKURA", "restart"),
])
def test_keywords_of_the_reference_work(word, meaning):
    assert f"`{word}`" in REFERENCE.read_text(encoding="utf-8")
    assert inputs.keyword(word) == meaning


def test_reference_lists_every_keyword():
    reference = REFERENCE.read_text(encoding="utf-8")
    for word in inputs.STOP_WORDS | inputs.HELP_WORDS | inputs.RESTART_WORDS:
        assert f"`{word.upper()}`" in reference, word


def test_folding_table_of_the_reference_is_what_phones_get():
    reference = REFERENCE.read_text(encoding="utf-8")
    table = reference.split("| written | shown |")[1].split("\n\n")[0]
    rows = [line.strip("|").split("|") for line in table.splitlines()[2:]]
    assert len(rows) >= 20
    for written, shown in rows:
        assert gsm.fold_to_gsm7(written.strip()) == shown.strip(), written


def test_reference_states_the_ussd_limit_and_paging():
    reference = REFERENCE.read_text(encoding="utf-8")
    for fact in ("182 characters", "`98. Suite`", "`0. Retour`", "`sms.unicode: true`",
                 "max_segments"):
        assert fact in reference, fact
    assert MESSAGES["fr"]["more"] == "Suite" and MESSAGES["fr"]["back"] == "Retour"


def test_voice_settings_docstring_example_is_valid_and_in_the_reference():
    from gateway.engine.voice_options import VoiceOptions

    [example] = YAML_BLOCK.findall(inspect.cleandoc(VoiceOptions.__doc__ or "") + "\n")
    check_example(example, "voice_options.py (VoiceOptions)")
    flow = parse_flow(as_flow(example), "example")
    assert "voice" in flow.channels and flow.voice.read_aloud == ("fr",)
    assert f"```yaml\n{example}```" in REFERENCE.read_text(encoding="utf-8")
