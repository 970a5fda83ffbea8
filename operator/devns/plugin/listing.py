"""``kubectl devns list``: DevNamespaces with countdowns and quota usage; ``--mine`` for mine and my groups'."""

from __future__ import annotations

import click

from .session import kube_options


@click.command("list")
@kube_options
def list_() -> None:
    """List DevNamespaces (TODO)."""
    raise NotImplementedError
