"""What a DevNamespace's namespace allows, as ``list`` and ``status`` show it: the usage of its ResourceQuota
(devns's, ``contract.QUOTA_NAME``) and the container values of its LimitRange (``contract.LIMITRANGE_NAME``).

Both are read with the reader's own rights: an owner reads them through the namespace role (edit and view include
both), an admin reads every quota with one list. What cannot be read is None, shown as ``-``: never an error.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterable

from kubernetes.client import ApiClient, CoreV1Api
from kubernetes.client.rest import ApiException

from ..contract import LIMITRANGE_NAME, QUOTA_NAME

#: The quota columns of ``kubectl devns list``: (header, ResourceQuota resource).
COLUMNS = (("CPU", "requests.cpu"), ("MEMORY", "requests.memory"), ("PODS", "pods"))
#: How many quotas a developer's list reads at once (one GET each; the client's connection pool is larger).
READERS = 4
#: LimitRange fields shown by status, in order, with their headers.
LIMIT_FIELDS = (("defaultRequest", "DEFAULT REQUEST"), ("default", "DEFAULT LIMIT"), ("min", "MIN"), ("max", "MAX"))


@dataclass(frozen=True)
class Usage:
    """A ResourceQuota's status: hard limits and what is used, by resource (quantities as the API spells them)."""

    hard: dict[str, str] = field(default_factory=dict)
    used: dict[str, str] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str, str]]:
        """(resource, used, hard) for every resource with a hard limit, sorted."""
        return [(r, self.used.get(r, "0"), self.hard[r]) for r in sorted(self.hard)]


def _usage(quota) -> Usage:
    status = quota.status
    return Usage(hard=dict((status and status.hard) or quota.spec.hard or {}),
                 used=dict((status and status.used) or {}))


def _unseen(exc: ApiException) -> bool:
    """Whether an error means "not there or not yours" (shown as ``-``) rather than a failure to report."""
    return exc.status in (403, 404)


def read_usage(api: ApiClient, namespace: str) -> Usage | None:
    """The quota usage of one namespace, or None when there is none or it may not be read."""
    try:
        return _usage(CoreV1Api(api).read_namespaced_resource_quota(QUOTA_NAME, namespace))
    except ApiException as exc:
        if _unseen(exc):
            return None
        raise


def usages(api: ApiClient, namespaces: Iterable[str]) -> dict[str, Usage | None]:
    """The quota usage of each namespace: one cluster-wide list for those allowed to (admins), else one read per
    namespace, ``READERS`` at a time (a developer reads only their own; the others are None)."""
    wanted = list(dict.fromkeys(namespaces))
    if not wanted:
        return {}
    try:
        found = CoreV1Api(api).list_resource_quota_for_all_namespaces(field_selector=f"metadata.name={QUOTA_NAME}")
        listed = {q.metadata.namespace: _usage(q) for q in found.items}
        return {ns: listed.get(ns) for ns in wanted}
    except ApiException as exc:
        if exc.status != 403:
            raise
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        return dict(zip(wanted, pool.map(lambda ns: read_usage(api, ns), wanted)))


def read_limit_range(api: ApiClient, namespace: str) -> list[dict[str, dict[str, str]]] | None:
    """The LimitRange's Container entry as {field: {resource: value}} (a list, one per Container entry), or None
    when there is none or it may not be read."""
    try:
        limit_range = CoreV1Api(api).read_namespaced_limit_range(LIMITRANGE_NAME, namespace)
    except ApiException as exc:
        if _unseen(exc):
            return None
        raise
    return [{name: dict(getattr(item, attr) or {}) for name, attr in
             (("default", "default"), ("defaultRequest", "default_request"), ("min", "min"), ("max", "max"))}
            for item in limit_range.spec.limits or [] if item.type == "Container"]
