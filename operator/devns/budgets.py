"""Budgets of a DevNamespaceClass, pure: whether the live DevNamespaces of the class leave room for one more.

A class's ``budget`` limits, per requester and per team, how many live DevNamespaces of the class there may be
(``count``) and the sum of their effective ResourceQuota hard values (``requests.cpu: "8"``). Like the limit per
requester (``requesters``), room is decided in creation order: a DevNamespace counts those of the class that hold
room (provisioned, not deleting, not expired) plus those waiting that were created before it, so the outcome does
not depend on which one is looked at first. One over budget waits: phase Pending, reason ``OverBudget``, nothing
created; it is looked at again when one of the class goes (``requesters``'s wake-up) or the class changes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Callable, Iterable, Mapping

from .classes import ClassRef
from .requesters import OVER_BUDGET, Peer, effective_requester, namespace_requesters
from .units import parse_quantity

__all__ = ["OVER_BUDGET", "check", "has_budget", "waiting_in"]
#: Phases of a DevNamespace that holds its room whatever its age; one not decided yet holds it only if older.
PROVISIONED = ("Ready", "Expiring")


def _amount(hard: Mapping[str, str] | None, resource: str) -> Decimal:
    try:
        return parse_quantity((hard or {}).get(resource, 0))
    except ValueError:
        return Decimal(0)


def _show(amount: Decimal) -> str:
    return format(amount.normalize(), "f")


def has_budget(cls: ClassRef | None) -> bool:
    return cls is not None and bool(cls.spec.budget.per_requester or cls.spec.budget.per_team)


def check(me: Peer, hard: Mapping[str, str], peers: Iterable[Peer], cls: ClassRef, now: dt.datetime,
          quota_of: Callable[[Peer], Mapping[str, str] | None]) -> str | None:
    """Why ``me`` (asking for the quota ``hard``) does not fit its class's budget, or None when it does.
    ``quota_of``: the effective quota of another DevNamespace (from the desired-state cache)."""
    budget = cls.spec.budget
    if not budget.per_requester and not budget.per_team:
        return None
    peers = list(peers)
    by_namespace = namespace_requesters(peers)
    mine = effective_requester(me.requester, by_namespace)
    order = (me.created, me.name)

    def counts(p: Peer) -> bool:
        if p.uid == me.uid or p.class_name != cls.name:
            return False
        earlier = (p.created, p.name) < order
        if p.over_budget:
            return earlier
        # not judged yet: only if created in an earlier second (as for the requester limit, ``requesters``)
        return p.holds_room(now) and (p.phase in PROVISIONED or (earlier if p.phase else p.created < me.created))
    counted = [p for p in peers if counts(p)]
    scopes = (("requester", mine, budget.per_requester,
               [p for p in counted if effective_requester(p.requester, by_namespace) == mine]),
              ("team", me.team, budget.per_team, [p for p in counted if p.team == me.team]))
    for scope, who, limits, theirs in scopes:
        if not limits or who is None:
            continue
        field = f"budget.per{scope.capitalize()}"
        if "count" in limits and len(theirs) + 1 > int(limits["count"]):
            return (f"{scope} {who} has {len(theirs)} live DevNamespaces of class {cls.name}, its budget "
                    f"({field}.count) is {limits['count']}")
        for resource, maximum in sorted(limits.items()):
            if resource == "count":
                continue
            used = sum((_amount(quota_of(p), resource) for p in theirs), Decimal(0))
            asked = _amount(hard, resource)
            if used + asked > parse_quantity(maximum):
                return (f"{scope} {who} uses {_show(used)} {resource} in DevNamespaces of class {cls.name}; this "
                        f"one asks {_show(asked)} more, over the budget ({field}.{resource}) of {maximum}")
    return None


def waiting_in(class_name: str, peers: Iterable[Peer]) -> list[Peer]:
    """The DevNamespaces of a class waiting for budget, oldest first."""
    return sorted((p for p in peers if p.over_budget and p.class_name == class_name),
                  key=lambda p: (p.created, p.name))
