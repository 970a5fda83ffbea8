"""The DevNamespaceClass API: pydantic models of a class's spec and status, the single source of truth.

A class is a tier a platform team defines (sandbox, team, gpu): defaults a DevNamespace of the class starts from,
maxima and allow-lists it is checked against, and the warning lead times of its expiry. Fields a class leaves out
fall back to the operator's settings (``DEVNS_*``), so a cluster without classes behaves as before. The CRD in
``crds/`` is generated from these models (``crd.py``); ``classes.py`` turns a class into the effective policy.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from pydantic import ConfigDict, model_validator

from .apirules import DNS_SUBDOMAIN, QUOTA_COUNTS, QUOTA_KEYS
from .contract import SEEDABLE_KINDS
from .models import Idle, Limits, Network, QuantityMap, _check_keys, _Model
from .units import DURATION_PATTERN, parse_duration

PodSecurity = Literal["restricted", "baseline", "privileged"]
RoleName = Annotated[str, Field(max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$")]
_DURATION_RULE = {"rule": f"self.matches('{DURATION_PATTERN}') && self.matches('[1-9]')",
                  "message": "must be a positive duration such as 90m, 1d12h or 2w (units s, m, h, d, w)"}
Duration = Annotated[str, Field(max_length=32, json_schema_extra={"x-kubernetes-validations": [_DURATION_RULE]})]


#: Admission checks a class's quota maps as it checks a DevNamespace's spec.quota.
_QUOTA_SCHEMA = {"x-kubernetes-validations": [QUOTA_KEYS.validation(), QUOTA_COUNTS]}


def _durations(value: Any) -> Any:
    """Durations (or one) parsed as the operator will parse them; 'never' is a TTL's own word."""
    for text in value if isinstance(value, list) else [value]:
        if text is not None and text != "never":
            parse_duration(text)
    return value


def _quota(value: dict[str, Any]) -> dict[str, Any]:
    return _check_keys(QUOTA_KEYS, value) or {}


class _TtlAndQuota(_Model):
    """The checks of a ``ttl`` and a ``quota`` field, for the classes below that declare them."""

    @field_validator("ttl", check_fields=False)
    @classmethod
    def _ttl(cls, value: str | None) -> str | None:
        return _durations(value)

    @field_validator("quota", check_fields=False)
    @classmethod
    def _quota_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _quota(value)


class ClassDefaults(_TtlAndQuota):
    """What a DevNamespace of the class gets for each field it leaves out."""

    role: RoleName | None = Field(None, description="ClusterRole bound to the owners (default: the operator's "
                                                    "DEVNS_DEFAULT_ROLE).")
    pod_security: PodSecurity | None = Field(None, alias="podSecurity",
                                             description="Pod Security Standard (default: restricted).")
    ttl: str | None = Field(None, max_length=32, description="Lifetime when the DevNamespace sets neither ttl "
                                                             "nor expiresAt: a duration, or 'never'.",
                            json_schema_extra={"x-kubernetes-validations": [{
                                "rule": f"self == 'never' || ({_DURATION_RULE['rule']})",
                                "message": "must be 'never' or " + _DURATION_RULE["message"]}]})
    quota: QuantityMap = Field(default_factory=dict, description="ResourceQuota hard values; replace the "
                                                                 "operator's defaults key by key.",
                               json_schema_extra=_QUOTA_SCHEMA)
    limits: Limits | None = Field(None, description="LimitRange container values over the operator's defaults.")
    network: Network | None = Field(None, description="Network allows (default: same namespace and DNS).")
    idle: Idle | None = Field(None, description="Idle reclamation (default: the operator's DEVNS_IDLE_*).")


