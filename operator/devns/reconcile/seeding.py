"""Writing a class's seeds (``seeds``) into a namespace: what differs from devns's own children.

- A seed is created with POST, never by an apply over whatever has its name: a tenant's own ConfigMap of that name
  is a ``SeedConflict`` naming it, not taken over. Afterwards it is compared and applied like every child.
- A seed the API server refuses (invalid, over the quota, outside the operator's admission policy) is a
  ``SeedRefused`` problem naming it, with the server's reason: the DevNamespace is Failed until the class changes.
- Secrets devns may not read (``contract.Kind.readable``): a Secret seed is written when its revision (the source's
  resourceVersion, or the manifest's hash) differs from the one ``status.seeds`` records, and deleted by the uid
  recorded there; admission keeps tenants from changing it in between.
- The default ServiceAccount's imagePullSecrets (an amendment): applied when a name is missing, keeping names the
  owners added. The ServiceAccount is Kubernetes's; devns owns that one field.
- ``follow``: a copy source changed; one server-side apply per copy brings a Ready namespace's copies in line (no
  read, no status change). What it cannot do that way (a Secret, whose revision the status records; a DevNamespace
  not Ready) is left to a full reconcile.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

from ..contract import ANN_SEED_ORIGIN, KINDS
from ..desired import Desired
from ..diff import needs_apply
from ..kube import ApiError, Kube
from ..outcome import Outcome, Result
from ..render import SpecProblem
from .context import Context, describe, owned_by, write


def is_seed(obj: Mapping[str, Any]) -> bool:
    return ANN_SEED_ORIGIN in (obj["metadata"].get("annotations") or {})


def refused(obj: Mapping[str, Any], exc: ApiError) -> SpecProblem:
    origin = obj["metadata"]["annotations"][ANN_SEED_ORIGIN]
    return SpecProblem("SeedRefused", f"seed {describe(obj)} ({origin}) was refused by the API server: "
                                      f"{exc.status} {exc.reason}: {exc.message}")


def create_seed(kube: Kube, obj: dict[str, Any]) -> dict[str, Any] | None:
    """POST a seed; the created object (its uid). Raises SpecProblem when its name is taken or it is refused.

    One of that name may be devns's own after all (created by a reconcile of the same DevNamespace running at the
    same time, or just before the operator stopped): a readable one is read and kept if it is owned by this
    DevNamespace; a Secret, which devns may not read, is applied without force, which fails on any field another
    manager set differently (the data of someone else's Secret), so it is taken only if it is the same."""
    try:
        return kube.create(obj)
    except ApiError as exc:
        if exc.status != 409:
            if exc.retriable:
                raise
            raise refused(obj, exc) from exc
    meta, owner = obj["metadata"], obj["metadata"]["ownerReferences"][0]["uid"]
    try:
        if KINDS[obj["kind"]].readable:
            current = kube.get(obj["kind"], meta["name"], meta["namespace"])
            if current is not None and owned_by(current, owner):
                write(kube, obj, current)
                return current
        else:
            return kube.apply(obj, force=False, parse=True)
    except ApiError as exc:
        if exc.status not in (403, 409):
            raise
    raise SpecProblem("SeedConflict", f"seed {describe(obj)} cannot be created in namespace {meta['namespace']}: "
                                      "an object of that name exists and devns does not own it (rename or delete it)")


def write_seed(kube: Kube, obj: dict[str, Any], current: dict[str, Any] | None) -> bool:
    """Create or bring a (readable) seed in line; True if it was written."""
    if current is None:
        create_seed(kube, obj)
        return True
    try:
        return write(kube, obj, current)
    except ApiError as exc:
        if exc.retriable:
            raise
        raise refused(obj, exc) from exc


def write_unread(kube: Kube, ns: str, kind: str, wanted: list[dict[str, Any]], entries: list[dict[str, str]],
                 before: Mapping[tuple[str, str], Mapping[str, str]], fresh: bool) -> tuple[list[str], list[str]]:
    """Seeds of a ``kind`` devns may not read (Secrets) in namespace ``ns``: write those whose revision changed,
    delete those no longer wanted (by the uid recorded). ``entries``: the status entries of every seed (the uids
    are added to them); ``before``: the entries ``status.seeds`` recorded; ``fresh``: the namespace was created a
    moment ago. (applied, removed).

    A Secret created whose uid was never recorded (the operator stopped between the POST and the status write)
    is a conflict afterwards: devns cannot read it to tell it from someone else's."""
    applied, removed = [], []
    by_key = {(e["kind"], e["name"]): e for e in entries}
    for obj in wanted:
        key = (kind, obj["metadata"]["name"])
        entry, uid = by_key[key], (before.get(key) or {}).get("uid")
        if uid and not fresh and before[key].get("revision") == entry["revision"]:
            entry["uid"] = uid
            continue
        if uid and not fresh:
            kube_apply(kube, obj)
            entry["uid"] = uid
        else:
            entry["uid"] = (create_seed(kube, obj) or {}).get("metadata", {}).get("uid", "")
        applied.append(describe(obj))
    for key, old in before.items():
        if key[0] == kind and key not in by_key and old.get("uid") and kube.delete(kind, key[1], ns, uid=old["uid"]):
            removed.append(f"{kind}/{key[1]}")
    return applied, removed


def amend(kube: Kube, want: dict[str, Any]) -> bool:
    """Add the default ServiceAccount's imagePullSecrets that are missing (keeping the owners' own); True if
    written."""
    meta = want["metadata"]
    current = kube.get(want["kind"], meta["name"], meta["namespace"])
    have = [s for s in (current or {}).get("imagePullSecrets") or []]
    names = {s.get("name") for s in have}
    missing = [s for s in want["imagePullSecrets"] if s["name"] not in names]
    if current is not None and not missing:
        return False
    merged = {**want, "imagePullSecrets": [*have, *missing]}
    if current is not None and not needs_apply(merged, current, ""):
        return False
    kube.apply(merged)
    return True


def follow(ctx: Context, body: Mapping[str, Any], sources: Iterable[tuple[str, str]],
           now: dt.datetime) -> Outcome | None:
    """Apply the copies of ``sources`` (kind, name) in the namespace of a Ready DevNamespace ``body`` (identity and
    spec); None when this needs a full reconcile instead (its desired state has a problem, or a copy is a Secret).
    The Outcome is UNCHANGED when none of its copies comes from those sources."""
    desired = ctx.desired.get(body)
    if not isinstance(desired, Desired) or desired.objects is None or desired.expired(now):
        return None
    wants = [w for kind, name in sources if (w := desired.objects.find(kind, name)) is not None and is_seed(w)]
    if any(not KINDS[w["kind"]].readable for w in wants):
        return None
    for want in wants:
        kube_apply(ctx.kube, want)
    applied = [describe(w) for w in wants]
    return Outcome(Result.UPDATED if applied else Result.UNCHANGED, "Ready", "SeedSourceChanged",
                   f"copies follow their source: {', '.join(applied)}", applied=applied,
                   namespace=desired.namespace)


def kube_apply(kube: Kube, want: dict[str, Any]) -> None:
    """Server-side apply a seed devns made; a refusal names it (SeedRefused)."""
    try:
        kube.apply(want)
    except ApiError as exc:
        if exc.retriable or exc.status == 404:  # 404: the namespace is going
            raise
        raise refused(want, exc) from exc
