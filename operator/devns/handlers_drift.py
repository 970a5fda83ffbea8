"""Drift and orphans: every managed object (the kinds devns creates, and those classes may seed) is watched
outside Kopf (``watches``: one thread per kind), and each event comes here, on the event loop, only while this
replica is active (``memo.acting``, set by ``handlers_lifecycle`` while the scheduler runs: with peering, a
standby acts on nothing). An object that no longer matches its DevNamespace's desired state (from the indexes, no
reads) is repaired at once; a managed namespace or cluster-view binding whose DevNamespace is not in the indexes
is an orphan candidate (``orphan``). Events of one object are handled one at a time, the latest one next.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Mapping

import kopf

from . import gc, handlers_network, metrics, reconcile
from .contract import MANAGED_SELECTOR
from .handlers import record, utcnow
from .watches import KindWatch

log = logging.getLogger("devns")


def owner_uid(kind: str, obj: Mapping[str, Any]) -> str | None:
    if kind == "Namespace":
        return gc.claimed_uid(obj) or None
    return next((o.get("uid") for o in obj["metadata"].get("ownerReferences") or []
                 if o.get("kind") == "DevNamespace"), None)


async def guard(event: dict[str, Any], memo: kopf.Memo, logger: logging.Logger, param: str) -> None:
    """A managed object changed or went away: put it back if it no longer matches its DevNamespace. A managed
    namespace or cluster-view binding whose DevNamespace is not known is an orphan candidate (see ``orphan``).

    Async: the comparison is pure and runs on the event loop (about 10 events per new DevNamespace, nearly all
    in order); only a repair or an orphan check, which call the API, go to a worker thread."""
    obj = event["object"]
    uid = owner_uid(param, obj)
    owners = list(memo.indexes.devnamespaces_by_uid.get(uid, [])) if uid else []
    if param in ORPHAN_CHECKS and not owners and event.get("type") != "DELETED":
        await asyncio.to_thread(orphan, param, obj, memo, logger)  # (each event's object is its own)
        return
    if event.get("type") is None:  # a listing: on.resume reconciles every DevNamespace anyway
        return
    if not owners or (param == "Namespace" and event["type"] == "ADDED"):  # creation is reconcile's job
        return
    owner, started = owners[0], time.monotonic()
    trusted = handlers_network.trusted_sources(memo.ctx, owner, memo.indexes.devnamespace_sources)  # as provisioned
    want = reconcile.drifted(memo.ctx, owner, param, obj["metadata"]["name"], event["type"], obj, utcnow(), trusted)
    if want is None:
        return
    actual = None if event["type"] == "DELETED" else obj
    outcome = await asyncio.to_thread(reconcile.repair, memo.ctx, owner, want, event["type"], actual, utcnow(),
                                      trusted)
    if outcome is not None:
        record(memo, owner, outcome, time.monotonic() - started, logger, "repair")


def orphan(kind: str, body: dict[str, Any], memo: kopf.Memo, logger: logging.Logger) -> None:
    """Collect a namespace or cluster-view binding devns created whose DevNamespace is gone (see
    ``reconcile.orphans``).

    Triggered by the watches: their initial listing after a start (DevNamespaces deleted while the operator was
    down), a new look-alike, and the update the garbage collector makes when it strips the ownerReference of a
    DevNamespace deleted with --cascade=orphan. The indexes (``informer``) are complete before handlers run, and the
    DevNamespace is read again before anything is deleted.
    """
    outcome = ORPHAN_CHECKS[kind](memo.ctx, body, utcnow())
    if outcome is not None:
        metrics.record(outcome, None, 0.0)
        logger.warning(f"orphan check: {outcome.message}")


#: Guarded kinds whose objects can outlive their DevNamespace outside its namespace, and their orphan check.
ORPHAN_CHECKS = {"Namespace": reconcile.collect_orphan, "ClusterRoleBinding": reconcile.collect_orphan_binding}


class Guard:
    """Hands watch events (from any thread) to ``guard`` on the event loop, one at a time per object."""

    def __init__(self, memo: kopf.Memo):
        self.memo = memo
        self.loop: asyncio.AbstractEventLoop | None = None
        self.watches: dict[str, KindWatch] = {}
        self._next: dict[tuple[str, str, str], dict[str, Any] | None] = {}  # object -> the event after this one

    def activate(self, kinds: tuple[str, ...]) -> None:
        """On the event loop, when this replica becomes active: the first time, a watch thread per kind (their
        listing brings the orphan candidates); after a pause, every managed namespace and binding is looked at
        for orphans again. (A standby runs no watch: it would act on nothing.)"""
        if self.watches:
            for kind in ORPHAN_CHECKS:
                if kind in self.watches:
                    self.watches[kind].relist()
            return
        self.loop = asyncio.get_running_loop()
        for kind in kinds:
            self.watches[kind] = KindWatch(self.memo.ctx.kube, kind, self.deliver,
                                           lambda items, _, kind=kind: self.listed(kind, items),
                                           selector=MANAGED_SELECTOR)
            self.watches[kind].start()

    def listed(self, kind: str, items: list[dict[str, Any]]) -> None:
        """From a watch thread: a listed object is news only as an orphan candidate (a start resumes every
        DevNamespace anyway)."""
        if kind not in ORPHAN_CHECKS:
            return
        for obj in items:
            uid = owner_uid(kind, obj)
            if not (uid and uid in self.memo.indexes.devnamespaces_by_uid):
                self.deliver(kind, None, obj)

    def deliver(self, kind: str, type_: str | None, obj: dict[str, Any]) -> None:
        """From a watch thread."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._dispatch, {"type": type_, "object": obj}, kind)

    def _dispatch(self, event: dict[str, Any], kind: str) -> None:
        if not self.memo.acting.is_set():
            return  # a standby (or a replica pausing) acts on nothing
        meta = event["object"]["metadata"]
        key = (kind, meta.get("namespace") or "", meta["name"])
        if key in self._next:
            self._next[key] = event  # being handled: this one next (the latest wins)
            return
        self._next[key] = None
        asyncio.ensure_future(self._handle(key, event, kind))

    async def _handle(self, key: tuple[str, str, str], event: dict[str, Any], kind: str) -> None:
        while event is not None:
            try:
                await guard(event, self.memo, log, kind)
            except Exception as exc:  # noqa: BLE001 - one object's trouble must not stop the others
                log.warning(f"drift check of {kind} {'/'.join(key[1:])} failed: {exc}")
            event = self._next.pop(key, None)
            if event is not None:
                self._next[key] = None

