"""The DevNamespace API: pydantic models of spec and status, the single source of truth.

The CRD schema in ``crds/`` is generated from these models (``make crds``, see ``crd.py``); the CEL rules that
admission enforces are attached here, next to the fields they guard, and pydantic enforces the same rules again
when the operator reads an object (an object may predate a schema change, or the CRD may be an old one).
Policy that depends on operator settings (allowed roles, privileged PSS) is checked in ``render.py``, maxTTL in
``expiry.py``. API names (group, version, kind) and reserved keys come from ``contract.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from .apirules import (ANNOTATIONS_SIZE, ANNOTATION_KEYS, CONTAINER_KEYS, COUNT_PATTERN, DNS_LABEL, DNS_SUBDOMAIN,
                       KeyRule, LABEL_KEYS, LABEL_VALUE, LABEL_VALUES, MAX_ANNOTATIONS_BYTES, MAX_ANNOTATION_VALUE,
                       MAX_OWNER_NAME, MAX_QUALIFIED_NAME, MAX_QUANTITY, NATIVE_CEL, QUOTA_COUNTS, QUOTA_KEYS,
                       RESERVED_KEYS_RULE, SERVICE_ACCOUNT_NAME, SYSTEM_OWNER, is_native, is_quota_count, lower_ascii,
                       matches)
from .contract import PHASES, RESERVED_KEYS, RESERVED_PREFIXES
from .units import DURATION_PATTERN, QUANTITY_PATTERN, parse_duration, parse_quantity


def _check_quantity(value: Any) -> str | int:
    if isinstance(value, str) and len(value) > MAX_QUANTITY:
        raise ValueError(f"invalid quantity: longer than {MAX_QUANTITY} characters")
    parse_quantity(value)
    return value


#: A Kubernetes resource quantity; admission checks the same pattern controller-gen emits for resource.Quantity
#: (with a bounded exponent), and no negative integers.
Quantity = Annotated[
    str | int,
    BeforeValidator(_check_quantity),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True,
                    "pattern": QUANTITY_PATTERN, "maxLength": MAX_QUANTITY, "minimum": 0}),
]
ResourceName = Annotated[str, Field(max_length=MAX_QUALIFIED_NAME)]
QuantityMap = Annotated[dict[ResourceName, Quantity], Field(max_length=64)]


def _check_keys(rule: KeyRule, value: dict[str, Any] | None) -> dict[str, Any] | None:
    bad = rule.bad(value or {})
    if bad:
        raise ValueError(rule.message(bad))
    return value


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
            SYSTEM_OWNER,
            SERVICE_ACCOUNT_NAME,
        ]})

    kind: Literal["User", "Group", "ServiceAccount"] = Field(description="User, Group or ServiceAccount.")
    name: str = Field(min_length=1, max_length=MAX_OWNER_NAME,
                      description="User or group name as the authenticator reports it (e.g. alice@example.com), or "
                                  "the ServiceAccount's name. Never a system: user or group.")
    namespace: str | None = Field(None, pattern=DNS_LABEL, max_length=63,
                                  description="The ServiceAccount's namespace (ServiceAccount owners only).")

    @model_validator(mode="after")
    def _namespace_only_for_service_accounts(self) -> "Owner":
        if self.kind == "ServiceAccount" and not self.namespace:
            raise ValueError("a ServiceAccount owner needs namespace")
        if self.kind != "ServiceAccount" and self.namespace:
            raise ValueError("namespace is only valid for ServiceAccount owners")
        if lower_ascii(self.name).startswith("system:"):
            raise ValueError(SYSTEM_OWNER["message"])
        if self.kind == "ServiceAccount" and not matches(DNS_SUBDOMAIN, self.name):
            raise ValueError(SERVICE_ACCOUNT_NAME["message"])
        return self


_CONTAINER_KEYS = {"x-kubernetes-validations": [CONTAINER_KEYS.validation()]}
_OVERCOMMIT_CEL = f"({NATIVE_CEL} && !k.startsWith('hugepages-'))"
_NO_OVERCOMMIT = {
    "rule": "!has(self.default) || !has(self.defaultRequest) || self.default.all(k, !(k in self.defaultRequest) || "
            f"{_OVERCOMMIT_CEL} || quantity(string(self.default[k])).compareTo("
            "quantity(string(self.defaultRequest[k]))) == 0)",
    "message": "hugepages-* and extended resources (such as nvidia.com/gpu) cannot be overcommitted: where both are "
               "set, default and defaultRequest must be equal",
}


def _api_quantity(value: str | int) -> Decimal:
    """A quantity as the API server holds it: rounded up to a whole nano, binary-suffixed ones capped at 2^63-1."""
    amount = parse_quantity(value)
    with localcontext(prec=len(str(int(amount))) + 20):
        amount = amount.quantize(Decimal("1e-9"), rounding=ROUND_CEILING)
    if isinstance(value, str) and value.endswith("i") and amount > 2 ** 63 - 1:
        return Decimal(2 ** 63 - 1)
    return amount


class Limits(_Model):
    """LimitRange values for containers, merged over the operator's defaults."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": [_NO_OVERCOMMIT]})

    default: QuantityMap | None = Field(None, description="Default limits for containers that set none.",
                                        json_schema_extra=_CONTAINER_KEYS)
    default_request: QuantityMap | None = Field(None, alias="defaultRequest", json_schema_extra=_CONTAINER_KEYS,
                                                description="Default requests for containers that set none.")
    max: QuantityMap | None = Field(None, description="Largest limit a container may set.",
                                    json_schema_extra=_CONTAINER_KEYS)
    min: QuantityMap | None = Field(None, description="Smallest request a container may set.",
                                    json_schema_extra=_CONTAINER_KEYS)

    @field_validator("default", "default_request", "max", "min")
    @classmethod
    def _container_resources(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _check_keys(CONTAINER_KEYS, value)

    @model_validator(mode="after")
    def _no_overcommit(self) -> "Limits":
        default, request = self.default or {}, self.default_request or {}
        for name in sorted(default.keys() & request.keys()):
            if not (is_native(name) and not name.startswith("hugepages-")) and \
                    _api_quantity(default[name]) != _api_quantity(request[name]):
                raise ValueError(_NO_OVERCOMMIT["message"])
        return self


_IDLE_RULE = {"rule": f"self.matches('{DURATION_PATTERN}') && self.matches('[1-9]')",
              "message": "must be a positive duration such as 8h, 1d12h or 2w (units s, m, h, d, w)"}
IdleDuration = Annotated[str, Field(max_length=32, json_schema_extra={"x-kubernetes-validations": [_IDLE_RULE]})]


class Idle(_Model):
    """Reclaiming a namespace nobody uses (see the README's "Idle namespaces"): sleep, then delete."""

    sleep_after: IdleDuration | None = Field(
        None, alias="sleepAfter", description="Scale Deployments and StatefulSets to 0 and suspend CronJobs after "
                                              "this long without activity (left out: never). `kubectl devns wake` "
                                              "or any use restores them.")
    delete_after: IdleDuration | None = Field(
        None, alias="deleteAfter", description="Delete the namespace after this long without activity, with the "
                                               "expiry warnings first (left out: never).")

    @field_validator("sleep_after", "delete_after")
    @classmethod
    def _durations(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


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
#: expiresAt as admission takes it: RFC 3339 with an offset whose hours Python can hold (the API server's date-time
#: format also takes +24:00, which no datetime can represent).
RFC3339 = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
_EARLIEST, _LATEST = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc)
_EXPIRES_AT_RANGE = {
    "rule": f"self >= timestamp('{_EARLIEST:%Y-%m-%dT%H:%M:%SZ}') && self < timestamp('{_LATEST:%Y-%m-%dT%H:%M:%SZ}')",
    "message": f"expiresAt must be from {_EARLIEST:%Y-%m-%dT%H:%M:%SZ} and before {_LATEST:%Y-%m-%dT%H:%M:%SZ}",
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
    class_: str | None = Field(None, alias="class", max_length=253, pattern=DNS_SUBDOMAIN,
                               description="The DevNamespaceClass whose defaults, maxima and allow-lists apply; "
                                           "default: the class annotated devns.io/is-default-class, else none "
                                           "(the operator's settings).")
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
                                           description="Absolute expiry (RFC 3339); alternative to ttl.",
                                           json_schema_extra={"pattern": RFC3339,
                                                              "x-kubernetes-validations": [_EXPIRES_AT_RANGE]})
    idle: Idle | None = Field(None, description="Sleep and delete the namespace when nobody uses it (default: "
                                                "the class's, else the operator's DEVNS_IDLE_*).")
    quota: QuantityMap = Field(default_factory=dict, description="ResourceQuota spec.hard entries merged over "
                               "the operator's defaults.",
                               json_schema_extra={"x-kubernetes-validations": [QUOTA_KEYS.validation(), QUOTA_COUNTS]})
    limits: Limits | None = Field(None, description="LimitRange container values merged over the defaults.")
    network: Network = Field(default_factory=Network, description="Network allows.")
    labels: dict[Annotated[str, Field(max_length=MAX_QUALIFIED_NAME)], Annotated[str, Field(max_length=63)]] = Field(
        default_factory=dict, max_length=64, description="Extra namespace labels.",
        json_schema_extra={"x-kubernetes-validations": [RESERVED_KEYS_RULE, LABEL_KEYS.validation(), LABEL_VALUES]})
    annotations: dict[Annotated[str, Field(max_length=MAX_QUALIFIED_NAME)],
                      Annotated[str, Field(max_length=MAX_ANNOTATION_VALUE)]] = Field(
        default_factory=dict, max_length=64, description="Extra namespace annotations.",
        json_schema_extra={"x-kubernetes-validations": [RESERVED_KEYS_RULE, ANNOTATION_KEYS.validation(),
                                                        ANNOTATIONS_SIZE]})

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

    @field_validator("expires_at", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any) -> Any:
        if isinstance(value, str) and not matches(RFC3339, value):
            raise ValueError("expiresAt must be an RFC 3339 time with a UTC offset, e.g. 2026-12-01T18:00:00Z or "
                             "2026-12-01T20:00:00+02:00")
        return value

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("expiresAt needs a UTC offset (Z or +HH:MM)")
        if value is None:
            return None
        try:
            value = value.astimezone(dt.timezone.utc)
        except OverflowError:  # 9999-12-31T23:00:00-02:00 is past the largest datetime in UTC
            raise ValueError(_EXPIRES_AT_RANGE["message"]) from None
        if not _EARLIEST <= value < _LATEST:
            raise ValueError(_EXPIRES_AT_RANGE["message"])
        return value

    @field_validator("labels", "annotations")
    @classmethod
    def _not_reserved(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(k for k in value if k.startswith(RESERVED_PREFIXES) or k in RESERVED_KEYS)
        if bad:
            raise ValueError(f"reserved keys cannot be set: {', '.join(bad)}")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        _check_keys(LABEL_KEYS, value)
        if not all(matches(LABEL_VALUE, v) for v in value.values()):
            raise ValueError(LABEL_VALUES["message"])
        return value

    @field_validator("annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        _check_keys(ANNOTATION_KEYS, value)
        if sum(len(k.encode()) + len(v.encode()) for k, v in value.items()) > MAX_ANNOTATIONS_BYTES:
            raise ValueError(ANNOTATIONS_SIZE["message"])
        return value

    @field_validator("quota")
    @classmethod
    def _quota(cls, value: dict[str, str | int]) -> dict[str, str | int]:
        _check_keys(QUOTA_KEYS, value)
        if not all(matches(COUNT_PATTERN, str(v)) for k, v in value.items() if is_quota_count(k)):
            raise ValueError(QUOTA_COUNTS["message"])
        return value


class Condition(_Model):
    """A status condition per Kubernetes API conventions."""

    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str = ""
    last_transition_time: str = Field(alias="lastTransitionTime")
    observed_generation: int | None = Field(None, alias="observedGeneration")


class SeedStatus(_Model):
    """One object the DevNamespace's class seeded into its namespace."""

    kind: str = Field(description="Its kind.")
    name: str = Field(description="Its name in the namespace.")
    from_: str = Field(alias="from", description="What it is made from: the source it copies (kind, "
                                                 "namespace/name) or the class that declares it.")
    revision: str | None = Field(None, description="Secrets: which version of that it has (the source's "
                                                   "resourceVersion, or a hash of the manifest).")
    uid: str | None = Field(None, description="Its uid (Secrets, which devns writes without reading back).")


class DevNamespaceStatus(_Model):
    """What the operator observed and did."""

    phase: Literal[PHASES] | None = Field(None, description=f"{', '.join(PHASES[:-1])} or {PHASES[-1]}.")
    namespace: str | None = Field(None, description="The namespace this DevNamespace manages.")
    class_: str | None = Field(None, alias="class", description="The DevNamespaceClass that applies (spec.class, "
                                                                "or the default class when that is empty).")
    expires_at: str | None = Field(None, alias="expiresAt", description="Effective expiry (UTC, RFC 3339): the "
                                                                        "earlier of the TTL's and inactivity's.")
    expires_because: Literal["inactivity"] | None = Field(
        None, alias="expiresBecause", description="inactivity when expiresAt is the inactivity deadline (spec.idle); "
                                                  "absent when it is the TTL's.")
    last_activity: str | None = Field(None, alias="lastActivity",
                                      description="The last use of the namespace devns knows of (UTC, RFC 3339), "
                                                  "recorded when it decided something from it.")
    sleeping_since: str | None = Field(None, alias="sleepingSince",
                                       description="When devns put the namespace to sleep (phase Sleeping).")
    expired_at: str | None = Field(None, alias="expiredAt",
                                   description="When devns expired it (UTC, RFC 3339); retention counts from here.")
    observed_generation: int | None = Field(None, alias="observedGeneration",
                                            description="The spec generation the status describes.")
    rendered: str | None = Field(None, description="A digest of the objects devns last made the namespace match "
                                                   "(and of its signing key): a restart that renders the same "
                                                   "resumes without reading the namespace again.")
    conditions: list[Condition] = Field(default_factory=list, description="Ready and friends.",
                                        json_schema_extra={"x-kubernetes-list-type": "map",
                                                           "x-kubernetes-list-map-keys": ["type"]})
    warnings_sent: list[str] = Field(default_factory=list, alias="warningsSent",
                                     description="Expiry warning lead times already announced (e.g. 24h, 1h).")
    trusted_sources: list[str] | None = Field(
        None, alias="trustedSources",
        description="The namespaces of spec.network.allowFromNamespaces ingress is allowed from: those devns "
                    "trusts (see the SourcesTrusted condition for the others, and why).")
    seeds: list[SeedStatus] | None = Field(None, description="What the class seeded into the namespace "
                                                             "(DevNamespaceClass spec.seed).")
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
