"""The DevNamespace API: pydantic models of spec and status, the single source of truth.

The CRD schema in ``crds/`` is generated from these models (``make crds``, see ``crd.py``); the CEL rules that
admission enforces are attached here, next to the fields they guard, and pydantic enforces the same rules again
when the operator reads an object (an object may predate a schema change, or the CRD may be an old one).
Policy that depends on operator settings (allowed roles, privileged PSS) is checked in ``render.py``, maxTTL in
``expiry.py``. API names (group, version, kind) and reserved keys come from ``contract.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from .contract import PHASES, RESERVED_KEYS, RESERVED_PREFIXES
from .units import DURATION_PATTERN, QUANTITY_PATTERN, parse_duration, parse_quantity

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

_reserved_rule = " && ".join([f"!k.startsWith('{p}')" for p in RESERVED_PREFIXES]
                             + [f"k != '{k}'" for k in RESERVED_KEYS])
RESERVED_KEYS_RULE = {
    "rule": f"self.all(k, {_reserved_rule})",
    "message": "keys under devns.io/ and pod-security.kubernetes.io/, app.kubernetes.io/managed-by and "
               "kubernetes.io/metadata.name are managed by devns and cannot be set here",
}


def _check_quantity(value: Any) -> str | int:
    parse_quantity(value)
    return value


#: A Kubernetes resource quantity; admission checks the same pattern controller-gen emits for resource.Quantity.
Quantity = Annotated[
    str | int,
    BeforeValidator(_check_quantity),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True,
                    "pattern": QUANTITY_PATTERN}),
]
ResourceName = Annotated[str, Field(pattern=r"^([a-z0-9.-]+/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)]
QuantityMap = Annotated[dict[ResourceName, Quantity], Field(max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class Owner(_Model):
    """A subject given the namespace's role."""

    model_config = ConfigDict(
        json_schema_extra={"x-kubernetes-validations": [
            {"rule": "self.kind != 'ServiceAccount' || has(self.__namespace__)",
             "message": "a ServiceAccount owner needs namespace"},
            {"rule": "self.kind == 'ServiceAccount' || !has(self.__namespace__)",
             "message": "namespace is only valid for ServiceAccount owners"},
        ]})

    kind: Literal["User", "Group", "ServiceAccount"] = Field(description="User, Group or ServiceAccount.")
    name: str = Field(min_length=1, max_length=253, description="User or group name as the authenticator reports "
                      "it (e.g. alice@example.com), or the ServiceAccount's name.")
    namespace: str | None = Field(None, pattern=DNS_LABEL, max_length=63,
                                  description="The ServiceAccount's namespace (ServiceAccount owners only).")

    @model_validator(mode="after")
    def _namespace_only_for_service_accounts(self) -> "Owner":
        if self.kind == "ServiceAccount" and not self.namespace:
            raise ValueError("a ServiceAccount owner needs namespace")
        if self.kind != "ServiceAccount" and self.namespace:
            raise ValueError("namespace is only valid for ServiceAccount owners")
        return self


class Limits(_Model):
    """LimitRange values for containers, merged over the operator's defaults."""

    default: QuantityMap | None = Field(None, description="Default limits for containers that set none.")
    default_request: QuantityMap | None = Field(None, alias="defaultRequest",
                                                description="Default requests for containers that set none.")
    max: QuantityMap | None = Field(None, description="Largest limit a container may set.")
    min: QuantityMap | None = Field(None, description="Smallest request a container may set.")


class Network(_Model):
    """Allows added on top of the always-present default-deny (ingress and egress) NetworkPolicy."""

    allow_same_namespace: bool = Field(True, alias="allowSameNamespace",
                                       description="Pods in the namespace may talk to each other.")
    allow_dns: bool = Field(True, alias="allowDNS", description="Egress to cluster DNS (UDP/TCP 53).")
    allow_from_namespaces: list[Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]] = Field(
        default_factory=list, alias="allowFromNamespaces", max_length=50,
        description="Namespaces whose pods may reach this namespace (ingress).")


_NAMESPACE_IMMUTABLE = {
    "rule": "has(self.__namespace__) == has(oldSelf.__namespace__) && "
            "(!has(self.__namespace__) || self.__namespace__ == oldSelf.__namespace__)",
    "message": "spec.namespace is immutable",
}
_TTL_XOR_EXPIRES = {"rule": "!(has(self.ttl) && has(self.expiresAt))",
                    "message": "set either ttl or expiresAt, not both"}


