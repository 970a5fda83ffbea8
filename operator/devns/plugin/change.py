"""``kubectl devns extend`` and ``kubectl devns delete``: a DevNamespace's lifetime."""

from __future__ import annotations

import click

from .session import kube_options


@click.command()
@kube_options
def extend() -> None:
    """Extend a DevNamespace's lifetime (TODO)."""
    raise NotImplementedError


@click.command()
@kube_options
def delete() -> None:
    """Delete a DevNamespace (TODO)."""
    raise NotImplementedError
