"""``kubectl devns status``: one DevNamespace in full (conditions, Events, quota usage, access, limits)."""

from __future__ import annotations

import click

from .session import kube_options


@click.command()
@kube_options
def status() -> None:
    """Show a DevNamespace (TODO)."""
    raise NotImplementedError
