"""The self-service limits a developer's DevNamespaces are held to, as ``create`` shows them before it asks.

They are the params of the self-service admission policy (manifests/optional/self-service): the ConfigMap
devns-system/devns-self-service, readable by every authenticated user (its Role in self-service-rbac.yaml). The
API server enforces them; the plugin only reads them to guide a person (defaults, hints, early checks), so a
ConfigMap it cannot read means "no hints", never "no limits".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Iterable

from kubernetes.client import ApiClient, CoreV1Api
from kubernetes.client.rest import ApiException

from ..units import parse_duration
from .devnamespaces import slug

LIMITS_NAMESPACE = "devns-system"
LIMITS_NAME = "devns-self-service"
#: What a pattern may hold once {user} and {group} are filled in (the policy ignores any other pattern).
_PATTERN = re.compile(r"[a-z0-9*-]+")


@dataclass(frozen=True)
class Limits:
    """The parts of the ConfigMap a person creating a DevNamespace needs to know."""

    max_ttl: str | None = None  # as written ("14d"); None: no maximum
    names: tuple[str, ...] = ()  # namespaceNames templates as written ("{user}-*")
    quota: dict[str, str] = field(default_factory=dict)  # resource -> largest value
    max_per_requester: str | None = None

    @property
    def max_ttl_delta(self) -> dt.timedelta | None:
        try:
            return parse_duration(self.max_ttl) if self.max_ttl else None
        except ValueError:
            return None


def parse_limits(data: dict[str, str] | None) -> Limits:
    """The ConfigMap's data (keys as in self-service-limits.yaml; lists comma-separated)."""
    data = data or {}
    split = lambda key: tuple(p.strip() for p in data.get(key, "").split(",") if p.strip())  # noqa: E731
    return Limits(max_ttl=data.get("maxTTL", "").strip() or None, names=split("namespaceNames"),
                  quota={k[len("quota."):].replace("_", "/"): v.strip() for k, v in sorted(data.items())
                         if k.startswith("quota.")},
                  max_per_requester=data.get("maxPerRequester", "").strip() or None)


def read_limits(api: ApiClient) -> Limits | None:
    """The self-service limits, or None when the ConfigMap is missing or not readable (no self-service component,
    or its read grant not installed)."""
    try:
        config_map = CoreV1Api(api).read_namespaced_config_map(LIMITS_NAME, LIMITS_NAMESPACE)
    except ApiException as exc:
        if exc.status in (401, 403, 404):
            return None
        raise
    return parse_limits(config_map.data)


def name_patterns(templates: Iterable[str], username: str, groups: Iterable[str]) -> list[str]:
    """The namespaceNames templates with {user} and {group} filled in for this requester, as the policy does: a
    {group} template once per group other than system:* (the whole group name, '@' and all, turned like a user's)."""
    mine = [g for g in (re.sub(r"[^a-z0-9]+", "-", g.lower()).strip("-") for g in groups
                        if not g.startswith("system:")) if g]
    out: list[str] = []
    for template in templates:
        user = template.replace("{user}", slug(username))
        out += [user.replace("{group}", g) for g in mine] if "{group}" in template else [user]
    return [p for p in dict.fromkeys(out) if _PATTERN.fullmatch(p)]


def name_allowed(name: str, patterns: Iterable[str]) -> bool:
    """Whether a namespace name matches one of the patterns ('*' is any run of [a-z0-9-])."""
    return any(re.fullmatch(re.escape(p).replace(r"\*", "[a-z0-9-]*"), name) for p in patterns)


def suggest_name(preferred: str, patterns: list[str], suffix: str) -> str:
    """``preferred`` when the patterns allow it (or there are none), else the first pattern with its '*' as
    ``suffix`` (dev-{user}-* with suffix payments: dev-alice-payments)."""
    if not patterns or name_allowed(preferred, patterns):
        return preferred
    for pattern in patterns:
        candidate = pattern.replace("*", suffix, 1).replace("*", "")
        if name_allowed(candidate, patterns) and len(candidate) <= 63:
            return candidate
    return preferred


def describe(limits: Limits, patterns: list[str]) -> list[str]:
    """The limits, one line each, for a person about to answer prompts."""
    lines = [f"lifetime: at most {limits.max_ttl}" if limits.max_ttl else "lifetime: no maximum"]
    if patterns or limits.names:
        lines.append(f"names: {', '.join(patterns) or 'none for you (ask a devns admin)'}")
    if limits.quota:
        lines.append("quota at most: " + ", ".join(f"{k} {v}" for k, v in limits.quota.items()))
    if limits.max_per_requester and limits.max_per_requester != "none":
        lines.append(f"DevNamespaces per developer: at most {limits.max_per_requester}")
    return lines


def default_ttl(limits: Limits | None, wanted: str = "7d") -> str | None:
    """The ttl to offer: ``wanted``, or the maximum when that is shorter; None when there is no maximum (the
    platform's default applies)."""
    if limits is None or limits.max_ttl_delta is None:
        return None
    return wanted if parse_duration(wanted) <= limits.max_ttl_delta else limits.max_ttl