class ClassMaxima(_TtlAndQuota):
    """The most a DevNamespace of the class may ask for; asking for more is Failed and creates nothing."""

    ttl: Duration | None = Field(None, description="Longest lifetime counted from creation (ttl or expiresAt); "
                                                   "'never' is refused when set.")
    quota: QuantityMap = Field(default_factory=dict, description="Largest ResourceQuota hard value per resource "
                                                                 "(after defaults are applied).",
                               json_schema_extra=_QUOTA_SCHEMA)
    idle: Idle | None = Field(None, description="Longest sleepAfter and deleteAfter; with one set, a DevNamespace "
                                                "may not leave that one out (never).")


class ClassAllowed(_Model):
    """Allow-lists; a list left out falls back to the operator's settings."""

    roles: list[RoleName] | None = Field(None, max_length=50, description="ClusterRoles spec.role may name.")
    pod_security: list[PodSecurity] | None = Field(None, alias="podSecurity",
                                                   description="Pod Security Standards spec.podSecurity may name.")
    cluster_view: bool | None = Field(None, alias="clusterView",
                                      description="Whether spec.clusterView: true is allowed (default: yes).")


def _budget(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """``count`` (DevNamespaces) and quota resource names with their summed maximum."""
    if value:
        _check_keys(QUOTA_KEYS, {k: v for k, v in value.items() if k != "count"})
        count = value.get("count")
        if count is not None and not (isinstance(count, int) or str(count).isdigit()):
            raise ValueError(f"count must be a whole number, not {count!r}")
    return value


_QUOTA_RULE = QUOTA_KEYS.validation()
_BUDGET_SCHEMA = {"x-kubernetes-validations": [
    {"rule": "!('count' in self) || string(self['count']).matches('^[0-9]{1,15}$')",
     "message": "count must be a whole number of DevNamespaces"},
    {"rule": _QUOTA_RULE["rule"].replace("self.all(k, ", "self.all(k, k == 'count' || ", 1),
     "message": "budget keys are count and ResourceQuota resource names: " + _QUOTA_RULE["message"]}]}


class ClassBudget(_Model):
    """What the live DevNamespaces of the class may hold together: per requester and per team, a number of
    DevNamespaces (``count``) and sums of ResourceQuota hard values (e.g. requests.cpu: "8"). One over budget
    stays Pending (reason OverBudget), nothing created, until room appears."""

    per_requester: QuantityMap | None = Field(None, alias="perRequester", json_schema_extra=_BUDGET_SCHEMA,
                                              description="Per requester (who created it, as the API server "
                                                          "recorded; else its first owner).")
    per_team: QuantityMap | None = Field(None, alias="perTeam", json_schema_extra=_BUDGET_SCHEMA,
                                         description="Per spec.team (DevNamespaces without a team are not "
                                                     "counted here).")

    @field_validator("per_requester", "per_team")
    @classmethod
    def _keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _budget(value)


ObjectName = Annotated[str, Field(max_length=253, pattern=DNS_SUBDOMAIN)]


class SeedSource(_Model):
    """A ConfigMap or Secret to copy into every namespace of the class, under the same name."""

    kind: Literal["ConfigMap", "Secret"] = Field(description="ConfigMap or Secret.")
    name: ObjectName = Field(description="Its name; the copy has the same one.")
    namespace: ObjectName | None = Field(None, description="Where it is: the operator's seed source namespace "
                                                           "(DEVNS_SEED_SOURCE_NAMESPACE, default devns-seeds), "
                                                           "the only one devns reads; leave it out.")


class SeedMetadata(_Model):
    """The seeded object's name, labels and annotations (devns adds its own labels and owner)."""

    name: ObjectName = Field(description="Name of the object in each namespace.")
    namespace: str | None = Field(None, description="Must be left out: seeds go to each DevNamespace's namespace.",
                                  json_schema_extra={"x-kubernetes-validations": [{
                                      "rule": "false", "message": "leave metadata.namespace out: a seed goes "
                                                                  "into each DevNamespace's namespace"}]})
    labels: dict[str, str] = Field(default_factory=dict, description="Labels of the object.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations of the object.")

    @field_validator("namespace")
    @classmethod
    def _no_namespace(cls, value: str | None) -> None:
        if value is not None:
            raise ValueError("leave metadata.namespace out: a seed goes into each DevNamespace's namespace")
        return None


class SeedManifest(_Model):
    """A whole object (apiVersion, kind, metadata.name and the kind's fields) of a kind the operator may seed."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"x-kubernetes-preserve-unknown-fields": True})

    api_version: str = Field(alias="apiVersion", max_length=64, description="e.g. v1 or apps/v1.")
    kind: str = Field(max_length=64, description=f"One of DEVNS_SEED_KINDS (default: {', '.join(SEEDABLE_KINDS)}).",
                      json_schema_extra={"enum": list(SEEDABLE_KINDS)})
    metadata: SeedMetadata = Field(description="name, and optionally labels and annotations.")


class Seed(_Model):
    """One thing every namespace of the class gets: exactly one of copyFrom, manifest or imagePullSecrets."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": [{
        "rule": "[has(self.copyFrom), has(self.manifest), has(self.imagePullSecrets)].filter(x, x).size() == 1",
        "message": "a seed is exactly one of copyFrom, manifest or imagePullSecrets"}]})

    copy_from: SeedSource | None = Field(None, alias="copyFrom", description="Copy a ConfigMap or Secret; a change "
                                                                             "at the source reaches every copy.")
    manifest: SeedManifest | None = Field(None, description="Create this object in every namespace of the class.")
    image_pull_secrets: list[ObjectName] | None = Field(
        None, alias="imagePullSecrets", max_length=16,
        description="Secret names added to the imagePullSecrets of the namespace's default ServiceAccount "
                    "(seed the Secrets themselves with copyFrom).")

    @model_validator(mode="after")
    def _one(self) -> "Seed":
        if sum(x is not None for x in (self.copy_from, self.manifest, self.image_pull_secrets)) != 1:
            raise ValueError("a seed is exactly one of copyFrom, manifest or imagePullSecrets")
        return self


