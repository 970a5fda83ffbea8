"""Who asked for a DevNamespace, and whether their limit of live DevNamespaces leaves room for it. Pure.

The requester is the user name the API server stamped at creation (``contract.ANN_REQUESTER``). A ServiceAccount
of a namespace devns manages acts for that namespace's requester (``effective_requester``), so impersonating
one's own ServiceAccounts does not multiply the limit. The limit (``contract.ANN_MAX_PER_REQUESTER``) is stamped
on self-service DevNamespaces only: admins are not limited.

A DevNamespace counts the DevNamespaces of its requester that hold room (judged and not waiting, not deleting,
not expired), the waiting ones created before it, and the ones not judged yet that were created in an earlier
second. DevNamespaces created in the same second are judged first come, first served: the API keeps creation
times in whole seconds, and one judged now cannot know of one created a moment later. So that two judged at the
same moment cannot both take the last room, judging is one at a time, and a DevNamespace judged to have room
holds it (``Claims``) until the indexes show its status. Pure, apart from ``Claims``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

from .contract import ANN_MAX_PER_REQUESTER, ANN_REQUESTER
from .units import parse_time

SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
#: The Ready condition's reason of a DevNamespace waiting for room under its requester's limit.
OVER_LIMIT = "OverLimit"
#: ... and of one waiting for room in its class's budget (``budgets``).
OVER_BUDGET = "OverBudget"


@dataclass(frozen=True)
class Peer:
    """What the limit needs to know of one DevNamespace."""

    uid: str
    name: str
    created: str  # RFC 3339 (sorts in time order)
    namespace: str
    requester: str | None
    limit: int | None
    phase: str | None
    reason: str | None  # of the Ready condition
    deleting: bool
    expires_at: dt.datetime | None = None
    class_name: str | None = None  # the DevNamespaceClass that applied (status.class)
    team: str | None = None

    @property
    def waiting(self) -> bool:
        return self.phase == "Failed" and self.reason == OVER_LIMIT

    @property
    def over_budget(self) -> bool:
        """Waiting for room in its class's budget (``budgets``)."""
        return self.phase == "Pending" and self.reason == OVER_BUDGET

    def holds_room(self, now: dt.datetime) -> bool:
        """Counts against its requester's limit: live, not expired (also when the status says so only later)."""
        return (not self.deleting and self.phase != "Expired" and not self.waiting
                and not (self.expires_at is not None and now >= self.expires_at))


def peer_of(body: Mapping[str, Any], class_name: str | None = None) -> Peer:
    """``class_name``: the class that applies (default: as its status says)."""
    meta, status = body["metadata"], body.get("status") or {}
    annotations = meta.get("annotations") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    limit = annotations.get(ANN_MAX_PER_REQUESTER)
    return Peer(uid=meta["uid"], name=meta["name"], created=meta.get("creationTimestamp", ""),
                namespace=(body.get("spec") or {}).get("namespace") or meta["name"],
                requester=annotations.get(ANN_REQUESTER), limit=int(limit) if (limit or "").isdigit() else None,
                phase=status.get("phase"), reason=ready.get("reason"),
                deleting=bool(meta.get("deletionTimestamp")),
                expires_at=parse_time(status["expiresAt"]) if status.get("expiresAt") else None,
                class_name=class_name or status.get("class"), team=(body.get("spec") or {}).get("team"))


def namespace_requesters(peers: Iterable[Peer]) -> dict[str, str | None]:
    """namespace -> the requester of the DevNamespace that manages it."""
    return {p.namespace: p.requester for p in peers if not p.deleting}


def effective_requester(requester: str | None, by_namespace: Mapping[str, str | None]) -> str | None:
    """``requester``, or, for a ServiceAccount of a namespace devns manages (``by_namespace``), that namespace's
    requester (followed through chains of such ServiceAccounts)."""
    seen: set[str] = set()
    while requester and requester.startswith(SERVICE_ACCOUNT_PREFIX) and requester not in seen:
        seen.add(requester)
        namespace = requester[len(SERVICE_ACCOUNT_PREFIX):].partition(":")[0]
        if not by_namespace.get(namespace):
            break
        requester = by_namespace[namespace]
    return requester


def used_before(me: Peer, peers: Iterable[Peer], now: dt.datetime) -> tuple[str | None, int]:
    """``me``'s effective requester and how many of their live DevNamespaces come before ``me``: every one that
    holds room, the waiting ones created earlier, and the ones not judged yet (no phase) created in an earlier
    second (see the module's docstring)."""
    peers = list(peers)
    by_namespace = namespace_requesters(peers)
    mine = effective_requester(me.requester, by_namespace)
    order = (me.created, me.name)
    used = sum(1 for p in peers
               if p.uid != me.uid
               and ((p.holds_room(now) and (p.phase or p.created < me.created))
                    or (p.waiting and (p.created, p.name) < order))
               and effective_requester(p.requester, by_namespace) == mine)
    return mine, used


def waiting_for(requester: str | None, peers: Iterable[Peer]) -> list[Peer]:
    """The DevNamespaces of ``requester`` waiting for room, oldest first."""
    peers = list(peers)
    by_namespace = namespace_requesters(peers)
    return sorted((p for p in peers if p.waiting and effective_requester(p.requester, by_namespace) == requester),
                  key=lambda p: (p.created, p.name))


class Claims:
    """DevNamespaces judged to have room whose status does not say so yet: ``judging`` is held while one is judged,
    and ``merged`` lays the claims over a snapshot of the indexes (as provisioned), so that the next one judged
    counts them. A claim goes when the DevNamespace is deleted (``forget``), and once the indexes have shown its
    status for a while (``ttl``: a snapshot taken just before may not show it yet)."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.judging = threading.Lock()
        self.ttl = ttl
        self._claims: dict[str, tuple[Peer, float]] = {}

    def merged(self, peers: Iterable[Peer]) -> list[Peer]:
        by_uid = {p.uid: p for p in peers}
        now = time.monotonic()
        for uid, (claim, since) in list(self._claims.items()):
            seen = by_uid.get(uid)
            judged = seen is not None and bool(seen.phase or seen.deleting)
            if judged and now - since > self.ttl:
                del self._claims[uid]
            elif not judged:
                by_uid[uid] = claim
        return list(by_uid.values())

    def claim(self, peer: Peer) -> None:
        self._claims[peer.uid] = (replace(peer, phase="Ready", reason=None), time.monotonic())

    def forget(self, uid: str) -> None:
        self._claims.pop(uid, None)

    def __len__(self) -> int:
        return len(self._claims)
