"""What every reconcile path shares: the ``Context`` (API, settings, signing key, the typed per-process state)
and the few helpers more than one path needs (ownership checks, Events in a namespace)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from .. import gc
from ..contract import (ANN_CREATED_BY, CLUSTER_VIEW_BINDING_PREFIX, FIELD_MANAGER, KINDS, LABEL_DEVNAMESPACE,
                        MANAGED_BY, MANAGER)
from ..desired import DesiredCache
from ..diff import Change, change_needed
from ..kube import Kube
from ..render import DevNamespaceRef
from ..settings import Settings
from ..units import format_time


@dataclass(frozen=True)
class Context:
    """The API, the settings and the key that signs devns's namespaces, built once at start-up; and the state a
    running operator keeps: the desired state per DevNamespace (``desired``) and the namespaces whose look-alike
    or dry-run report was already posted (``reported``, by namespace uid)."""

    kube: Kube
    settings: Settings
    key: bytes
    desired: DesiredCache = field(init=False, compare=False, repr=False)
    reported: set[str] = field(default_factory=set, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "desired", DesiredCache(self.settings, self.key))


class Retry(Exception):
    """A transient condition (namespace still terminating): try again after ``delay`` seconds."""

    def __init__(self, message: str, delay: float = 5.0):
        super().__init__(message)
        self.delay = delay


def is_ours(namespace: Mapping[str, Any] | None, ref: DevNamespaceRef, key: bytes) -> bool:
    """Devns created this namespace for this DevNamespace: ``created-by`` names its UID and the proof verifies.
    Labels are not consulted: anyone may copy or remove them."""
    meta = (namespace or {}).get("metadata", {})
    return (meta.get("annotations") or {}).get(ANN_CREATED_BY) == ref.created_by and gc.proof_valid(key, namespace)


def owned_by(obj: Mapping[str, Any], ref: DevNamespaceRef) -> bool:
    """``obj`` has an ownerReference to this DevNamespace (by uid)."""
    return any(o.get("uid") == ref.uid for o in obj.get("metadata", {}).get("ownerReferences") or [])


def is_cluster_view_binding(binding: Mapping[str, Any], settings: Settings) -> str | None:
    """The DevNamespace name a ClusterRoleBinding is devns's cluster-view binding for (its labels, name and role
    are exactly what devns creates), or None."""
    meta = binding.get("metadata", {})
    labels = meta.get("labels") or {}
    name = labels.get(LABEL_DEVNAMESPACE, "")
    if (labels.get(MANAGED_BY) == MANAGER and name and meta.get("name") == f"{CLUSTER_VIEW_BINDING_PREFIX}{name}"
            and (binding.get("roleRef") or {}).get("name") == settings.cluster_view_role):
        return name
    return None


def write(kube: Kube, want: dict[str, Any], current: dict[str, Any] | None) -> bool:
    """Make ``current`` (None: it does not exist) match ``want`` with the one write it needs; False if none."""
    change = change_needed(want, current, FIELD_MANAGER)
    if change is Change.REPLACE:
        kube.replace(want, current)
    elif change is Change.APPLY:
        kube.apply(want, current)
    return change is not Change.NONE


def describe(obj: Mapping[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def namespace_event(kube: Kube, ns: str, reason: str, message: str, now: dt.datetime,
                    type_: str = "Warning") -> None:
    """An Event in the namespace itself, so `kubectl get events -n <ns>` shows it."""
    stamp = format_time(now)
    kube.create({"apiVersion": KINDS["Event"].api_version, "kind": "Event",
                 "metadata": {"generateName": f"{ns}.devns-", "namespace": ns},
                 "involvedObject": {"apiVersion": KINDS["Namespace"].api_version, "kind": "Namespace", "name": ns,
                                    "namespace": ns},
                 "reason": reason, "message": message, "type": type_, "count": 1,
                 "firstTimestamp": stamp, "lastTimestamp": stamp,
                 "source": {"component": "devns"}, "reportingComponent": "devns", "reportingInstance": "devns"})

