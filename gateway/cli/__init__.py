"""The `gateway` command: one click group per concern, each in its own module."""

from __future__ import annotations

import importlib
import logging

import click

# name of the command or group -> "module:attribute"; imported only when used, so that
# `gateway flows validate` does not pay for SQLAlchemy or Redis.
COMMANDS = {
    "flows": "gateway.cli.flows:flows",
    "db": "gateway.cli.db:db",
    "serve": "gateway.cli.serve:serve",
    "worker": "gateway.cli.serve:worker",
    "scheduler": "gateway.cli.serve:scheduler",
    "centers": "gateway.cli.centers:centers",
    "recipients": "gateway.cli.recipients:recipients",
    "invite": "gateway.cli.invite:invite",
    "summaries": "gateway.cli.summaries:summaries",
    "report": "gateway.cli.report:report",
    "messages": "gateway.cli.messages:messages",
    "tokens": "gateway.cli.tokens:tokens",
    "staff": "gateway.cli.invite:staff",
    "responses": "gateway.cli.responses:responses",
    "users": "gateway.cli.users:users",
    "pdsa": "gateway.cli.pdsa:pdsa",
    "events": "gateway.cli.events:events",
    "webhooks": "gateway.cli.webhooks:webhooks",
}


class LazyGroup(click.Group):
    """A group whose subcommands live in modules imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._load(name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                return None  # not built yet
            raise
        return getattr(module, attribute)


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Kuma: SMS and USSD patient feedback for community health centres."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from gateway import logmask

    logmask.install()  # webhook URLs carry AT's token
