"""Operator settings: one documented model, read once from ``DEVNS_*`` environment variables at start-up.

Lists and maps are given as JSON (``DEVNS_ALLOWED_ROLES='["edit","view"]'``). Every field below is documented in
the README's configuration table; its default is what a platform team gets without configuring anything.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .contract import SEEDABLE_KINDS
from .units import parse_duration, parse_quantity

NEVER = ("none", "never")

#: Namespaces that platform components commonly install into, sooner or later: a developer who takes one of these
#: names first (a DevNamespace called argocd or cert-manager) would block that install, or be handed the namespace
#: a component later trusts (a monitoring stack scraping "monitoring", an ingress controller in "ingress-nginx").
DEFAULT_RESERVED_NAMESPACES = (
    "kube-*", "default", "*-system", "openshift", "openshift-*", "cattle-*", "fleet-*", "istio-*", "linkerd*",
    "knative-*", "tekton-*", "argocd", "argo-*", "flux-system", "cert-manager", "ingress-nginx", "kubernetes-dashboard",
    "monitoring", "prometheus*", "grafana*", "logging", "observability", "velero", "kyverno", "gatekeeper*",
    "vault", "consul", "rook-ceph", "local-path-storage", "calico-*", "tigera-*",
)


def optional_duration(value: str) -> dt.timedelta | None:
    """``none``/``never`` -> None, otherwise a parsed duration."""
    return None if value.strip().lower() in NEVER else parse_duration(value)


class Settings(BaseSettings):
    """devns operator configuration (environment variables ``DEVNS_<FIELD>``, upper case)."""

    model_config = SettingsConfigDict(env_prefix="DEVNS_", frozen=True, extra="ignore")

    operator_namespace: str = Field("devns-system", description="Namespace the operator runs in; never managed.")
    reserved_namespaces: list[str] = Field(
        default_factory=lambda: list(DEFAULT_RESERVED_NAMESPACES),
        description="Namespace names or glob patterns (team-*) devns must never create, adopt or delete; default, "
                    "kube-* and the operator's namespace are always reserved. The default covers what clusters "
                    "commonly install later; a value replaces it (keep the entries you still want).")
    allowed_roles: list[str] = Field(default_factory=lambda: ["edit", "view"],
                                     description="ClusterRoles a DevNamespace may bind its owners to.")
    default_role: str = Field("edit", description="ClusterRole used when spec.role is empty.")
    allow_privileged: bool = Field(False, description="Whether spec.podSecurity=privileged is accepted.")
    cluster_view_role: str = Field("devns-cluster-view",
                                   description="Read-only ClusterRole (without Secrets) granted by clusterView.")
    default_quota: dict[str, str] = Field(
        default_factory=lambda: {
            "requests.cpu": "2", "requests.memory": "4Gi", "limits.cpu": "4", "limits.memory": "8Gi",
            "requests.storage": "20Gi", "persistentvolumeclaims": "10", "pods": "50", "services": "20",
            "services.nodeports": "0", "services.loadbalancers": "0", "configmaps": "100", "secrets": "100",
        },
        description="ResourceQuota spec.hard defaults; spec.quota entries override them.")
    default_limits: dict[str, dict[str, str]] = Field(
        default_factory=lambda: {
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
            "default": {"cpu": "500m", "memory": "512Mi"},
            "max": {"cpu": "2", "memory": "4Gi"},
        },
        description="LimitRange (type Container) defaults; spec.limits entries override them.")
    dns_namespace: str = Field("kube-system", description="Namespace of the cluster DNS, for the DNS egress allow.")
    default_ttl: str = Field("none", description="TTL for DevNamespaces that set neither ttl nor expiresAt; "
                                                 "'none' = never expire.")
    max_ttl: str = Field("none", description="Longest lifetime a DevNamespace may ask for; 'none' = no cap.")
    warn_before: list[str] = Field(default_factory=lambda: ["24h", "1h"],
                                   description="Lead times before expiry at which owners are warned.")
    expired_retention: str = Field("24h", description="How long an expired DevNamespace stays listed before it "
                                                      "is removed; '0s' or 'none' = at once.")
    gc_key_secret: str = Field("devns-gc-key", description="Secret (in the operator's namespace) holding the key "
                                                           "that signs namespaces devns created.")
    dry_run: bool = Field(False, description="Log and post Events for expiry deletions instead of deleting.")
    metrics_port: int = Field(8080, description="Port of the Prometheus /metrics endpoint (0 = off).")
    stuck_terminating_after: str = Field("5m", description="How long a namespace may terminate before devns "
                                                           "reports it as stuck.")
    peering_lifetime: Annotated[int, Field(ge=5)] = Field(
        20, description="With --peering: seconds a replica's heartbeat stays valid; a standby takes over at most "
                        "this long after the active replica dies.")
    worker_limit: Annotated[int, Field(ge=1)] = Field(
        100, description="Threads for reconciles and API calls: how many DevNamespaces are reconciled at once.")
    verify_rate: Annotated[float, Field(gt=0)] = Field(
        20.0, description="DevNamespaces per second reconciled again after a start-up resumed them from their status "
                          "alone: what changed in their namespaces while no operator ran is put back (10,000 take "
                          "about 8 minutes at 20).")
    resume_limit: Annotated[int, Field(ge=1)] = Field(
        8, description="How many DevNamespaces a start-up resumes at once (of worker_limit): the rest of the "
                       "threads stay free, so a DevNamespace created or changed meanwhile does not wait behind "
                       "thousands of resumes.")
    trusted_source_namespaces: list[str] = Field(
        default_factory=list,
        description="Namespace names or glob patterns (ingress-*) of platform namespaces every DevNamespace may "
                    "admit ingress from (spec.network.allowFromNamespaces) although no DevNamespace manages them; "
                    "a namespace a DevNamespace manages is judged by its owners only, whatever its name.")
    idle_sleep_after: str = Field("none", description="spec.idle.sleepAfter for DevNamespaces (and classes) that "
                                                      "set none; 'none' = never sleep.")
    idle_delete_after: str = Field("none", description="spec.idle.deleteAfter for DevNamespaces (and classes) "
                                                       "that set none; 'none' = never delete for inactivity.")
    seed_kinds: list[str] = Field(
        default_factory=lambda: list(SEEDABLE_KINDS),
        description="Kinds a DevNamespaceClass may seed into its namespaces (spec.seed manifests and copies); "
                    "the operator's RBAC (manifests/base/rbac-seeds.yaml) grants exactly these. Empty: no seeds.")
    seed_source_namespace: str = Field(
        "devns-seeds", description="The one namespace seed copies (spec.seed[].copyFrom) are read from; the "
                                   "operator may read ConfigMaps and Secrets there and nowhere else.")

    @field_validator("seed_kinds")
    @classmethod
    def _seedable(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(SEEDABLE_KINDS))
        if unknown:
            raise ValueError(f"cannot seed {', '.join(unknown)}: seedable kinds are {', '.join(SEEDABLE_KINDS)}")
        return value

    @field_validator("default_ttl", "max_ttl", "idle_sleep_after", "idle_delete_after")
    @classmethod
    def _duration_or_none(cls, value: str) -> str:
        optional_duration(value)
        return value

    @field_validator("warn_before", mode="after")
    @classmethod
    def _durations(cls, value: list[str]) -> list[str]:
        for item in value:
            parse_duration(item)
        return value

    @field_validator("stuck_terminating_after")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("expired_retention")
    @classmethod
    def _duration_or_zero(cls, value: str) -> str:
        if value.strip().lower() not in (*NEVER, "0", "0s"):
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        if self.default_role not in self.allowed_roles:
            raise ValueError(f"default_role {self.default_role!r} is not in allowed_roles {self.allowed_roles}")
        for value in self.default_quota.values():
            parse_quantity(value)
        for group in self.default_limits.values():
            for value in group.values():
                parse_quantity(value)
        return self

    # -- derived values (parsed on first use, then cached: the settings are frozen) -------------------------
    @cached_property
    def default_ttl_delta(self) -> dt.timedelta | None:
        return optional_duration(self.default_ttl)

    @cached_property
    def max_ttl_delta(self) -> dt.timedelta | None:
        return optional_duration(self.max_ttl)

    @cached_property
    def warn_before_deltas(self) -> list[tuple[str, dt.timedelta]]:
        """(label, lead time), longest first."""
        return sorted(((w, parse_duration(w)) for w in self.warn_before), key=lambda p: p[1], reverse=True)

    @cached_property
    def expired_retention_delta(self) -> dt.timedelta:
        value = self.expired_retention.strip().lower()
        return dt.timedelta(0) if value in (*NEVER, "0", "0s") else parse_duration(value)

    @cached_property
    def stuck_terminating_delta(self) -> dt.timedelta:
        return parse_duration(self.stuck_terminating_after)

    def is_reserved(self, namespace: str) -> bool:
        """Namespaces devns never touches, whatever a DevNamespace or a label says."""
        if namespace in ("default", self.operator_namespace) or namespace.startswith("kube-"):
            return True
        return matches(self.reserved_namespaces, namespace)

    def is_trusted_source(self, namespace: str) -> bool:
        """The platform vouches for ``namespace`` as a source of ingress (``trust``)."""
        return matches(self.trusted_source_namespaces, namespace)


def matches(patterns: list[str], name: str) -> bool:
    """``name`` is one of ``patterns`` (names or globs where ``*`` stands for any characters)."""
    return any(re.fullmatch(re.escape(p).replace(r"\*", ".*"), name) for p in patterns)
