"""Idle reclamation's API calls (``idle`` decides): reading a namespace's activity, putting it to sleep, waking it.

- ``activity``: one list per kind of ``idle.ACTIVITY_KINDS`` in the namespace (read only when a deadline comes).
- ``sleep_namespace``: Deployments and StatefulSets with replicas are scaled to 0, their replicas kept in the annotation
  ``devns.io/replicas-before-sleep``; running CronJobs are suspended, marked ``devns.io/suspended-for-sleep``.
  One merge patch each (conditional on the resourceVersion read: an owner's change meanwhile wins), nothing else
  of the owners' objects is touched, nothing is deleted.
- ``wake_namespace``: exactly what carries those marks is restored: the replicas (unless the owner has set some since),
  the CronJob resumed; the marks removed.
With ``dry_run`` nothing is written; the result says what would be.
"""

from __future__ import annotations

from typing import Any

from ..contract import ANN_REPLICAS_BEFORE_SLEEP, ANN_SUSPENDED_FOR_SLEEP, FIELD_MANAGER
from ..idle import ACTIVITY_KINDS, SLEEPING_KINDS, replicas_of
from ..kube import ApiError, Kube
from .context import describe


def activity(kube: Kube, ns: str) -> list[dict[str, Any]]:
    """Every object of the activity kinds in ``ns``."""
    return [obj for kind in ACTIVITY_KINDS for obj in _listed(kube, kind, ns)]


def _listed(kube: Kube, kind: str, ns: str) -> list[dict[str, Any]]:
    items = kube.list(kind, namespace=ns)
    for obj in items:  # a list's items carry no kind
        obj.setdefault("kind", kind)
    return items


def _patch(kube: Kube, obj: dict[str, Any], annotations: dict[str, str | None], spec: dict[str, Any],
           conditional: bool = True) -> bool:
    """One merge patch of ``obj``; ``conditional``: only as read. False when it went, or (conditional) changed
    meanwhile: the owner's change wins."""
    meta = obj["metadata"]
    precondition = {"resourceVersion": meta["resourceVersion"]} if conditional else {}
    try:
        kube.request("PATCH", kube.path(obj["kind"], meta["name"], meta["namespace"]), parse=False,
                     content_type="application/merge-patch+json", query=[("fieldManager", FIELD_MANAGER)],
                     body={"metadata": {**precondition, "annotations": annotations}, "spec": spec})
        return True
    except ApiError as exc:
        if exc.status in (404, 409):
            return False
        raise


def sleep_namespace(kube: Kube, ns: str, dry_run: bool, listed: list[dict[str, Any]]) -> list[str]:
    """Scale down and suspend the objects of ``listed`` (what the look before it found: ``activity``); the
    objects it did (or, dry-run, would do) it to."""
    done = []
    for kind in SLEEPING_KINDS:
        for obj in (o for o in listed if o["kind"] == kind):
            annotations = obj["metadata"].get("annotations") or {}
            if kind == "CronJob":
                if (obj.get("spec") or {}).get("suspend") or ANN_SUSPENDED_FOR_SLEEP in annotations:
                    continue
                if dry_run or _patch(kube, obj, {ANN_SUSPENDED_FOR_SLEEP: "true"}, {"suspend": True}):
                    done.append(describe(obj))
            elif replicas_of(obj) > 0:
                if dry_run or _patch(kube, obj, {ANN_REPLICAS_BEFORE_SLEEP: str(replicas_of(obj))}, {"replicas": 0}):
                    done.append(f"{describe(obj)} ({replicas_of(obj)} replicas)")
    return done


def wake_namespace(kube: Kube, ns: str) -> list[str]:
    """Restore what ``sleep_namespace`` did; the objects restored."""
    done = []
    for kind in SLEEPING_KINDS:
        for obj in _listed(kube, kind, ns):
            annotations = obj["metadata"].get("annotations") or {}
            if kind == "CronJob" and ANN_SUSPENDED_FOR_SLEEP in annotations:
                if _patch(kube, obj, {ANN_SUSPENDED_FOR_SLEEP: None}, {"suspend": False}, conditional=False):
                    done.append(describe(obj))
            elif kind != "CronJob" and ANN_REPLICAS_BEFORE_SLEEP in annotations:
                before = annotations[ANN_REPLICAS_BEFORE_SLEEP]
                spec = {"replicas": int(before)} if replicas_of(obj) == 0 and before.isdigit() else {}
                if _patch(kube, obj, {ANN_REPLICAS_BEFORE_SLEEP: None}, spec, conditional=False):
                    done.append(f"{describe(obj)} ({before} replicas)" if spec else describe(obj))
    return done
