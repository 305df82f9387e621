"""The flows a gateway serves: every file of the flows folder, checked, by id and version.

A session is pinned to the version it started on. The versions a process has seen are kept
in memory, and their sources can be archived (in Redis) so that another process, or this
one after a restart, can finish a session begun on a flow file that has since been edited.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Protocol

from gateway.engine.checks import check_fit
from gateway.engine.definition import Flow, load_flow, parse_flow
from gateway import recordings
from gateway.errors import FlowError, FlowLoadError

log = logging.getLogger(__name__)


class SourceArchive(Protocol):
    """Where flow sources are kept by version, so that old versions can be rebuilt."""

    def put_flow_source(self, version: str, path: str, source: str) -> None: ...

    def get_flow_source(self, version: str) -> tuple[str, str] | None: ...


def check_files(paths: list[Path], messages: Mapping[str, Mapping[str, str]], *,
                ussd_limit: int = 182) -> tuple[list[Flow], list[FlowError]]:
    """Load and check flow files (folders are searched for *.yaml); return flows and errors."""
    files: list[Path] = []
    errors: list[FlowError] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        elif path.exists():
            files.append(path)
        else:
            errors.append(FlowError("no such file or folder", path=str(path)))
    flows: list[Flow] = []
    seen: dict[str, str] = {}
    for file in files:
        try:
            flow = load_flow(file)
        except FlowLoadError as error:
            errors.extend(error.errors)
            continue
        fit_errors = check_fit(flow, messages, ussd_limit=ussd_limit)
        if flow.id in seen:
            fit_errors.append(FlowError(f"flow id '{flow.id}' is also used by {seen[flow.id]}",
                                        path=str(file), line=1))
        seen[flow.id] = str(file)
        errors.extend(fit_errors)
        if not fit_errors:
            flows.append(flow)
    return flows, errors


class FlowLibrary:
    """The live flows, by id, and every version seen, by hash."""

    def __init__(self, flows_dir: Path, messages: Mapping[str, Mapping[str, str]], *,
                 ussd_limit: int = 182, archive: SourceArchive | None = None) -> None:
        self.flows_dir = Path(flows_dir)
        self.messages = messages
        self.ussd_limit = ussd_limit
        self.archive = archive
        self._live: dict[str, Flow] = {}
        self._versions: dict[str, Flow] = {}
        self._not_callable: dict[str, list[FlowError]] = {}

    def load(self) -> list[Flow]:
        """(Re)load the folder; raise FlowLoadError, keeping the previous flows, if any is broken."""
        flows, errors = check_files([self.flows_dir], self.messages, ussd_limit=self.ussd_limit)
        if errors:
            raise FlowLoadError(errors)
        if not flows:
            raise FlowLoadError([FlowError("no flow files (*.yaml) in this folder",
                                           path=str(self.flows_dir))])
        self._live = {flow.id: flow for flow in flows}
        # A recording missing or unplayable keeps the flow live on USSD and SMS, but no
        # mother is called with a silent question: calls wait for `gateway flows validate`.
        self._not_callable = {flow.id: found for flow in flows
                              if (found := recordings.check(flow, self.messages).errors)}
        for flow_id, found in self._not_callable.items():
            log.error("flow %s is not offered on calls until its recordings play: %d "
                      "problem(s), the first: %s", flow_id, len(found), found[0])
        for flow in flows:
            self._versions[flow.version] = flow
            if self.archive is not None:
                self.archive.put_flow_source(flow.version, flow.path, flow.source)
        log.info("loaded %d flow(s): %s", len(flows),
                 ", ".join(f"{f.id}@{f.version}" for f in flows))
        return flows

    @property
    def flows(self) -> Mapping[str, Flow]:
        """Return the live flows by id."""
        return self._live

    def call_problems(self, flow_id: str) -> list[FlowError]:
        """Return why a live voice flow cannot be played on a call yet (empty: it can)."""
        return self._not_callable.get(flow_id, [])

    def live(self, flow_id: str) -> Flow | None:
        """Return the current version of a flow, or None."""
        return self._live.get(flow_id)

    def version(self, version: str) -> Flow | None:
        """Return the flow at an exact version, rebuilding it from the archive if need be."""
        flow = self._versions.get(version)
        if flow is None and self.archive is not None:
            found = self.archive.get_flow_source(version)
            if found is not None:
                path, source = found
                flow = parse_flow(source, path)
                self._versions[version] = flow
        return flow

    def default(self) -> Flow:
        """Return the flow used when nothing names one: `maternal_care`, else the first."""
        if "maternal_care" in self._live:
            return self._live["maternal_care"]
        return next(iter(self._live.values()))
