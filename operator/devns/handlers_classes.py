"""Kopf wiring of DevNamespaceClasses (``classes``): knowing them, re-rendering their DevNamespaces when one
changes, counting their use, and keeping a class while DevNamespaces use it.

- ``load`` reads every class before Kopf starts, into the registry of the desired-state cache
  (``DesiredCache.classes``), so a restart renders each DevNamespace with its class and writes nothing;
  ``class_seen`` keeps it current from the watch.
- ``class_changed`` (create/update/resume): the DevNamespaces of the class, and, when the default class changes,
  those naming none, are reconciled again at once, a few at a time: each is read, compared and patched where it
  differs (a quota change is one write per namespace, no annotation to wake Kopf). ``status.observedGeneration``
  of the class says when that is done.
- ``class_deleted``: a class in use keeps devns's finalizer (as a PersistentVolumeClaim in use is kept): its
  DevNamespaces stay as they are and their condition says the class is being deleted; it goes once none uses it.
- ``count``: a timer that writes the class's counts (DevNamespaces, Ready) only when they changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Mapping

import kopf

from . import handlers_lifecycle, metrics
from .classes import ClassRef
from .contract import ANN_DEFAULT_CLASS, CLASS_KIND, CLASS_PLURAL, GROUP, VERSION
from .informer import Index
from .kube import ApiError

CLASS_RESOURCE = (GROUP, VERSION, CLASS_PLURAL)
#: DevNamespaces re-rendered at once after a class change.
FAN_OUT = 8
#: Seconds between two looks at a class's counts (an index read, no API call; a write only on a change).
COUNT_INTERVAL = 2.0
log = logging.getLogger("devns")


def remember(ctx: Any, obj: dict[str, Any], logger: logging.Logger) -> ClassRef | None:
    """Put a class into the desired-state cache's registry; an invalid one is logged and left out."""
    try:
        ref = ClassRef.of(obj)
    except ValueError as exc:  # admission checks the same rules: only a class from an older CRD gets here
        logger.error(f"DevNamespaceClass {obj['metadata']['name']} is invalid, ignored: {exc}")
        return None
    ctx.desired.classes.put(ref)
    return ref


def load(ctx: Any, logger: logging.Logger) -> int:
    """Every class, read once before Kopf starts, so the first DevNamespace handled (a restart resumes them all)
    is rendered with its class. Not a Kopf index on purpose: an index blocks every handler of the operator until
    its resource is listed again whenever Kopf re-creates that watch."""
    try:
        found = ctx.kube.list(CLASS_KIND)
    except ApiError as exc:
        if exc.status != 404:
            raise
        logger.warning("the DevNamespaceClass CRD is not installed: no classes (apply crds/)")
        return 0
    return sum(remember(ctx, obj, logger) is not None for obj in found)


