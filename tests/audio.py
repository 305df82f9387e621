"""Recordings made at test time with the standard library: tones, never a voice."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

from gateway.engine import voice
from gateway.engine.definition import Flow
from gateway.i18n import engine_messages


def write_wav(path: Path, *, seconds: float = 0.5, rate: int = 8000, channels: int = 1,
              width: int = 2) -> Path:
    """Write a 400 Hz tone as a PCM WAV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    peak = 2 ** (8 * width - 1) - 1
    period = [int(peak * 0.3 * math.sin(2 * math.pi * n * 400 / rate)) for n in range(rate // 400)]
    if width == 1:  # 8-bit WAV is unsigned
        cycle = bytes((s + 128) for s in period for _ in range(channels))
    else:
        cycle = b"".join(struct.pack("<h", s) * channels for s in period)
    frame_bytes = width * channels
    data = (cycle * (int(seconds * rate) // len(period) + 1))[: int(seconds * rate) * frame_bytes]
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(channels)
        audio.setsampwidth(width)
        audio.setframerate(rate)
        audio.writeframes(data)
    return path


def record_all(flow: Flow, root: Path, language: str) -> list[Path]:
    """Make every recording a call of `flow` in `language` plays; return their paths."""
    return [write_wav(root / segment.file)
            for segment in voice.script(flow, language, engine_messages())]
