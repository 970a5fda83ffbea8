"""Who asked for a DevNamespace, and whether their limit of live DevNamespaces leaves room for it. Pure.

The requester is the user name the API server stamped at creation (``contract.ANN_REQUESTER``). A ServiceAccount
of a namespace devns manages acts for that namespace's requester (``effective_requester``), so impersonating
one's own ServiceAccounts does not multiply the limit. The limit (``contract.ANN_MAX_PER_REQUESTER``) is stamped
on self-service DevNamespaces only: admins are not limited.

Room is decided in creation order, so that the outcome does not depend on which DevNamespace is looked at first:
a DevNamespace counts the provisioned (not deleting, not expired, not waiting) DevNamespaces of its requester,
plus the waiting ones created before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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
    holds room, the waiting ones created earlier, and the ones not judged yet (no phase) created earlier. One not
    judged yet that comes after ``me`` does not count: DevNamespaces created together are judged in any order
    (the indexes see them all at once), and the first ones by (creation time, name) get the room."""
    peers = list(peers)
    by_namespace = namespace_requesters(peers)
    mine = effective_requester(me.requester, by_namespace)
    order = (me.created, me.name)
    used = sum(1 for p in peers
               if p.uid != me.uid
               and ((p.holds_room(now) and (p.phase or (p.created, p.name) < order))
                    or (p.waiting and (p.created, p.name) < order))
               and effective_requester(p.requester, by_namespace) == mine)
    return mine, used


def waiting_for(requester: str | None, peers: Iterable[Peer]) -> list[Peer]:
    """The DevNamespaces of ``requester`` waiting for room, oldest first."""
    peers = list(peers)
    by_namespace = namespace_requesters(peers)
    return sorted((p for p in peers if p.waiting and effective_requester(p.requester, by_namespace) == requester),
                  key=lambda p: (p.created, p.name))
