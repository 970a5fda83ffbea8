"""Which cluster and who: the kubeconfig and context kubectl would use, the API client built from them, and the
server and CA a new kubeconfig for a developer copies from the admin's context."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import click
import kubernetes
from kubernetes.client import ApiClient, AuthenticationV1Api, V1SelfSubjectReview
from kubernetes.config.kube_config import KUBE_CONFIG_DEFAULT_LOCATION, KubeConfigMerger

from .errors import PluginError


@dataclass(frozen=True)
class ClusterInfo:
    """What a new kubeconfig needs of the admin's cluster entry."""

    name: str
    server: str
    ca_data: str | None  # base64 PEM, as in a kubeconfig's certificate-authority-data
    insecure: bool = False


class Session:
    """The kubeconfig (``--kubeconfig``, else $KUBECONFIG, else ~/.kube/config) and context (``--context``, else
    its current-context), loaded on first use."""

    def __init__(self, kubeconfig: str | None = None, context: str | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.context = context

    @cached_property
    def _paths(self) -> str:
        return self.kubeconfig or os.environ.get("KUBECONFIG") or os.path.expanduser(KUBE_CONFIG_DEFAULT_LOCATION)

    @cached_property
    def _merged(self) -> KubeConfigMerger:
        merger = KubeConfigMerger(self._paths)
        if not merger.config or not merger.config.value:
            raise PluginError(f"no kubeconfig found at {self._paths}: pass --kubeconfig or set KUBECONFIG")
        return merger

    @cached_property
    def config(self) -> dict[str, Any]:
        # The merger wraps each entry of contexts, clusters and users in a ConfigNode: plain dicts here.
        return {key: [getattr(e, "value", e) for e in value] if isinstance(value, list) else value
                for key, value in self._merged.config.value.items()}

    @cached_property
    def context_name(self) -> str:
        name = self.context or self.config.get("current-context")
        if not name:
            raise PluginError("the kubeconfig has no current context: pass --context")
        if not any(c.get("name") == name for c in self.config.get("contexts") or []):
            raise PluginError(f'context "{name}" does not exist in the kubeconfig')
        return name

    def _named(self, section: str, name: str) -> dict[str, Any]:
        entry = next((e for e in self.config.get(section) or [] if e.get("name") == name), None)
        if entry is None:
            raise PluginError(f'the kubeconfig names {section[:-1]} "{name}" but has no such entry')
        return entry.get(section[:-1]) or {}

    @cached_property
    def default_namespace(self) -> str:
        context = self._named("contexts", self.context_name)
        return context.get("namespace") or "default"

    @cached_property
    def cluster(self) -> ClusterInfo:
        """The server and CA of the context's cluster, the CA inlined (a file path would not travel)."""
        name = self._named("contexts", self.context_name).get("cluster", "")
        cluster = self._named("clusters", name)
        ca = cluster.get("certificate-authority-data")
        if not ca and cluster.get("certificate-authority"):
            path = Path(cluster["certificate-authority"])
            if not path.is_absolute():
                path = Path(self._paths.split(os.pathsep)[0]).expanduser().parent / path
            ca = base64.b64encode(path.read_bytes()).decode()
        return ClusterInfo(name=name, server=cluster["server"], ca_data=ca,
                           insecure=bool(cluster.get("insecure-skip-tls-verify")))

    @cached_property
    def api(self) -> ApiClient:
        try:
            return kubernetes.config.new_client_from_config(config_file=self._paths, context=self.context_name,
                                                            persist_config=False)
        except kubernetes.config.ConfigException as exc:
            raise PluginError(f"cannot use the kubeconfig: {exc}") from exc


def _setter(attr: str):
    def callback(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value is not None:
            setattr(ctx.ensure_object(Session), attr, value)
    return callback


def kube_options(command):
    """``--kubeconfig`` and ``--context`` on a command: kubectl takes its global flags before or after the verb."""
    command = click.option("--context", metavar="NAME", expose_value=False, callback=_setter("context"),
                           help="The kubeconfig context to use (default: its current-context).")(command)
    return click.option("--kubeconfig", metavar="PATH", expose_value=False, callback=_setter("kubeconfig"),
                        help="Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).")(command)


pass_session = click.make_pass_decorator(Session, ensure=True)


@dataclass(frozen=True)
class Identity:
    """Who the API server says I am (SelfSubjectReview)."""

    username: str
    groups: tuple[str, ...]


def whoami(api: ApiClient) -> Identity:
    review = AuthenticationV1Api(api).create_self_subject_review(
        V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview"))
    info = review.status.user_info
    return Identity(username=info.username or "", groups=tuple(info.groups or ()))