class DevNamespaceSpec(_Model):
    """What the namespace should be: who owns it, its guardrails and how long it lives."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": [_NAMESPACE_IMMUTABLE,
                                                                              _TTL_XOR_EXPIRES]})

    namespace: str | None = Field(None, pattern=DNS_LABEL, max_length=63,
                                  description="Name of the namespace to create; defaults to metadata.name. "
                                              "Immutable.")
    owners: list[Owner] = Field(min_length=1, max_length=50,
                                description="Who gets the role in the namespace; the first is shown as OWNER.")
    team: str | None = Field(None, max_length=63, pattern=r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$",
                             description="Owning team (a label value).")
    purpose: str | None = Field(None, max_length=1024, description="Why the namespace exists.")
    contact: str | None = Field(None, max_length=256, description="Where to reach the owners (e.g. a channel).")
    role: str | None = Field(None, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$",
                             description="ClusterRole bound to the owners in the namespace; default from operator "
                                         "settings (edit). Must be in the operator's allowed list.")
    cluster_view: bool = Field(False, alias="clusterView",
                               description="Also grant read-only view of the whole cluster, without Secrets.")
    pod_security: Literal["restricted", "baseline", "privileged"] = Field(
        "restricted", alias="podSecurity",
        description="Pod Security Standard enforced in the namespace; privileged only if the operator allows it.")
    ttl: str | None = Field(None, max_length=32, description="Lifetime counted from creation: <n><unit> parts "
                            "with units s, m, h, d, w (90m, 1d12h, 2w), or 'never'.",
                            json_schema_extra={"x-kubernetes-validations": [{
                                "rule": f"self == 'never' || (self.matches('{DURATION_PATTERN}') && "
                                        "self.matches('[1-9]'))",
                                "message": "ttl must be a positive duration such as 90m, 1d12h or 2w (units s, m, "
                                           "h, d, w), or 'never'"}]})
    expires_at: dt.datetime | None = Field(None, alias="expiresAt",
                                           description="Absolute expiry (RFC 3339); alternative to ttl.")
    quota: QuantityMap = Field(default_factory=dict, description="ResourceQuota spec.hard entries merged over "
                               "the operator's defaults.")
    limits: Limits | None = Field(None, description="LimitRange container values merged over the defaults.")
    network: Network = Field(default_factory=Network, description="Network allows.")
    labels: dict[Annotated[str, Field(max_length=253)], Annotated[str, Field(max_length=63)]] = Field(
        default_factory=dict, max_length=64, description="Extra namespace labels.",
        json_schema_extra={"x-kubernetes-validations": [RESERVED_KEYS_RULE]})
    annotations: dict[Annotated[str, Field(max_length=253)], Annotated[str, Field(max_length=4096)]] = Field(
        default_factory=dict, max_length=64, description="Extra namespace annotations.",
                                        json_schema_extra={"x-kubernetes-validations": [RESERVED_KEYS_RULE]})

    @model_validator(mode="after")
    def _ttl_xor_expires_at(self) -> "DevNamespaceSpec":
        if self.ttl is not None and self.expires_at is not None:
            raise ValueError(_TTL_XOR_EXPIRES["message"])
        return self

    @field_validator("ttl")
    @classmethod
    def _ttl(cls, value: str | None) -> str | None:
        if value is not None and value != "never":
            parse_duration(value)
        return value

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("expiresAt needs a UTC offset (Z or +HH:MM)")
        return value.astimezone(dt.timezone.utc) if value else None

    @field_validator("labels", "annotations")
    @classmethod
    def _not_reserved(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(k for k in value if k.startswith(RESERVED_PREFIXES) or k in RESERVED_KEYS)
        if bad:
            raise ValueError(f"reserved keys cannot be set: {', '.join(bad)}")
        return value


class Condition(_Model):
    """A status condition per Kubernetes API conventions."""

    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str = ""
    last_transition_time: str = Field(alias="lastTransitionTime")
    observed_generation: int | None = Field(None, alias="observedGeneration")


class DevNamespaceStatus(_Model):
    """What the operator observed and did."""

    phase: Literal[PHASES] | None = Field(None, description=f"{', '.join(PHASES[:-1])} or {PHASES[-1]}.")
    namespace: str | None = Field(None, description="The namespace this DevNamespace manages.")
    expires_at: str | None = Field(None, alias="expiresAt", description="Effective expiry (UTC, RFC 3339).")
    expired_at: str | None = Field(None, alias="expiredAt",
                                   description="When devns expired it (UTC, RFC 3339); retention counts from here.")
    observed_generation: int | None = Field(None, alias="observedGeneration",
                                            description="The spec generation the status describes.")
    conditions: list[Condition] = Field(default_factory=list, description="Ready and friends.",
                                        json_schema_extra={"x-kubernetes-list-type": "map",
                                                           "x-kubernetes-list-map-keys": ["type"]})
    warnings_sent: list[str] = Field(default_factory=list, alias="warningsSent",
                                     description="Expiry warning lead times already announced (e.g. 24h, 1h).")
    kopf: dict[str, Any] | None = Field(
        None, description="The operator framework's bookkeeping (the last handled spec, retry progress); "
                          "not for users.", json_schema_extra={"x-kubernetes-preserve-unknown-fields": True})


def explain_validation_error(exc: Exception) -> str:
    """One line per problem, with the spec path, for a condition message or an Event."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    lines = []
    for err in errors():
        path = ".".join(str(p) for p in ("spec", *err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {msg}")
    return "; ".join(lines)
