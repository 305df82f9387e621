"""What the engine tests share: the gateway's real messages, a fixed clock, conversations."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gateway.engine.definition import Flow, load_flow, parse_flow
from gateway.engine.session import Environment, Trigger, Turn, resume, start
from gateway.i18n import engine_messages

FLOWS_DIR = Path(__file__).resolve().parents[2] / "flows"
NOW = datetime(2024, 5, 6, 9, 30, tzinfo=timezone.utc)
MESSAGES = engine_messages()


def env(**changes: Any) -> Environment:
    """Return an Environment with the fixed clock and the gateway's own messages."""
    return Environment(**{"now": NOW, "messages": MESSAGES, **changes})


@functools.cache
def shipped(flow_id: str) -> Flow:
    """Return a flow shipped in flows/."""
    return load_flow(FLOWS_DIR / f"{flow_id}.yaml")


def shipped_flows() -> list[Flow]:
    """Return every flow shipped in flows/."""
    return [shipped(path.stem) for path in sorted(FLOWS_DIR.glob("*.yaml"))]


def demo(source: str, path: str = "demo.yaml") -> Flow:
    """Parse a flow written in a test."""
    return parse_flow(source, path)


@dataclass
class Conversation:
    """A session driven input by input, keeping every turn."""

    flow: Flow
    channel: str
    language: str | None = None
    center: str | None = None
    environment: Environment = field(default_factory=env)
    turns: list[Turn] = field(default_factory=list)

    def __post_init__(self) -> None:
        trigger = Trigger(self.channel, language=self.language, center=self.center)
        self.turns.append(start(self.flow, trigger, self.environment))

    @property
    def last(self) -> Turn:
        return self.turns[-1]

    @property
    def text(self) -> str:
        return self.last.reply.text

    @property
    def state(self) -> dict[str, Any]:
        return self.last.state

    def send(self, *inputs: str) -> Turn:
        """Answer with each input in turn; return the last turn."""
        for text in inputs:
            self.turns.append(resume(self.flow, self.state, text, self.environment))
        return self.last

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Return every event so far, or those of one type."""
        found = [event for turn in self.turns for event in turn.events]
        return [event for event in found if kind is None or event["type"] == kind]

    def answers(self) -> dict[str, Any]:
        """Return step → {value, score} of every answer_given event."""
        return {event["step"]: {"value": event["value"], "score": event["score"]}
                for event in self.events("answer_given")}

    def state_size(self) -> int:
        """Return the size in bytes of the state as the session store writes it."""
        payload = json.dumps(self.state, separators=(",", ":"), ensure_ascii=False)
        return len(payload.encode("utf-8"))