class DevNamespaceClassSpec(_Model):
    """A tier of DevNamespaces: defaults, maxima, allow-lists, warning lead times, budgets and seeds."""

    defaults: ClassDefaults = Field(default_factory=ClassDefaults, description="Values for fields a "
                                                                              "DevNamespace leaves out.")
    maxima: ClassMaxima = Field(default_factory=ClassMaxima, description="Upper bounds on what it may ask for.")
    allowed: ClassAllowed = Field(default_factory=ClassAllowed, description="Allow-lists of roles, Pod Security "
                                                                            "levels and cluster view.")
    budget: ClassBudget = Field(default_factory=ClassBudget, description="Limits on the live DevNamespaces of "
                                                                         "the class together.")
    seed: list[Seed] = Field(default_factory=list, max_length=64,
                             description="Objects every namespace of the class gets, labelled and owned like its "
                                         "guardrails: tenants cannot change or delete them, devns repairs them.")
    warn_before: list[Duration] | None = Field(None, alias="warnBefore", max_length=10,
                                               description="Lead times of the expiry warnings (default: the "
                                                           "operator's DEVNS_WARN_BEFORE).")

    @field_validator("warn_before")
    @classmethod
    def _warn(cls, value: list[str] | None) -> list[str] | None:
        return _durations(value)


class DevNamespaceClassStatus(_Model):
    """How the class is used."""

    dev_namespaces: int | None = Field(None, alias="devNamespaces", description="DevNamespaces of this class.")
    ready: int | None = Field(None, description="Of those, how many are Ready.")
    observed_generation: int | None = Field(None, alias="observedGeneration",
                                            description="The class generation every DevNamespace of the class "
                                                        "was last re-rendered with.")
    kopf: dict[str, Any] | None = Field(
        None, description="The operator framework's bookkeeping; not for users.",
        json_schema_extra={"x-kubernetes-preserve-unknown-fields": True})
