"""`gateway webhooks urls`: the callback URLs in full, for the providers' dashboards."""

from __future__ import annotations

import sys

import click

from gateway.errors import KumaError
from gateway.settings import Settings


@click.group()
def webhooks() -> None:
    """The providers' callbacks."""


@webhooks.command()
@click.option("--base", default=None,
              help="Base URL the providers call (default: PUBLIC_URL, else http://127.0.0.1:PORT).")
@click.option("--port", type=click.IntRange(1, 65535), envvar="PORT", default=5000,
              show_default=True, help="Port of the default base URL (default: $PORT, else 5000).")
def urls(base: str | None, port: int) -> None:
    """Print every webhook URL with its token, escaped for a URL: copy them as they are."""
    try:
        settings = Settings.from_env()
    except KumaError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    base = (base or settings.public_url or f"http://127.0.0.1:{port}").rstrip("/")
    echo_callbacks(settings, base, masked=False)


def echo_callbacks(settings: Settings, base: str, *, masked: bool, indent: str = "") -> None:
    """Print every provider's callbacks, then what is unsafe in their configuration."""
    from gateway.channels import registry

    providers = [*registry.build(settings).values(), *registry.build_voice(settings).values()]
    for provider in providers:
        click.echo(f"{indent}{provider.title}:")
        for label, url in provider.callbacks(base, masked=masked):
            click.echo(f"{indent}  {label:36} {url}")
    for warning in filter(None, (provider.warning() for provider in providers)):
        click.echo(f"{indent}({warning})")
