"""What every reconcile path shares: the ``Context`` (API, settings, signing key, the typed per-process state)
and the few helpers more than one path needs (ownership checks, Events in a namespace)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from .. import gc
from ..contract import ANN_CREATED_BY, KINDS
from ..desired import DesiredCache
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

