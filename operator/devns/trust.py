"""Which of the namespaces in ``spec.network.allowFromNamespaces`` a DevNamespace may admit ingress from. Pure.

A name alone proves nothing: whoever creates a namespace of that name later would get in. So a listed namespace
is trusted only when it exists and this DevNamespace's owners control it:

- it is this DevNamespace's own namespace;
- it is the namespace of another DevNamespace that is provisioned (Ready or Expiring, not being deleted) and
  shares at least one owner with this one (same kind and name, and namespace for ServiceAccounts);
- the platform trusts it (``DEVNS_TRUSTED_SOURCE_NAMESPACES``, glob patterns) and no DevNamespace holds it: a
  namespace devns manages is judged by its owners only, whatever its name.

Everything else is refused, and the refusal says why. Whether a name nobody in devns holds exists, and is being
deleted, needs the API: ``decide`` leaves it ``UNKNOWN`` (refused either way) and ``Decision.resolved`` fills in
what the reconcile looked up, for the message only. The granted list depends on the DevNamespaces alone (``Source``,
from an index of the DevNamespaces), so provisioning and drift repair compute the same list without an API call, and ``affected``
tells which DevNamespaces' judgement of a name changes when another DevNamespace changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable, Iterable, Mapping

from .contract import ANN_MAX_PER_REQUESTER, ANN_REQUESTER

#: Condition type and reasons of the verdict (``status.conditions``; ``status.trustedSources`` lists the granted).
CONDITION = "SourcesTrusted"
TRUSTED, UNTRUSTED = "SourcesTrusted", "UntrustedSources"
#: Phases in which a DevNamespace's namespace exists and is provisioned.
PROVISIONED = ("Ready", "Expiring")
#: Ready-condition reasons of a Failed DevNamespace that never held its namespace (someone else's, a reserved name,
#: no room under its requester's limit): it claims nothing.
NOT_HELD = ("NamespaceConflict", "ReservedNamespace", "OverLimit")

#: An owner's identity: (kind, name, namespace); the namespace only for ServiceAccounts.
OwnerKey = tuple[str, str, str]


class Verdict(StrEnum):
    OWN = "own"  # this DevNamespace's own namespace
    SHARED_OWNER = "shared-owner"
    PLATFORM = "platform"
    NO_SHARED_OWNER = "no-shared-owner"
    NOT_REQUESTED_BY_OWNER = "not-requested-by-owner"  # self-service: asked for by someone who is not our owner
    NOT_PROVISIONED = "not-provisioned"  # held by a DevNamespace that is not provisioned (detail: its state)
    UNKNOWN = "unknown"  # no DevNamespace holds it, the platform does not trust it; existence not looked up
    NOT_FOUND = "not-found"
    TERMINATING = "terminating"
    NOT_DEVNS = "not-devns"


GRANTED = frozenset({Verdict.OWN, Verdict.SHARED_OWNER, Verdict.PLATFORM})
WHY = {
    Verdict.NO_SHARED_OWNER: "managed by a DevNamespace that shares no owner with this one",
    Verdict.NOT_REQUESTED_BY_OWNER: "managed by a self-service DevNamespace that {detail} asked for, who is not an "
                                    "owner of this one",
    Verdict.NOT_PROVISIONED: "managed by a DevNamespace that is not provisioned ({detail})",
    Verdict.UNKNOWN: "not a devns namespace and not trusted by the platform",
    Verdict.NOT_FOUND: "does not exist",
    Verdict.TERMINATING: "is being deleted",
    Verdict.NOT_DEVNS: "not a devns namespace and not trusted by the platform",
}


@dataclass(frozen=True)
class Source:
    """What trust needs to know of one DevNamespace: the namespace it holds, its owners, its state."""

    uid: str
    name: str
    namespace: str
    owners: frozenset[OwnerKey]
    state: str  # its phase (Pending when it has none), or "being deleted"
    holds: bool = True  # False: Failed without ever holding its namespace (``NOT_HELD``)
    #: Who asked for it, when that was a self-service developer (the limit per requester is stamped); None: an
    #: admin created it. A self-service developer may name anyone as a co-owner, so sharing an owner proves
    #: control only when the developer who asked is an owner of the listing DevNamespace too.
    self_service_requester: str | None = None

    @property
    def provisioned(self) -> bool:
        return self.state in PROVISIONED

    @property
    def pending(self) -> bool:
        return self.state == "Pending"


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    detail: str = ""

    @property
    def granted(self) -> bool:
        return self.verdict in GRANTED

    @property
    def why(self) -> str:
        return WHY[self.verdict].format(detail=self.detail)


@dataclass(frozen=True)
class Decision:
    """The judgement of every listed source (sorted by name)."""

    judgements: tuple[tuple[str, Judgement], ...] = ()

    @property
    def granted(self) -> tuple[str, ...]:
        return tuple(name for name, j in self.judgements if j.granted)

    @property
    def refused(self) -> tuple[tuple[str, Judgement], ...]:
        return tuple((name, j) for name, j in self.judgements if not j.granted)

    @property
    def unknown(self) -> tuple[str, ...]:
        """The refused names whose existence only the API can tell (for the message)."""
        return tuple(name for name, j in self.judgements if j.verdict is Verdict.UNKNOWN)

    def resolved(self, found: Mapping[str, Mapping[str, Any] | None]) -> Decision:
        """``UNKNOWN`` judgements made precise with the namespaces looked up (name -> object, None: not found)."""
        def precise(name: str, j: Judgement) -> Judgement:
            if j.verdict is not Verdict.UNKNOWN or name not in found:
                return j
            ns = found[name]
            if ns is None:
                return Judgement(Verdict.NOT_FOUND)
            return Judgement(Verdict.TERMINATING if ns.get("metadata", {}).get("deletionTimestamp")
                             else Verdict.NOT_DEVNS)
        return Decision(tuple((name, precise(name, j)) for name, j in self.judgements))

    def condition(self) -> tuple[str, str, str] | None:
        """(status, reason, message) of the ``SourcesTrusted`` condition; None when nothing is listed."""
        if not self.judgements:
            return None
        granted = ", ".join(self.granted)
        if not self.refused:
            return "True", TRUSTED, f"ingress is allowed from {granted}"
        refused = "; ".join(f"{name}: {j.why}" for name, j in self.refused)
        message = (f"ingress is not allowed from {refused}. Only namespaces of DevNamespaces that share an owner with "
                   "this one, or that the platform trusts, are allowed")
        return "False", UNTRUSTED, message + (f"; allowed: {granted}" if granted else "; none is allowed")

    def status(self) -> dict[str, Any]:
        """``status.trustedSources``: the granted list; None (no key) when nothing is listed."""
        return {"trustedSources": list(self.granted) if self.judgements else None}


# -- reading DevNamespaces ----------------------------------------------------------------------------------------

def owners_of(spec: Mapping[str, Any]) -> frozenset[OwnerKey]:
    """The owners of a raw spec, as comparable keys (malformed entries are skipped: they match nobody)."""
    out = set()
    for owner in spec.get("owners") or []:
        if not isinstance(owner, Mapping) or not owner.get("kind") or not owner.get("name"):
            continue
        kind = str(owner["kind"])
        out.add((kind, str(owner["name"]), str(owner.get("namespace") or "") if kind == "ServiceAccount" else ""))
    return frozenset(out)


def source_of(body: Mapping[str, Any]) -> Source:
    meta, spec, status = body["metadata"], body.get("spec") or {}, body.get("status") or {}
    phase = status.get("phase") or "Pending"
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    annotations = meta.get("annotations") or {}
    self_service = (annotations.get(ANN_MAX_PER_REQUESTER) or "").isdigit()
    return Source(uid=meta["uid"], name=meta["name"], namespace=spec.get("namespace") or meta["name"],
                  owners=owners_of(spec), state="being deleted" if meta.get("deletionTimestamp") else phase,
                  holds=not (phase == "Failed" and ready.get("reason") in NOT_HELD),
                  self_service_requester=annotations.get(ANN_REQUESTER) if self_service else None)


def _as_owner(user: str) -> OwnerKey:
    """The owner key a user name stands for (a ServiceAccount's is its kind, name and namespace)."""
    if user.startswith("system:serviceaccount:"):
        namespace, _, name = user[len("system:serviceaccount:"):].partition(":")
        return ("ServiceAccount", name, namespace)
    return ("User", user, "")


def listed(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The namespaces a DevNamespace asks ingress from, sorted, without repeats."""
    network = (body.get("spec") or {}).get("network") or {}
    return tuple(sorted({n for n in network.get("allowFromNamespaces") or [] if isinstance(n, str) and n}))


# -- the rule -----------------------------------------------------------------------------------------------------

def judge(me: Source, name: str, holders: Iterable[Source], platform_trusted: bool) -> Judgement:
    """May ``me`` admit ingress from namespace ``name``, held by ``holders`` (the DevNamespaces naming it)?"""
    if name == me.namespace:
        return Judgement(Verdict.OWN)
    holding = sorted((h for h in holders if h.uid != me.uid and h.holds), key=lambda h: h.uid)
    ready = [h for h in holding if h.provisioned]
    if ready:  # one, unless the index lags a moment: then every one must share an owner
        if not all(h.owners & me.owners for h in ready):
            return Judgement(Verdict.NO_SHARED_OWNER)
        foreign = [h.self_service_requester for h in ready
                   if h.self_service_requester and _as_owner(h.self_service_requester) not in me.owners]
        return Judgement(Verdict.NOT_REQUESTED_BY_OWNER, foreign[0]) if foreign else Judgement(Verdict.SHARED_OWNER)
    if holding and (platform_trusted or not all(h.pending for h in holding)):
        return Judgement(Verdict.NOT_PROVISIONED, next((h.state for h in holding if not h.pending), "Pending"))
    if platform_trusted:
        return Judgement(Verdict.PLATFORM)
    return Judgement(Verdict.UNKNOWN)  # (a DevNamespace about to create it counts as "does not exist" yet)


def decide(me: Source, names: Iterable[str], holders_of: Callable[[str], Iterable[Source]],
           platform_trusted: Callable[[str], bool]) -> Decision:
    """The judgement of every name in ``names`` for ``me``."""
    return Decision(tuple((name, judge(me, name, holders_of(name), platform_trusted(name)))
                          for name in sorted(set(names))))


def affected(old: Source | None, new: Source | None, listeners_of: Callable[[str], Iterable[Source]],
             holders_of: Callable[[str], Iterable[Source]], platform_trusted: Callable[[str], bool]) -> list[Source]:
    """A DevNamespace changed from ``old`` to ``new`` (None: absent): the DevNamespaces listing its namespace whose
    judgement of that namespace changes (the ones to re-evaluate). ``holders_of`` may already include ``new``."""
    uid = (new or old).uid
    out: dict[str, Source] = {}
    for name in {s.namespace for s in (old, new) if s is not None}:
        others = [h for h in holders_of(name) if h.uid != uid]
        before = others + [old] if old is not None and old.namespace == name else others
        after = others + [new] if new is not None and new.namespace == name else others
        trusted = platform_trusted(name)
        for listener in listeners_of(name):
            if listener.uid != uid and judge(listener, name, before, trusted) != judge(listener, name, after, trusted):
                out[listener.uid] = listener
    return sorted(out.values(), key=lambda s: s.name)


def event_of(before: Mapping[str, Any] | None, patch: Mapping[str, Any] | None) -> tuple[str, str, str] | None:
    """(type, reason, message) of the Event a status patch calls for: a Warning when the ``SourcesTrusted``
    condition becomes False or its message changes while False, a Normal one when it turns True from False."""
    if not patch or "conditions" not in patch:
        return None

    def find(status: Mapping[str, Any] | None) -> Mapping[str, Any]:
        return next((c for c in (status or {}).get("conditions") or [] if c.get("type") == CONDITION), {})

    new, old = find(patch), find(before)
    if not new or (new.get("status"), new.get("message")) == (old.get("status"), old.get("message")):
        return None
    if new.get("status") == "False":
        return "Warning", new.get("reason", UNTRUSTED), new.get("message", "")
    return ("Normal", new.get("reason", TRUSTED), new.get("message", "")) if old.get("status") == "False" else None
