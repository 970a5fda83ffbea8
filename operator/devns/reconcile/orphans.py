"""Orphan collection: a namespace labelled as devns's whose DevNamespace is not known.

Deleted only when devns provably created it (``gc.judge``: the proof verifies) and its DevNamespace is really
gone (read again here, not taken from memory). A look-alike without a valid proof is reported once with an Event
in it and left alone; in dry-run, the would-be deletion is reported once the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from .. import gc
from ..kube import Kube
from ..outcome import Outcome, Result
from .context import Context, namespace_event


def collect_orphan(ctx: Context, namespace: Mapping[str, Any], now: dt.datetime) -> Outcome | None:
    """Collect or report ``namespace``; None when there is nothing to do or say."""
    kube, settings = ctx.kube, ctx.settings
    verdict = gc.judge(namespace, ctx.key, settings.is_reserved)
    if verdict is None:
        return None
    ns = verdict.namespace
    if not verdict.orphan:
        message = (f"namespace {ns} is labelled as managed by devns but carries no valid devns proof; "
                   "devns leaves it alone")
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
