"""Kubernetes API clients for a kubeconfig: as its own identity or impersonating a user, sized for threads."""

from __future__ import annotations

from os import PathLike

import kubernetes
from kubernetes.client import ApiClient


def client(kubeconfig: str | PathLike, *, user: str | None = None, groups: tuple[str, ...] = (),
           pool: int | None = None) -> ApiClient:
    """An API client for the kubeconfig's identity, or impersonating ``user`` (and at most one of ``groups``: the
    client sends one value per header name). ``pool``: the connection pool size, for a client shared by that many
    threads (the client's default is 5 per CPU)."""
    config = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(kubeconfig), client_configuration=config)
    if pool is not None:
        config.connection_pool_maxsize = pool  # read when the ApiClient builds its pool, so set before
    api = ApiClient(config)
    if user:
        api.set_default_header("Impersonate-User", user)
        for group in groups[:1]:
            api.set_default_header("Impersonate-Group", group)
    return api
