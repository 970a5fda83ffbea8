"""Spec -> the objects devns keeps for it. Pure: no API calls, no clock, no global state.

``render(ref, spec, settings, namespace=..., expires_at=...)`` returns the namespace and every child devns keeps
in and around it (``Rendered``), as plain dicts ready for a POST or a server-side apply, or raises ``SpecProblem``
(before anything is created) when the spec breaks a rule that the CRD schema cannot express because it depends on
the operator's settings. Callers get it through ``desired.desired_for``, which also works out the namespace name
and the expiry, once per DevNamespace version. The namespace is rendered without its proof (``gc``), which is bound
to the namespace's own uid and so known only once it exists: ``Desired.namespace_for`` adds it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from .contract import (ALLOW_DNS_POLICY, ALLOW_FROM_NAMESPACES_POLICY, ALLOW_SAME_NAMESPACE_POLICY, ANN_CONTACT,
                       ANN_CREATED_BY, ANN_EXPIRES_AT, ANN_OWNER, ANN_PURPOSE, ANN_REQUESTER, ANN_TEAM,
                       ANN_TTL, API_VERSION, CLUSTER_VIEW_BINDING_PREFIX, DENY_POLICY, KIND, KINDS, LABEL_DEVNAMESPACE,
                       LABEL_NAMESPACE_NAME, LABEL_OWNER, LABEL_TEAM, LIMITRANGE_NAME, MANAGED_BY, MANAGER,
                       OWNERS_BINDING_PREFIX, PSS_MODES, PSS_PREFIX, QUOTA_NAME)
from .models import DevNamespaceSpec, Owner
from .settings import Settings
from .units import format_time, parse_quantity

LIMIT_ORDER = ("min", "defaultRequest", "default", "max")


class SpecProblem(ValueError):
    """The spec cannot be honoured; ``reason`` is a CamelCase condition reason, the message says what to fix."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class DevNamespaceRef:
    """The identity of a DevNamespace, as children and the namespace point back to it."""

    name: str
    uid: str
    created: dt.datetime
    requester: str | None = None  # who created it, as the API server recorded it (None: not recorded)

    def owner_reference(self) -> dict[str, Any]:
        return {"apiVersion": API_VERSION, "kind": KIND, "name": self.name, "uid": self.uid,
                "controller": True}

    @property
    def created_by(self) -> str:
        return f"{self.name}/{self.uid}"


@dataclass(frozen=True)
class Rendered:
    """The namespace and its children (in ``CHILD_KINDS`` order), as plain dicts; with a class's seeds
    (``seeds.seeded``), the amendments and status entries those bring."""

    namespace: dict[str, Any]
    children: list[dict[str, Any]] = field(default_factory=list)
    #: Single fields devns applies to objects it does not own (``seeds``: the default ServiceAccount's
    #: imagePullSecrets), and the ``status.seeds`` entries of the class's seeds among ``children``.
    amendments: list[dict[str, Any]] = field(default_factory=list)
    seeds: list[dict[str, str]] = field(default_factory=list)

    @property
    def namespace_name(self) -> str:
        return self.namespace["metadata"]["name"]

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        """The desired object of ``kind`` named ``name``, or None when devns does not declare it."""
        if kind == "Namespace":
            return self.namespace if self.namespace_name == name else None
        return next((c for c in self.children if c["kind"] == kind and c["metadata"]["name"] == name), None)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [c for c in self.children if c["kind"] == kind]

    @property
    def quota_hard(self) -> dict[str, Any]:
        """The effective ResourceQuota hard values (defaults merged with the spec)."""
        return next((q["spec"]["hard"] for q in self.of_kind("ResourceQuota")), {})


