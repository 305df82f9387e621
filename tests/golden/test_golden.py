"""Replay whole conversations and compare every screen and answer with the golden files.

Each `tests/golden/<flow>.<case>.yaml` holds the session's flow, channel, language, centre
and inputs, and what the phone must show (`screens`), the answers stored and how the
session ends. After a deliberate change, `pytest tests/golden --update-golden` rewrites
them from the engine, and reviewers read the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine.support import Conversation, env, shipped

GOLDEN_DIR = Path(__file__).parent
CASES = sorted(GOLDEN_DIR.glob("*.*.yaml"))
# Centre codes the lookup knows, standing in for the centres table.
KNOWN_CENTERS = {"07": "07", "12": "12", "BKO12": "BKO12"}
HEADER = ("# Golden conversation, replayed by tests/golden/test_golden.py.\n"
          "# Edit flow/channel/language/center/inputs by hand; rewrite the rest with\n"
          "#   pytest tests/golden --update-golden\n")


class _Dumper(yaml.SafeDumper):
    """Write multi-line screens as literal blocks, as they show on a phone."""


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def replay(case: dict[str, Any]) -> dict[str, Any]:
    """Run a case's inputs and return what the golden file should say."""
    chat = Conversation(shipped(case["flow"]), case["channel"], case["language"],
                        case["center"], env(center_lookup=KNOWN_CENTERS.get))
    for typed in case["inputs"]:
        assert not chat.last.reply.final, f"input {typed!r} comes after the session ended"
        chat.send(typed)
    return {
        "screens": [{"text": turn.reply.text, "final": turn.reply.final} for turn in chat.turns],
        "answers": chat.answers(),
        "status": chat.state["status"],
        "restart": chat.last.restart,
    }


def test_there_are_golden_cases():
    names = {path.name for path in CASES}
    assert len(names) >= 7
    assert all(name.split(".")[0] in {"maternal_care"} for name in names)


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.stem)
def test_conversation_matches_golden(path: Path, update_golden: bool):
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert case["flow"] == path.name.split(".")[0]
    assert {"flow", "channel", "language", "center", "inputs"} <= set(case)
    got = replay(case)
    if update_golden:
        keep = {key: case[key] for key in ("flow", "channel", "language", "center", "inputs")}
        text = yaml.dump({**keep, **got}, Dumper=_Dumper, allow_unicode=True,
                         sort_keys=False, width=100)
        path.write_text(HEADER + text, encoding="utf-8")
        return
    assert got["screens"] == case.get("screens"), "screens differ (see --update-golden)"
    assert got["answers"] == case.get("answers")
    assert got["status"] == case.get("status")
    assert got["restart"] == case.get("restart")