@kopf.on.event(*CLASS_RESOURCE, id="classes")
def class_seen(event: dict[str, Any], memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Keep the registry current: every class event, the watch's initial listing included."""
    obj = event["object"]
    if event.get("type") == "DELETED":
        memo.ctx.desired.classes.remove(obj["metadata"]["name"])
    else:
        remember(memo.ctx, obj, logger)


def devnamespace_class_use(body: Mapping[str, Any]) -> dict[str, tuple[str | None, str | None]]:
    """uid -> (the class that applied, as its status says; the phase): an index of the ``informer``, whose
    changes bump ``Recount``."""
    status = body.get("status") or {}
    return {body["metadata"]["uid"]: (status.get("class"), status.get("phase"))}


class Recount:
    """Whether any DevNamespace changed since a class was last counted: the count timer skips its scan of every
    DevNamespace when nothing did (idle costs no CPU to speak of)."""

    def __init__(self) -> None:
        self.version = 0
        self._counted: dict[str, int] = {}

    def changed(self) -> None:
        self.version += 1

    def due(self, name: str) -> bool:
        return self._counted.get(name) != self.version

    def done(self, name: str, version: int) -> None:
        self._counted[name] = version


def users(name: str, index: Index) -> list[str]:
    """The uids of DevNamespaces whose status names class ``name``."""
    return [uid for uid in index for cls, _ in index[uid] if cls == name]


def affected(name: str, defaults: bool, by_uid: Index) -> list[dict[str, Any]]:
    """The DevNamespaces (index entries) that name class ``name``, and with ``defaults`` (it is, or was until
    now, the default class) those that name none."""
    return [dn for uid in by_uid for dn in by_uid[uid]
            if (dn.get("spec") or {}).get("class") == name or (defaults and not (dn.get("spec") or {}).get("class"))]


def is_default(obj: Any) -> bool:
    return ((obj or {}).get("metadata", {}).get("annotations") or {}).get(ANN_DEFAULT_CLASS) == "true"


async def fan_out(memo: kopf.Memo, logger: logging.Logger, name: str, targets: list[dict[str, Any]]) -> None:
    """Reconcile ``targets`` again, ``FAN_OUT`` at a time; a temporary error (Kopf retries) if any failed."""
    started, limit = time.monotonic(), asyncio.Semaphore(FAN_OUT)

    async def one(dn: dict[str, Any]) -> bool:
        async with limit:
            return await asyncio.to_thread(rerender, memo, dn["metadata"]["name"])
    failed = (await asyncio.gather(*(one(dn) for dn in targets))).count(False)
    logger.info(f"class {name}: {len(targets) - failed}/{len(targets)} DevNamespaces re-rendered in "
                f"{time.monotonic() - started:.1f} s")
    if failed:
        raise kopf.TemporaryError(f"{failed} DevNamespaces of class {name} could not be re-rendered yet", delay=10)


@kopf.on.resume(*CLASS_RESOURCE)
@kopf.on.create(*CLASS_RESOURCE)
@kopf.on.update(*CLASS_RESOURCE)
async def class_changed(body: kopf.Body, old: Any, new: Any, reason: str, memo: kopf.Memo, logger: logging.Logger,
                        **_: Any) -> None:
    """Reconcile the class's DevNamespaces again (not on resume: on.resume of each DevNamespace does that), then
    record the generation they have."""
    name, generation = body["metadata"]["name"], body["metadata"].get("generation")
    remember(memo.ctx, dict(body), logger)  # before re-rendering, whichever handler of this event ran first
    if str(reason) != "resume":
        targets = affected(name, is_default(old) or is_default(new), memo.indexes.devnamespaces_by_uid)
        await fan_out(memo, logger, name, targets)
    if (body.get("status") or {}).get("observedGeneration") != generation:
        await asyncio.to_thread(memo.ctx.kube.patch_status, CLASS_KIND, name, {"observedGeneration": generation})


def rerender(memo: kopf.Memo, name: str) -> bool:
    """Reconcile one DevNamespace now for its class (``handlers_lifecycle.reconcile_again``), counted."""
    ok = handlers_lifecycle.reconcile_again(memo, name, "class change")
    metrics.CLASS_RERENDERS.labels("ok" if ok else "failed").inc()
    return ok


@kopf.on.delete(*CLASS_RESOURCE)
async def class_deleted(body: kopf.Body, memo: kopf.Memo, logger: logging.Logger, retry: int, **_: Any) -> None:
    """Hold the class while DevNamespaces use it. Its DevNamespaces are told (their Ready message); if it was the
    default class, those naming none move to the next default class, or to none. Later retries re-render only
    DevNamespaces naming no class that still use it (a failed first attempt), so holding the class costs nothing."""
    name, ix = body["metadata"]["name"], memo.indexes
    targets = affected(name, is_default(body), ix.devnamespaces_by_uid)
    if retry:
        still = set(users(name, ix.devnamespace_class_use))
        targets = [dn for dn in targets if dn["metadata"]["uid"] in still and not dn["spec"].get("class")]
    if targets:
        await fan_out(memo, logger, name, targets)
    using = users(name, ix.devnamespace_class_use)
    if using:
        raise kopf.TemporaryError(f"{len(using)} DevNamespaces still use this class; it is deleted when none does "
                                  "(set their spec.class to another class, or delete them)", delay=10)


@kopf.timer(*CLASS_RESOURCE, interval=COUNT_INTERVAL, id="count")
def count(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """status.devNamespaces and status.ready, written only when they changed (and counted only when a
    DevNamespace changed since the last count)."""
    name, version = body["metadata"]["name"], memo.class_counts.version
    if not memo.class_counts.due(name):
        return
    use = memo.indexes.devnamespace_class_use
    phases = [phase for uid in use for cls, phase in use[uid] if cls == name]
    counts = {"devNamespaces": len(phases), "ready": sum(p in ("Ready", "Expiring") for p in phases)}
    status = body.get("status") or {}
    if any(status.get(k) != v for k, v in counts.items()):
        memo.ctx.kube.patch_status(CLASS_KIND, name, counts)
    memo.class_counts.done(name, version)
