"""The engine does no I/O: no environment, clock, randomness or file of its own.

What it may import is its row of the ownership table, tests/test_layers.py; this file
checks the calls and names an import rule cannot see.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gateway.engine

ENGINE_DIR = Path(gateway.engine.__file__).parent
MODULES = sorted(ENGINE_DIR.glob("*.py"))

# Calls that read the clock, randomness or the environment.
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "getenv",
                   "random", "randint", "choice", "uuid4", "urandom", "open", "read_text",
                   "read_bytes", "write_text", "write_bytes", "print", "input"}
FORBIDDEN_NAMES = {"environ"}
# The one file read the engine does: `load_flow(path)`, a convenience for the CLI and the
# flow library. Sessions never touch a file.
ALLOWED_CALLS = {"definition.py": {"read_text"}}


def problems(source: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """Return what makes a module's source impure, as readable lines."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (getattr(node.func, "id", None) == "__import__" or
                                           getattr(node.func, "attr", None) == "import_module"):
            found.append(f"line {node.lineno}: imports by name")
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in FORBIDDEN_CALLS and called not in allowed:
                found.append(f"line {node.lineno}: calls {called}()")
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            if name in FORBIDDEN_NAMES:
                found.append(f"line {node.lineno}: uses {name}")
    return found


def test_the_engine_has_modules():
    assert {"definition.py", "session.py", "render.py", "gsm.py"} <= {m.name for m in MODULES}


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_module_is_pure(module):
    allowed = frozenset(ALLOWED_CALLS.get(module.name, ()))
    assert problems(module.read_text(encoding="utf-8"), allowed) == []


@pytest.mark.parametrize("source, problem", [
    ("from datetime import datetime\nx = datetime.now()", "line 2: calls now()"),
    ("import datetime\nx = datetime.datetime.utcnow()", "line 2: calls utcnow()"),
    ("from datetime import date\nx = date.today()", "line 2: calls today()"),
    ("def f(env):\n    return env.time()", "line 2: calls time()"),
    ("x = __import__('os')", "line 1: imports by name"),
    ("import importlib\nm = importlib.import_module('os')", "line 2: imports by name"),
    ("def f(os):\n    return os.environ['X']", "line 2: uses environ"),
    ("def f():\n    return open('x')", "line 2: calls open()"),
])
def test_the_checker_catches(source, problem):
    assert problem in problems(source)


def test_the_checker_allows_what_the_engine_needs():
    source = ("from datetime import datetime, timezone\nimport yaml\nimport unicodedata\n"
              "from gateway.engine.gsm import fold_to_gsm7\nfrom gateway.errors import FlowError\n"
              "def f(env):\n    return env.now.isoformat()\n")
    assert problems(source) == []


def test_readme_states_that_the_engine_does_no_io():
    readme = (ENGINE_DIR / "README.md").read_text(encoding="utf-8")
    assert "no I/O" in readme
    for word in ("flask", "redis", "sqlalchemy", "rq", "os.environ", "Environment.now"):
        assert word in readme
