"""Recordings beside a voice flow: every missing or unplayable file named at its flow line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import recordings
from gateway.engine.definition import load_flow
from gateway.i18n import engine_messages
from tests.audio import record_all, write_wav
from tests.engine.support import FLOWS_DIR, shipped

MESSAGES = engine_messages()
SOURCE = (FLOWS_DIR / "maternal_care.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(next(l for l in text.splitlines() if needle in l)) + 1


@pytest.fixture
def voice_flow(tmp_path: Path):
    """Return a copy of maternal_care offered on voice, with every recording made."""
    path = tmp_path / "maternal_care.yaml"
    path.write_text(SOURCE.replace("channels: [ussd, sms]", "channels: [ussd, sms, voice]"),
                    encoding="utf-8")
    flow = load_flow(path)
    for language in ("fr", "bm"):
        record_all(flow, tmp_path / "recordings", language)
    return flow


def test_a_flow_not_offered_on_voice_needs_no_recordings():
    findings = recordings.check(shipped("maternal_care"), MESSAGES)
    assert findings.errors == [] and findings.warnings == []


def test_a_flow_with_every_recording_made_is_clean(voice_flow):
    findings = recordings.check(voice_flow, MESSAGES)
    assert findings.errors == [] and findings.warnings == []


def _break(voice_flow, file: str, **wav) -> Path:
    path = recordings.folder(voice_flow) / file
    write_wav(path, **wav)
    return path


@pytest.mark.parametrize("label, file, wav, message", [
    ("wrong sample rate", "maternal_care/bm/visit.wav", {"rate": 44100},
     "is sampled at 44100 Hz: use 8000 or 16000 Hz (sox IN -r 8000 -c 1 -b 16 OUT.wav)"),
    ("stereo", "maternal_care/fr/visit.wav", {"channels": 2},
     "has 2 channels: a call plays mono (sox IN -r 8000 -c 1 -b 16 OUT.wav)"),
    ("8-bit", "maternal_care/fr/visit.wav", {"width": 1},
     "is 8-bit: record 16-bit PCM (sox IN -r 8000 -c 1 -b 16 OUT.wav)"),
    ("too long", "maternal_care/bm/visit.wav", {"seconds": 61},
     "lasts 61 s, more than 60 s: say it shorter"),
    ("empty", "maternal_care/bm/visit.wav", {"seconds": 0.05},
     "lasts 0.05 s: it is empty or cut"),
])
def test_an_unplayable_recording_is_an_error_at_its_step_line(voice_flow, label, file, wav,
                                                            message):
    path = _break(voice_flow, file, **wav)
    findings = recordings.check(voice_flow, MESSAGES)
    language = file.split("/")[1]
    text_line = line_of(SOURCE, "Pour quelle visite") - 1  # the step's `text:`
    assert [str(e) for e in findings.errors] == [
        f"{voice_flow.path}:{text_line}: voice ({language}): {path} {message}"]


def test_a_file_that_is_not_audio_is_an_error(voice_flow):
    path = recordings.folder(voice_flow) / "maternal_care/fr/visit.prenatal.wav"
    path.write_text("not audio at all", encoding="utf-8")
    [error] = recordings.check(voice_flow, MESSAGES).errors
    assert str(error).startswith(f"{voice_flow.path}:{line_of(SOURCE, 'value: prenatal')}: "
                                 f"voice (fr): {path} is not a PCM WAV file (")


def test_a_missing_bambara_recording_is_an_error_never_read_in_french(voice_flow):
    path = recordings.folder(voice_flow) / "maternal_care/bm/visit.child.wav"
    path.unlink()
    findings = recordings.check(voice_flow, MESSAGES)
    assert [str(e) for e in findings.errors] == [
        f"{voice_flow.path}:{line_of(SOURCE, 'value: child')}: voice (bm): {path} is missing; "
        "Bambara is never read aloud, record it (gateway flows script maternal_care --lang bm)"]
    assert findings.warnings == []


def test_a_missing_french_recording_is_a_warning_that_the_text_will_be_read(voice_flow):
    path = recordings.folder(voice_flow) / "maternal_care/fr/consent.declined.wav"
    path.unlink()
    findings = recordings.check(voice_flow, MESSAGES)
    assert findings.errors == []
    assert [str(w) for w in findings.warnings] == [
        f"{voice_flow.path}:{line_of(SOURCE, 'declined:')}: warning: voice (fr): {path} is "
        "missing; the provider will read the text aloud instead: 'Merci. Bonne journée.'"]


def test_a_missing_gateway_phrase_is_named_at_the_channels_line(voice_flow):
    path = recordings.folder(voice_flow) / "_gateway/bm/press_3.wav"
    path.unlink()
    [error] = recordings.check(voice_flow, MESSAGES).errors
    assert str(error).startswith(f"{voice_flow.path}:{line_of(SOURCE, 'channels:')}: "
                                 f"voice (bm): {path} is missing")


def test_an_mp3_in_place_of_the_wav_is_named(voice_flow):
    path = recordings.folder(voice_flow) / "maternal_care/fr/wait.wav"
    path.rename(path.with_suffix(".mp3"))
    [error] = recordings.check(voice_flow, MESSAGES).errors
    assert "wait.wav is missing; found wait.mp3, which is not WAV: convert it" in str(error)


def test_a_step_id_that_cannot_name_a_file_is_an_error(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text("id: odd\ntitle: {fr: a, bm: b}\nlanguages: [fr, bm]\n"
                    "channels: [voice]\nvoice: {languages: [fr]}\nsteps:\n"
                    "  - id: visit\n    type: choice\n    text: {fr: Visite, bm: Taali}\n"
                    "    options:\n      - {value: 'a/b', fr: A, bm: A}\n", encoding="utf-8")
    flow = load_flow(path)
    record_all(flow, tmp_path / "recordings", "fr")
    [error] = recordings.check(flow, MESSAGES).errors
    assert str(error) == (f"{path}:7: step 'visit': 'a/b' names a recording file: use "
                          "letters, digits, _ and - only")
