"""How a flow is offered by phone call: the `voice:` key of a flow file, read with its lines."""

from __future__ import annotations

import dataclasses

from gateway.engine.steps import Reader
from gateway.engine.yamlsource import LineDict

# Languages no provider can read aloud: a missing recording is an error, never a French voice.
NO_SPEECH = frozenset({"bm"})
KEYS = frozenset({"languages", "timeout", "read_aloud"})


@dataclasses.dataclass(frozen=True)
class VoiceOptions:
    """How a flow behaves on a call; offered only when `voice` is in the flow's `channels`.

    ```yaml
    channels: [ussd, sms, voice]
    voice:
      languages: [fr, bm]
      timeout: 10
      read_aloud: [fr]
    ```

    `languages`: the languages the call is offered in (default: the flow's), each needing its
    recordings; `timeout`: seconds to wait for a key before the question is played again;
    `read_aloud`: languages whose missing recordings the provider reads aloud instead
    (default `[fr]`; `bm` is refused: no provider speaks Bambara).
    """

    languages: tuple[str, ...] = ()
    timeout: int = 10
    read_aloud: tuple[str, ...] = ("fr",)
    line: int = 0


def read_voice_options(data: LineDict, reader: Reader, channels: list[str]) -> VoiceOptions:
    """Read the flow's `voice:` mapping; record every mistake at its line."""
    spec = data.get("voice")
    line = data.line_of("voice") if spec is not None else data.line_of("channels")
    if spec is None:
        return VoiceOptions(languages=reader.languages, line=line)
    if "voice" not in channels:
        reader.error("'voice' is set but 'voice' is not in 'channels'", line)
    if not isinstance(spec, dict):
        reader.error("'voice' must be a mapping (languages, timeout, read_aloud)", line)
        return VoiceOptions(languages=reader.languages, line=line)
    for key in sorted(set(spec) - KEYS):
        reader.error(f"unknown field '{key}' in 'voice' (allowed: {', '.join(sorted(KEYS))})",
                     _line(spec, key, line))
    languages = _languages(spec, "languages", reader.languages, reader, line)
    read_aloud = _languages(spec, "read_aloud", ("fr",), reader, line)
    for language in sorted(NO_SPEECH & set(read_aloud)):
        reader.error(f"'read_aloud' cannot hold '{language}': no provider reads it aloud, "
                     "so every recording in it must be made", _line(spec, "read_aloud", line))
    timeout = reader.number(spec, "timeout", 10, line, None, low=3, high=30)
    return VoiceOptions(languages, int(timeout or 10), read_aloud, line)


def _languages(spec: dict, key: str, default: tuple[str, ...], reader: Reader,
               line: int) -> tuple[str, ...]:
    value = spec.get(key, list(default))
    if not isinstance(value, list) or not all(v in reader.languages for v in value) \
            or (key == "languages" and not value):
        reader.error(f"'voice.{key}' must list some of the flow's languages "
                     f"({', '.join(reader.languages)})", _line(spec, key, line))
        return default
    return tuple(value)


def _line(data: object, key: str, default: int) -> int:
    return data.line_of(key) if isinstance(data, LineDict) else default
