"""The worker's index: every job name used anywhere is a function of gateway.jobs."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import gateway
import gateway.jobs
from gateway.periodic import build_tasks

ROOT = Path(__file__).resolve().parent.parent
# A job name written out: in the index's namespace, or given to an enqueue call.
JOB_NAME = re.compile(r"""["'](gateway\.jobs\.\w+)["']|enqueue\w*\(\s*["']([\w.]+)["']""")


def job_constants() -> dict[str, str]:
    """Return every module constant named *_JOB in gateway/, by where it is defined."""
    found = {}
    for module in pkgutil.walk_packages(gateway.__path__, "gateway."):
        if module.name.endswith(("__main__", "gunicorn_config")):
            continue  # they run: the CLI, and gunicorn's start-up check of the settings
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if name.endswith("_JOB") and isinstance(value, str):
                found[f"{module.name}.{name}"] = value
    return found


def resolves(job_name: str) -> bool:
    module, _, function = job_name.rpartition(".")
    return module == "gateway.jobs" and inspect.isfunction(getattr(gateway.jobs, function, None))


def test_every_job_constant_names_a_function_of_the_index():
    constants = job_constants()
    assert len(constants) >= 6
    assert {where: name for where, name in constants.items() if not resolves(name)} == {}


def test_every_scheduled_task_runs_a_function_of_the_index(settings):
    assert [task.job for task in build_tasks(settings) if not resolves(task.job)] == []


def test_every_job_name_written_in_the_code_or_tests_resolves():
    written = set()
    for folder in ("gateway", "reports", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            for named, enqueued in JOB_NAME.findall(path.read_text(encoding="utf-8")):
                written.add(named or enqueued)
    assert written and sorted(name for name in written if not resolves(name)) == []


def test_every_function_of_the_index_is_a_short_entry_point():
    functions = [f for name, f in vars(gateway.jobs).items()
                 if inspect.isfunction(f) and f.__module__ == "gateway.jobs"
                 and not name.startswith("_")]
    assert len(functions) == 11
    assert [f.__name__ for f in functions
            if len(inspect.getsource(f).splitlines()) > 10 or not f.__doc__] == []


def test_a_worker_that_imports_the_index_knows_every_follow_up_of_a_sent_sms():
    # The outbox never imports the owners of message purposes; the index does, for workers.
    script = ("import gateway.jobs\nfrom gateway.sms import outbox\n"
              "print(sorted(purpose.value for purpose in outbox._FOLLOW_UPS))")
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True, cwd=ROOT)
    assert found.stdout.split() == ["['invitation']"]
