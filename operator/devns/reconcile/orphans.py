"""Orphan collection: a namespace, or a cluster-scoped child, labelled as devns's whose DevNamespace is not known.

A namespace is deleted only when devns provably created it (``gc.judge``: a v2 proof bound to that very namespace's
uid verifies) and its DevNamespace is really gone (read again here, not taken from memory). Anything else is a
look-alike, reported once with an Event in it and left alone: a copy restored from a backup or re-applied by GitOps
(its copied proof names another uid), one dressed up by hand, and also a namespace with a proof in the format before
v2, which is not bound to the namespace and so cannot be told from a copy (its owner deletes it by hand). Without a
signing key (``Context.key_problem``) nothing can be proved: nothing is judged. In dry-run, the would-be deletion
is reported once the same way.

A ClusterRoleBinding devns made for ``clusterView`` outlives its DevNamespace when that is deleted with
``--cascade=orphan`` (the garbage collector strips its ownerReference) and would keep granting cluster read: it is
deleted when it is exactly what devns creates (its name, labels and role) and its DevNamespace is gone. Only devns
and cluster admins may create objects with devns's labels (the guardrail policy), so the labels can be trusted
here; the name and role must match too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from .. import gc
from ..kube import Kube
from ..outcome import Outcome, Result
from .context import Context, is_cluster_view_binding, namespace_event


#: What a look-alike's report adds, by the grade of its proof.
LOOKALIKE_DETAILS = {
    gc.Proof.INVALID: " for it (a proof is bound to the namespace devns created: a copy restored from a backup or "
                      "dressed up by hand does not verify)",
    gc.Proof.LEGACY: " bound to it (its proof is in the format before v2, which a copy would carry too; if it is "
                     "an orphan of yours, delete it by hand)",
}


def collect_orphan(ctx: Context, namespace: Mapping[str, Any], now: dt.datetime) -> Outcome | None:
    """Collect or report ``namespace``; None when there is nothing to do or say."""
    kube, settings = ctx.kube, ctx.settings
    if ctx.key is None:
        return None
    verdict = gc.judge(namespace, ctx.key, settings.is_reserved)
    if verdict is None:
        return None
    ns = verdict.namespace
    if not verdict.orphan:
        message = f"namespace {ns} is labelled as managed by devns but carries no valid devns proof"
        message += LOOKALIKE_DETAILS.get(verdict.proof, "") + "; devns leaves it alone"
        if not _report_once(ctx, verdict.uid, ns, "NotManagedByDevns", message, now):
            return None
        return Outcome(Result.LOOKALIKE, "", "NotManagedByDevns", message, namespace=ns)
    name, _, uid = verdict.claimed_by.partition("/")
    owner = kube.get("DevNamespace", name)
    if owner is not None and owner["metadata"]["uid"] == uid:
        return None  # our in-memory view lagged: not an orphan
    if settings.dry_run:
        message = f"dry-run: would delete orphaned namespace {ns} (its DevNamespace {name} is gone)"
        if not _report_once(ctx, verdict.uid, ns, "WouldDeleteOrphan", message, now):
            return None
        return Outcome(Result.WOULD_DELETE_ORPHAN, "", "DryRun", message, namespace=ns)
    if not kube.delete("Namespace", ns, uid=verdict.uid):
        return None
    return Outcome(Result.ORPHAN_DELETED, "", "OrphanDeleted",
                   f"deleted orphaned namespace {ns}: its DevNamespace {name} is gone", namespace=ns)


def collect_orphan_binding(ctx: Context, binding: Mapping[str, Any], now: dt.datetime) -> Outcome | None:
    """Delete a cluster-view ClusterRoleBinding whose DevNamespace is gone; None when it is not one."""
    meta = binding.get("metadata", {})
    name = is_cluster_view_binding(binding, ctx.settings)
    if name is None or meta.get("deletionTimestamp"):
        return None
    owner = ctx.kube.get("DevNamespace", name)
    claimed = {o.get("uid") for o in meta.get("ownerReferences") or [] if o.get("kind") == "DevNamespace"}
    if owner is not None and (not claimed or owner["metadata"]["uid"] in claimed):
        return None  # our in-memory view lagged, or its DevNamespace is back under the same name: not an orphan
    binding_name = meta["name"]
    if ctx.settings.dry_run:
        return Outcome(Result.WOULD_DELETE_ORPHAN, "", "DryRun", f"dry-run: would delete ClusterRoleBinding "
                       f"{binding_name} (its DevNamespace {name} is gone)")
    if not ctx.kube.delete("ClusterRoleBinding", binding_name, uid=meta["uid"]):
        return None
    return Outcome(Result.ORPHAN_DELETED, "", "OrphanDeleted", f"deleted ClusterRoleBinding {binding_name}: its "
                   f"DevNamespace {name} is gone", removed=[f"ClusterRoleBinding/{binding_name}"])


def _report_once(ctx: Context, uid: str, ns: str, reason: str, message: str, now: dt.datetime) -> bool:
    """Post the Event unless this namespace was reported before (in memory, or an Event still there after a
    restart); True when it was posted now."""
    if uid in ctx.reported or _reported_before(ctx.kube, ns, reason):
        ctx.reported.add(uid)
        return False
    ctx.reported.add(uid)
    namespace_event(ctx.kube, ns, reason, message, now)
    return True


def _reported_before(kube: Kube, ns: str, reason: str) -> bool:
    return bool(kube.list("Event", namespace=ns, fields=f"involvedObject.name={ns},reason={reason}"))
