"""Drift repair: a managed object changed or went away; put it back if it no longer matches its DevNamespace.

``drifted`` is pure and cheap (the desired state comes from the context's cache, one render per DevNamespace
version), so the handlers run it on the event loop for every watch event of every managed object; only
``repair``, which calls the API, runs in a worker thread. A namespace's desired state carries the proof for the
namespace as it is (``Desired.namespace_for`` its uid), so the proof is never taken for a field to remove.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Mapping

from ..contract import FIELD_MANAGER
from ..desired import Desired
from ..diff import Change, change_needed
from ..kube import ApiError
from ..outcome import Outcome, Result
from .context import Context, is_ours, owned_by, write

log = logging.getLogger(__name__)


def guarded(ctx: Context, body: Mapping[str, Any], now: dt.datetime,
            trusted_sources: tuple[str, ...] | None = None) -> Desired | None:
    """The desired state of a live, valid, provisionable, unexpired DevNamespace, or None (nothing to guard).
    ``trusted_sources``: the sources of ingress devns trusts now (``trust``), as provisioning renders them."""
    if body["metadata"].get("deletionTimestamp"):
        return None
    desired = ctx.desired.get(body, trusted_sources)
    if not isinstance(desired, Desired) or desired.objects is None or desired.expired(now):
        return None
    return desired


def drifted(ctx: Context, body: Mapping[str, Any], kind: str, name: str, event_type: str | None,
            actual: Mapping[str, Any] | None, now: dt.datetime,
            trusted_sources: tuple[str, ...] | None = None) -> dict[str, Any] | None:
    """The desired object a watch event's ``actual`` has drifted from, or None when it is in order or not
    devns's to guard. A DELETED event always returns the desired object; ``repair`` then looks at what is there."""
    desired = guarded(ctx, body, now, trusted_sources)
    want = desired.objects.find(kind, name) if desired else None
    if want is None or event_type == "DELETED":
        return want
    want = _signed(ctx, desired, want, actual)
    return want if _needs_repair(desired, want, actual, ctx.key) else None


def _signed(ctx: Context, desired: Desired, want: dict[str, Any], current: Mapping[str, Any] | None) -> dict:
    """``want`` with the proof for ``current`` when it is a namespace that exists (and devns has its key)."""
    if want["kind"] != "Namespace" or current is None or ctx.key is None:
        return want
    return desired.namespace_for(current["metadata"]["uid"], ctx.key)


def _needs_repair(desired: Desired, want: dict[str, Any], current: Mapping[str, Any] | None,
                  key: bytes | None) -> bool:
    """``current`` differs from ``want``; a namespace is never re-created, nor touched unless it is ours."""
    if want["kind"] == "Namespace" and (current is None or not is_ours(current, desired.ref, key)
                                        or current["metadata"].get("deletionTimestamp")):
        return False
    return change_needed(want, current, FIELD_MANAGER) is not Change.NONE


def repair(ctx: Context, body: Mapping[str, Any], want: dict[str, Any], event_type: str | None,
           actual: dict[str, Any] | None, now: dt.datetime,
           trusted_sources: tuple[str, ...] | None = None) -> Outcome | None:
    """Restore ``want`` (from ``drifted``) over ``actual`` (the object the event carried). A DELETED event may also
    mean "no longer matches our label selector", so then the object is read first: re-created if gone, restored
    if changed, left alone if in order."""
    kind, name, scope = want["kind"], want["metadata"]["name"], want["metadata"].get("namespace")
    desired = guarded(ctx, body, now, trusted_sources)
    if desired is None:
        return None
    current = actual
    try:
        if event_type == "DELETED":
            current = ctx.kube.get(kind, name, scope)
            if current is not None and kind != "Namespace" and not owned_by(current, desired.ref):
                log.info(f"repair of {kind}/{name} skipped: an object of that name is there, not devns's")
                return None
            want = _signed(ctx, desired, want, current)
            if not _needs_repair(desired, want, current, ctx.key):
                return None
        write(ctx.kube, want, current)
    except ApiError as exc:
        if exc.status in (403, 404, 409):  # namespace terminating or gone, or a concurrent reconcile won
            log.info(f"repair of {kind}/{name} skipped: {exc}")
            return None
        raise
    what = "re-created" if current is None else "restored"
    return Outcome(Result.REPAIRED, "Ready", "DriftRepaired", f"{what} {kind}/{name} to its declared state",
                   applied=[f"{kind}/{name}"], namespace=desired.namespace)
