"""Credentials for a developer or a CI job: ``onboard`` (key + CSR + DevNamespace + kubeconfig) and ``token``
(a ServiceAccount's bound, expiring token as a kubeconfig)."""

from __future__ import annotations

import click

from .session import kube_options


@click.command()
@kube_options
def onboard() -> None:
    """Onboard a developer (TODO)."""
    raise NotImplementedError


@click.command()
@kube_options
def token() -> None:
    """A kubeconfig for a ServiceAccount (TODO)."""
    raise NotImplementedError
