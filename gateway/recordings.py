"""The recordings a voice flow plays, kept beside the flow files, and whether each will play.

The folder is `recordings/` beside the flow file (`flows/recordings/` for the shipped flows);
the names inside it come from `gateway.engine.voice` (`maternal_care/bm/visit.wav`,
`_gateway/bm/press_1.wav`). Both providers' `Play` take WAV and MP3; Kuma takes WAV only,
PCM 16-bit, mono, at telephone rates, because the standard library can check every one of
those properties before a call and a phone line carries no more than 8 kHz anyway.
"""

from __future__ import annotations

import dataclasses
import re
import wave
from pathlib import Path
from typing import Mapping

from gateway.engine import voice
from gateway.engine.definition import Flow
from gateway.errors import FlowError

SAMPLE_RATES = (8000, 16000)
SAMPLE_WIDTH = 2          # bytes: 16-bit PCM
MIN_SECONDS = 0.2         # shorter is an empty or cut file
MAX_SECONDS = 60.0        # a mother will not listen to a longer question on a phone
SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
CONVERT = "sox IN -r 8000 -c 1 -b 16 OUT.wav"
LANGUAGE_NAMES = {"fr": "French", "bm": "Bambara"}


@dataclasses.dataclass(frozen=True)
class Findings:
    """What validation found: errors fail `flows validate`; warnings only say what happens."""

    errors: list[FlowError]
    warnings: list[FlowError]


def folder(flow: Flow) -> Path:
    """Return the recordings folder of a flow: `recordings/` beside its file."""
    return Path(flow.path).parent / "recordings"


def problem(path: Path) -> str | None:
    """Say why a recording will not play well on a call, or None when it will."""
    if not path.is_file():
        others = sorted(p.name for p in path.parent.iterdir()
                        if p.stem == path.stem and p != path) if path.parent.is_dir() else []
        if others:
            return f"is missing; found {others[0]}, which is not WAV: convert it ({CONVERT})"
        return "is missing"
    try:
        with wave.open(str(path), "rb") as audio:
            channels, width = audio.getnchannels(), audio.getsampwidth()
            rate, frames = audio.getframerate(), audio.getnframes()
    except (wave.Error, EOFError) as error:
        return f"is not a PCM WAV file ({error or 'cut short'}): convert it ({CONVERT})"
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if channels != 1:
        return f"has {channels} channels: a call plays mono ({CONVERT})"
    if width != SAMPLE_WIDTH:
        return f"is {8 * width}-bit: record 16-bit PCM ({CONVERT})"
    if rate not in SAMPLE_RATES:
        return (f"is sampled at {rate} Hz: use {' or '.join(map(str, SAMPLE_RATES))} Hz "
                f"({CONVERT})")
    seconds = frames / rate
    if seconds < MIN_SECONDS:
        return f"lasts {seconds:.2f} s: it is empty or cut"
    if seconds > MAX_SECONDS:
        return f"lasts {seconds:.0f} s, more than {MAX_SECONDS:.0f} s: say it shorter"
    return None


def check(flow: Flow, messages: Mapping[str, Mapping[str, str]],
          root: Path | None = None) -> Findings:
    """Check every recording a voice flow plays, in each of its voice languages."""
    findings = Findings([], [])
    if "voice" not in flow.channels:
        return findings
    root = folder(flow) if root is None else root
    for step in voice.spoken_steps(flow):
        names = [step.id, *(option.value for option in step.options())]
        for name in names:
            if not SAFE_NAME.match(name):
                findings.errors.append(_error(flow, step.line, f"step '{step.id}': '{name}' "
                                       "names a recording file: use letters, digits, _ and - "
                                       "only"))
    for language in flow.voice.languages:
        for segment in voice.script(flow, language, messages):
            _check_segment(flow, root, segment, findings)
    findings.errors.sort(key=lambda error: error.line or 0)
    findings.warnings.sort(key=lambda error: error.line or 0)
    return findings


def _check_segment(flow: Flow, root: Path, segment: voice.Segment, findings: Findings) -> None:
    path = root / segment.file
    found = problem(path)
    if found is None:
        return
    what = f"voice ({segment.language}): {path} {found}"
    if found != "is missing":
        findings.errors.append(_error(flow, segment.line, what))
    elif segment.language in flow.voice.read_aloud:
        findings.warnings.append(_error(flow, segment.line, f"warning: {what}; the provider "
                                        f"will read the text aloud instead: {segment.text!r}"))
    else:
        name = LANGUAGE_NAMES.get(segment.language, segment.language)
        findings.errors.append(_error(flow, segment.line, f"{what}; {name} is never "
                                      f"read aloud, record it (gateway flows script {flow.id} "
                                      f"--lang {segment.language})"))


def _error(flow: Flow, line: int, message: str) -> FlowError:
    return FlowError(message, path=flow.path, line=line or None)