def sanitize_label_value(value: str) -> str:
    """Make any string a valid label value: [A-Za-z0-9] at both ends, [-_.A-Za-z0-9] inside, <= 63 chars."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", value)[:63]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", cleaned)


def owner_text(owner: Owner) -> str:
    return f"{owner.kind}:{owner.namespace}/{owner.name}" if owner.namespace else f"{owner.kind}:{owner.name}"


def subjects(owners: list[Owner]) -> list[dict[str, Any]]:
    out = []
    for o in owners:
        if o.kind == "ServiceAccount":
            out.append({"kind": "ServiceAccount", "name": o.name, "namespace": o.namespace})
        else:
            out.append({"kind": o.kind, "name": o.name, "apiGroup": KINDS["RoleBinding"].group})
    return out


def check_policy(ns: str, spec: DevNamespaceSpec, settings: Settings) -> str:
    """Settings-dependent rules; returns the effective role. Raises SpecProblem."""
    if settings.is_reserved(ns):
        raise SpecProblem("ReservedNamespace", f"namespace {ns!r} is reserved (default, kube-*, the operator's "
                                               "namespace and the configured deny list are never managed)")
    role = spec.role or settings.default_role
    if role not in settings.allowed_roles:
        raise SpecProblem("RoleNotAllowed", f"role {role!r} is not allowed; allowed roles: "
                                            f"{', '.join(settings.allowed_roles)}")
    if spec.pod_security == "privileged" and not settings.allow_privileged:
        raise SpecProblem("PrivilegedNotAllowed", "podSecurity 'privileged' is not allowed by the operator "
                                                  "settings; use baseline or restricted")
    return role


def merged_limits(spec: DevNamespaceSpec, settings: Settings) -> dict[str, dict[str, Any]]:
    """Operator defaults with spec.limits on top, checked min <= defaultRequest <= default <= max per resource."""
    merged = {k: dict(v) for k, v in settings.default_limits.items()}
    if spec.limits:
        for key, values in spec.limits.model_dump(by_alias=True, exclude_none=True).items():
            merged.setdefault(key, {}).update(values)
    resources = {r for values in merged.values() for r in values}
    for resource in sorted(resources):
        chain = [(k, merged[k][resource]) for k in LIMIT_ORDER if resource in merged.get(k, {})]
        for (lo_key, lo), (hi_key, hi) in zip(chain, chain[1:]):
            if parse_quantity(lo) > parse_quantity(hi):
                raise SpecProblem("InvalidLimits", f"limits for {resource}: {lo_key} {lo} is greater than "
                                                   f"{hi_key} {hi}")
    return {k: v for k, v in merged.items() if v}


def _meta(name: str, ref: DevNamespaceRef, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {MANAGED_BY: MANAGER, LABEL_DEVNAMESPACE: ref.name},
                            "ownerReferences": [ref.owner_reference()]}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _object(kind: str, meta: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"apiVersion": KINDS[kind].api_version, "kind": kind, "metadata": meta, **fields}


def _netpol(name: str, ns: str, ref: DevNamespaceRef, spec: dict[str, Any]) -> dict[str, Any]:
    return _object("NetworkPolicy", _meta(name, ref, ns), spec=spec)


def network_policies(ns: str, spec: DevNamespaceSpec, settings: Settings, ref: DevNamespaceRef,
                     trusted_sources: Iterable[str] = ()) -> list[dict]:
    """The default deny and the allows ``spec.network`` enables. Ingress from other namespaces is allowed only from
    ``trusted_sources``: the listed ones devns trusts (``trust``); none trusted, no policy."""
    policies = [_netpol(DENY_POLICY, ns, ref, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})]
    net = spec.network
    if net.allow_same_namespace:
        peer = [{"podSelector": {}}]
        policies.append(_netpol(ALLOW_SAME_NAMESPACE_POLICY, ns, ref, {
            "podSelector": {}, "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": peer}], "egress": [{"to": peer}]}))
    if net.allow_dns:
        policies.append(_netpol(ALLOW_DNS_POLICY, ns, ref, {
            "podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {
                LABEL_NAMESPACE_NAME: settings.dns_namespace}}}],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}))
    sources = sorted(set(trusted_sources) & set(net.allow_from_namespaces))
    if sources:
        policies.append(_netpol(ALLOW_FROM_NAMESPACES_POLICY, ns, ref, {
            "podSelector": {}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [{
                "key": LABEL_NAMESPACE_NAME, "operator": "In", "values": sources}]}}]}]}))
    return policies


def render(ref: DevNamespaceRef, spec: DevNamespaceSpec, settings: Settings, *, namespace: str,
           expires_at: dt.datetime | None, trusted_sources: Iterable[str] = ()) -> Rendered:
    """The namespace (without its proof) and children a DevNamespace should have. Raises SpecProblem for a spec we
    must not apply. ``trusted_sources``: the listed sources of ingress devns trusts (``trust.Decision.granted``)."""
    ns = namespace
    role = check_policy(ns, spec, settings)
    limits = merged_limits(spec, settings)

    labels = {**spec.labels, MANAGED_BY: MANAGER, LABEL_DEVNAMESPACE: ref.name,
              LABEL_OWNER: sanitize_label_value(owner_text(spec.owners[0]).split(":", 1)[1].replace("/", "."))}
    if spec.team:
        labels[LABEL_TEAM] = spec.team
    # Declared although the API server sets it anyway: the namespace is created with POST, which makes devns the
    # owner of every label present at creation, this one included; declaring it keeps "owned but not wanted" empty.
    labels[LABEL_NAMESPACE_NAME] = ns
    for mode in PSS_MODES:
        labels[f"{PSS_PREFIX}{mode}"] = spec.pod_security
        labels[f"{PSS_PREFIX}{mode}-version"] = "latest"
    annotations = {**spec.annotations, ANN_OWNER: ", ".join(owner_text(o) for o in spec.owners),
                   ANN_CREATED_BY: ref.created_by}
    for key, value in ((ANN_REQUESTER, ref.requester), (ANN_TEAM, spec.team),
                       (ANN_PURPOSE, spec.purpose), (ANN_CONTACT, spec.contact),
                       (ANN_TTL, spec.ttl), (ANN_EXPIRES_AT, expires_at and format_time(expires_at))):
        if value:
            annotations[key] = value
    namespace_obj = _object("Namespace", {"name": ns, "labels": labels, "annotations": annotations,
                                          "ownerReferences": [ref.owner_reference()]})

    children: list[dict[str, Any]] = network_policies(ns, spec, settings, ref, trusted_sources)
    children.append(_object("ResourceQuota", _meta(QUOTA_NAME, ref, ns), spec={
        "hard": {**settings.default_quota, **{k: str(v) for k, v in spec.quota.items()}}}))
    children.append(_object("LimitRange", _meta(LIMITRANGE_NAME, ref, ns), spec={
        "limits": [{"type": "Container", **{k: {r: str(q) for r, q in v.items()} for k, v in limits.items()}}]}))
    if spec.cluster_view:
        children.append(_object("ClusterRoleBinding", _meta(f"{CLUSTER_VIEW_BINDING_PREFIX}{ref.name}", ref),
                                roleRef=_cluster_role(settings.cluster_view_role), subjects=subjects(spec.owners)))
    # roleRef is immutable: the binding's name carries the role, so a role change is create-new + delete-old.
    children.append(_object("RoleBinding", _meta(f"{OWNERS_BINDING_PREFIX}{role}".replace(":", "-")[:253], ref, ns),
                            roleRef=_cluster_role(role), subjects=subjects(spec.owners)))
    return Rendered(namespace=namespace_obj, children=children)


def _cluster_role(name: str) -> dict[str, str]:
    return {"apiGroup": KINDS["ClusterRoleBinding"].group, "kind": "ClusterRole", "name": name}
