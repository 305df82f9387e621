"""`gateway flows validate`, `script` and `simulate --channel voice` on a flow offered by call."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.engine.definition import load_flow
from tests.audio import record_all
from tests.engine.support import FLOWS_DIR

SOURCE = (FLOWS_DIR / "maternal_care.yaml").read_text(encoding="utf-8")


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def voice_flow(tmp_path: Path) -> Path:
    """Return the path of a copy of maternal_care offered on voice, with no recordings yet."""
    path = tmp_path / "maternal_care.yaml"
    path.write_text(SOURCE.replace("channels: [ussd, sms]", "channels: [ussd, sms, voice]"),
                    encoding="utf-8")
    return path


def test_validate_names_every_missing_bambara_recording_and_warns_for_french(voice_flow):
    result = run("flows", "validate", str(voice_flow))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    errors = [l for l in lines if "voice (bm)" in l]
    warnings = [l for l in lines if "warning: voice (fr)" in l]
    assert len(errors) == len(warnings) == 48
    assert f"{voice_flow}:75: voice (bm): {voice_flow.parent}/recordings/maternal_care/bm/" \
           "visit.wav is missing; Bambara is never read aloud, record it (gateway flows script " \
           "maternal_care --lang bm)" in errors
    assert f"{voice_flow}:75: warning: voice (fr): {voice_flow.parent}/recordings/" \
           "maternal_care/fr/visit.wav is missing; the provider will read the text aloud " \
           "instead: 'Pour quelle visite êtes-vous venue ?'" in warnings
    assert lines[-1] == "48 problem(s) found."
    assert result.stdout == ""


def test_validate_passes_with_bambara_recorded_and_french_read_aloud(voice_flow):
    record_all(load_flow(voice_flow), voice_flow.parent / "recordings", "bm")
    result = run("flows", "validate", str(voice_flow))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"ok  {voice_flow}  (maternal_care")
    assert all(": warning: voice (fr): " in line for line in result.stderr.splitlines())


def test_script_prints_each_file_and_its_exact_text_in_the_order_heard(voice_flow):
    made = record_all(load_flow(voice_flow), voice_flow.parent / "recordings", "bm")
    made[1].unlink()  # the language name, a gateway phrase
    result = run("flows", "script", str(voice_flow), "--lang", "bm")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Recording script of maternal_care (")
    assert lines[0].endswith(f"in bm: 48 recordings under {voice_flow.parent}/recordings/")
    assert lines[3:9] == [
        "This flow's questions (maternal_care/bm/)",
        "  1. maternal_care/bm/language.wav", "     I ka kan sugandi",
        "  2. maternal_care/bm/consent.wav",
        "     CSCom: i hakilina fɔ i ka taali kan. A ye fu ye, i tɔgɔ tɛ fɔ (miniti 3). "
        "I sɔnna wa?",
        "  3. maternal_care/bm/consent.declined.wav"]
    assert "  1. _gateway/bm/language_name.wav  [is missing]" in lines
    assert "  2. _gateway/bm/press_2.wav" in lines and "     2 digi." in lines
    assert "comment" not in result.stdout  # free text is not played on a call


def test_script_of_a_flow_not_offered_on_voice_says_how_to_offer_it():
    result = run("flows", "script", "maternal_care", "--lang", "fr")
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("flow 'maternal_care' is not offered on voice: "
                                          "add voice to its 'channels'")


def test_simulate_a_call_with_keys_typed(voice_flow):
    record_all(load_flow(voice_flow), voice_flow.parent / "recordings", "bm")
    result = run("flows", "simulate", str(voice_flow), "--channel", "voice", "--lang", "bm",
                 "--center", "07", input="1\n7\n\n*\n2\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0].endswith("on voice, language bm, centre 07")
    assert "  [play] maternal_care/bm/consent.wav\n      CSCom: i hakilina" in out
    assert "  (waits 10 s for 1 key; * repeats)" in out
    assert "      = consent: yes" in out
    assert out.count("  [play] maternal_care/bm/visit.wav\n      I nana mun kama?") == 4
    assert out.count("  [play] _gateway/bm/not_an_answer.wav") == 1
    assert "      = visit: delivery" in out
    assert out.rstrip().endswith("(call left open)")


def test_simulate_a_scripted_call_in_french_marks_what_is_read_aloud(voice_flow):
    result = run("flows", "simulate", str(voice_flow), "--channel", "voice", "--lang", "fr",
                 "--center", "07", "--inputs", "1,,,")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "  [MISSING, read aloud] maternal_care/fr/visit.wav\n" \
           "      Pour quelle visite êtes-vous venue ?" in out
    assert "> (no key)" in out
    assert out.rstrip().endswith("  [MISSING, read aloud] _gateway/fr/goodbye.wav\n"
                                 "      Nous n'avons pas reçu votre réponse. Merci, au revoir.\n"
                                 "  (the call ends)")
    assert "      = session abandoned" in out


def test_simulate_in_bambara_marks_missing_recordings_as_silence(voice_flow):
    result = run("flows", "simulate", str(voice_flow), "--channel", "voice", "--lang", "bm",
                 "--inputs", "2")
    assert result.exit_code == 0, result.output
    assert "  [MISSING, silence] maternal_care/bm/consent.declined.wav\n" \
           "      I ni ce. Tile hɛrɛ!\n  (the call ends)" in result.stdout
