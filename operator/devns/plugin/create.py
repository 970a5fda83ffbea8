"""``kubectl devns create``: a DevNamespace for me (self-service), prompting for what the platform requires."""

from __future__ import annotations

import click

from .session import kube_options


@click.command()
@kube_options
def create() -> None:
    """Create a DevNamespace (TODO)."""
    raise NotImplementedError
