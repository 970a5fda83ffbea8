"""Idle reclamation, pure: when a namespace was last used, and what its idle policy makes due.

**Activity** is the newest of: a write to an object in the namespace by someone other than devns and Kubernetes's
own controllers (``metadata.managedFields[].time`` of every entry whose manager is not a system one; writes to
the status do not count), in a sleeping namespace a workload running again (``running``: a ``kubectl scale``
records no time), a change of the DevNamespace's spec (its own managedFields, same rule), an explicit wake (the
time the API server recorded for the last write of the annotation ``devns.io/wake``, which ``kubectl devns wake``
sets), the last activity the operator recorded (``status.lastActivity``) and the DevNamespace's creation. Every
time is one the API server stamped: none can be written into the future.

``sleep_at`` and ``effective_expiry`` turn that into deadlines: sleep at activity + ``sleepAfter`` (unless asleep
already), delete at activity + ``deleteAfter`` (or at the TTL's expiry, if that comes first). A deadline is only a time to look again: the lifecycle lists the namespace then, and
newer activity moves it instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .contract import ANN_SUSPENDED_FOR_SLEEP, ANN_WAKE, FIELD_MANAGER
from .units import parse_duration, parse_time

#: Field managers of writes that are not anyone's use of the namespace: devns, and Kubernetes's own components.
SYSTEM_MANAGERS = frozenset({FIELD_MANAGER, "kube-controller-manager", "kube-scheduler", "kubelet", "kube-apiserver",
                             "kube-proxy"})
#: Kinds whose writes are activity (Secrets are not: devns may not read them outside its own namespaces).
ACTIVITY_KINDS = ("Deployment", "StatefulSet", "Job", "CronJob", "Pod", "Service", "ConfigMap",
                  "PersistentVolumeClaim")
#: Kinds a sleep scales down (Deployments, StatefulSets) or suspends (CronJobs).
SLEEPING_KINDS = ("Deployment", "StatefulSet", "CronJob")


def is_use(entry: Mapping[str, Any]) -> bool:
    """A managedFields entry that records someone's use (not devns, not a controller, not a status write)."""
    manager = entry.get("manager") or ""
    return (manager not in SYSTEM_MANAGERS and not manager.startswith(("kube-", "system:"))
            and entry.get("subresource") != "status" and bool(entry.get("time")))


def last_use(obj: Mapping[str, Any], spec_only: bool = False) -> dt.datetime | None:
    """The newest time someone used ``obj`` (for a DevNamespace, ``spec_only``: changed its spec)."""
    times = [parse_time(e["time"]) for e in (obj.get("metadata") or {}).get("managedFields") or []
             if is_use(e) and (not spec_only or "f:spec" in (e.get("fieldsV1") or {}))]
    return max(times, default=None)


def known_activity(body: Mapping[str, Any]) -> dt.datetime:
    """What the DevNamespace itself says about its namespace's last use: creation, spec changes, a wake, and the
    activity the operator recorded."""
    meta = body["metadata"]
    candidates = [parse_time(meta["creationTimestamp"]), last_use(body, spec_only=True), woken_at(body)]
    recorded = (body.get("status") or {}).get("lastActivity")
    if recorded:
        candidates.append(parse_time(recorded))
    return max(c for c in candidates if c is not None)


def woken_at(body: Mapping[str, Any]) -> dt.datetime | None:
    """When ``kubectl devns wake`` last asked: the time the API server stamped on the write that set the annotation
    ``devns.io/wake`` (its managedFields entry), never the value someone wrote into it (a time far in the future
    would keep a namespace awake forever); None if never."""
    key = f"f:{ANN_WAKE}"
    times = [parse_time(e["time"]) for e in (body["metadata"].get("managedFields") or [])
             if e.get("time") and key in (((e.get("fieldsV1") or {}).get("f:metadata") or {}).get("f:annotations")
                                          or {})]
    return max(times, default=None)


def newest(known: dt.datetime, objects: Iterable[Mapping[str, Any]]) -> dt.datetime:
    """``known`` or the newest use of any of ``objects``, whichever is later."""
    return max([known, *(t for o in objects if (t := last_use(o)) is not None)])


@dataclass(frozen=True)
class IdlePolicy:
    """``spec.idle`` as durations (None: never)."""

    sleep_after: dt.timedelta | None = None
    delete_after: dt.timedelta | None = None

    @classmethod
    def of(cls, idle: Any) -> "IdlePolicy":
        """From the model's ``Idle`` (or None)."""
        if idle is None:
            return cls()
        return cls(parse_duration(idle.sleep_after) if idle.sleep_after else None,
                   parse_duration(idle.delete_after) if idle.delete_after else None)

    @property
    def active(self) -> bool:
        return self.sleep_after is not None or self.delete_after is not None


def sleep_at(policy: IdlePolicy, activity: dt.datetime, sleeping: bool) -> dt.datetime | None:
    """When sleep is due, counted from ``activity`` (None: never, or asleep already)."""
    return None if sleeping or policy.sleep_after is None else activity + policy.sleep_after


def running(objects: Iterable[Mapping[str, Any]]) -> bool:
    """In a sleeping namespace: a Deployment or StatefulSet has replicas again, or a CronJob devns suspended runs
    again. Someone used it: a scale through the ``scale`` subresource leaves no time in managedFields, so the
    replicas themselves say so."""
    return any((o.get("kind") in ("Deployment", "StatefulSet") and replicas_of(o) > 0) or
               (o.get("kind") == "CronJob" and ANN_SUSPENDED_FOR_SLEEP in ((o.get("metadata") or {}).get(
                   "annotations") or {}) and not (o.get("spec") or {}).get("suspend")) for o in objects)


def replicas_of(obj: Mapping[str, Any]) -> int:
    """A Deployment's or StatefulSet's desired replicas (the API's default when unset: 1)."""
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def effective_expiry(ttl_expires: dt.datetime | None, policy: IdlePolicy,
                     body: Mapping[str, Any]) -> tuple[dt.datetime | None, str]:
    """(the earlier of the TTL's expiry and the last known activity + deleteAfter, "ttl" or "inactivity")."""
    status = body.get("status") or {}
    if status.get("phase") == "Expired" and status.get("expiresBecause") == "inactivity" and status.get("expiresAt"):
        return parse_time(status["expiresAt"]), "inactivity"  # expired for inactivity: that stays
    if policy.delete_after is None:
        return ttl_expires, "ttl"
    at = known_activity(body) + policy.delete_after
    return (at, "inactivity") if ttl_expires is None or at < ttl_expires else (ttl_expires, "ttl")


def because_status(expires: Any, because: str) -> str | None:
    """``status.expiresBecause``: "inactivity" only when the expiry is the inactivity deadline; absent for the
    TTL's (so DevNamespaces from before idle reclamation need no write)."""
    return "inactivity" if expires and because == "inactivity" else None
