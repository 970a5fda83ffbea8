"""Kopf wiring of seeds (``seeds``): the copy sources, known before Kopf starts and followed from then on, and a
change at a source reaching every copy.

- ``load`` lists the ConfigMaps and Secrets of the seed source namespace (``DEVNS_SEED_SOURCE_NAMESPACE``) into
  the desired-state cache's ``SourceRegistry`` before Kopf starts, so a restart renders every copy as it is and
  writes nothing.
- ``SourceWatch``: one thread per kind watches that one namespace (Kopf watches the whole cluster; the operator
  may read Secrets only there) and updates the registry; every change bumps ``SourceChanges``. Reading only: it
  runs in a standby replica too, which then has current sources when it takes over.
- ``follow_sources``: a Kopf daemon per DevNamespaceClass (so only the active replica acts, and it stops with the
  class) wakes on a change; when a source its seeds copy changed, each Ready DevNamespace of the class gets its
  copies applied, one write each, all at once (``reconcile.follow``); the others, and copies of Secrets (whose
  new revision goes into the status), are reconciled again (``handlers_classes.fan_out``). A source deleted makes
  them Failed (SeedSourceMissing, nothing removed); created again, they are Ready again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import kopf

from . import metrics, reconcile
from .handlers import sleep_until, utcnow
from .handlers_classes import CLASS_RESOURCE, fan_out
from .kube import ApiError
from .render import SpecProblem
from .seeds import COPIED_FIELDS, Source, sources_of

log = logging.getLogger("devns")


class SourceChanges:
    """Which sources changed, numbered: a class's daemon asks what changed since it last looked. Bumped from the
    watch threads; waited on by coroutines."""

    def __init__(self) -> None:
        self.version = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._event = asyncio.Event()
        self._last: dict[tuple[str, str], int] = {}  # source -> the version that last changed it

    def bump(self, keys: list[tuple[str, str]]) -> None:
        """From any thread: these sources changed (appeared, changed or went)."""
        if keys and self.loop is not None:
            self.loop.call_soon_threadsafe(self._bump, keys)

    def _bump(self, keys: list[tuple[str, str]]) -> None:
        self.version += 1
        self._last.update((k, self.version) for k in keys)
        event, self._event = self._event, asyncio.Event()
        event.set()

    def since(self, version: int) -> set[tuple[str, str]]:
        """The sources that changed after ``version``."""
        return {k for k, v in self._last.items() if v > version}

    async def wait(self, since: int, stopped: Any) -> None:
        """Until the version is past ``since`` or the daemon is stopped."""
        if self.version == since:
            await sleep_until(stopped, self._event, None)


def list_sources(ctx: Any, kind: str) -> tuple[list[Source], str]:
    """The sources of ``kind`` and the listing's resourceVersion (where a watch starts)."""
    found = ctx.kube.request("GET", ctx.kube.path(kind, namespace=ctx.desired.sources.namespace))
    return [Source.of(kind, obj) for obj in found["items"]], found["metadata"].get("resourceVersion", "")


def load(ctx: Any, logger: logging.Logger) -> dict[str, str]:
    """Every source, read once before Kopf starts; kind -> the resourceVersion its watch starts from."""
    versions = {}
    for kind in COPIED_FIELDS:
        try:
            sources, versions[kind] = list_sources(ctx, kind)
        except ApiError as exc:
            logger.warning(f"cannot read {kind}s of the seed source namespace {ctx.desired.sources.namespace} "
                           f"(copies of them will wait): {exc}")
            continue
        ctx.desired.sources.replace_kind(kind, sources)
    return versions


class SourceWatch(threading.Thread):
    """Follows one kind of source in the seed source namespace: list, then watch from there, again after any
    failure (a 410 Gone, a dropped connection, a refusal), each time a second or more later."""

    def __init__(self, ctx: Any, kind: str, version: str | None, changes: SourceChanges) -> None:
        super().__init__(name=f"devns-seed-sources-{kind}", daemon=True)
        self.ctx, self.kind, self.version, self.changes = ctx, kind, version, changes

    def run(self) -> None:
        backoff = 1.0
        while True:
            try:
                if not self.version:
                    sources, self.version = list_sources(self.ctx, self.kind)
                    self.changes.bump(self._replace(sources))
                self._watch()
                backoff = 1.0
            except Exception as exc:  # noqa: BLE001: the thread must outlive any failure
                log.warning(f"watching seed sources ({self.kind}) failed, again in {backoff:.0f} s: {exc}")
                self.version = None
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    def _replace(self, sources: list[Source]) -> list[tuple[str, str]]:
        """Put a fresh listing in; the sources it changed (after a watch failed, events may have been missed)."""
        registry = self.ctx.desired.sources
        before = {k: v for k, v in registry.snapshot().items() if k[0] == self.kind}
        registry.replace_kind(self.kind, sources)
        after = {k: v for k, v in registry.snapshot().items() if k[0] == self.kind}
        return [k for k in before.keys() | after.keys() if before.get(k) != after.get(k)]

    def _watch(self) -> None:
        """One watch request (up to 5 minutes); keeps ``self.version`` at the last event seen."""
        from kubernetes import client, watch

        registry = self.ctx.desired.sources
        lister = getattr(client.CoreV1Api(self.ctx.kube.api),
                         "list_namespaced_config_map" if self.kind == "ConfigMap" else "list_namespaced_secret")
        for event in watch.Watch().stream(lister, registry.namespace, resource_version=self.version,
                                          allow_watch_bookmarks=True, timeout_seconds=300):
            obj = event["raw_object"]
            if event["type"] == "ERROR":
                raise RuntimeError(f"watch ended: {obj.get('message', obj)}")
            self.version = obj["metadata"].get("resourceVersion", self.version)
            if event["type"] == "DELETED":
                registry.remove(self.kind, obj["metadata"]["name"])
            elif event["type"] in ("ADDED", "MODIFIED"):
                registry.put(Source.of(self.kind, obj))
            else:
                continue
            self.changes.bump([(self.kind, obj["metadata"]["name"])])


@kopf.on.startup()
async def watch_sources(memo: kopf.Memo, **_: Any) -> None:
    """Start the watches, from the versions ``load`` listed (``memo.seed_versions``), once the event loop runs."""
    memo.seed_changes.loop = asyncio.get_running_loop()
    for kind in COPIED_FIELDS:
        SourceWatch(memo.ctx, kind, memo.seed_versions.get(kind), memo.seed_changes).start()


@kopf.daemon(*CLASS_RESOURCE, id="seed-sources", cancellation_timeout=5.0)
async def follow_sources(body: kopf.Body, memo: kopf.Memo, logger: logging.Logger, stopped: Any,
                         **_: Any) -> None:
    """When a source the class's seeds copy changes: apply the copies in its Ready DevNamespaces, reconcile the
    others (and those whose copies cannot be applied alone) again."""
    name, ctx, changes = body["metadata"]["name"], memo.ctx, memo.seed_changes
    since = changes.version
    while not stopped:
        await changes.wait(since, stopped)
        changed_keys, since = changes.since(since), changes.version
        cls = ctx.desired.classes.snapshot().get(name)
        changed = sorted(f"{k[0]} {k[1]}" for k in set(sources_of(cls.spec.seed) if cls else ()) & changed_keys)
        if not changed:
            continue
        ix = memo.indexes
        use = ix.devnamespace_class_use
        targets = [(dn, phase) for uid in use for cls_name, phase in use[uid]
                   if cls_name == name for dn in ix.devnamespaces_by_uid.get(uid, [])]
        ready = [dn for dn, phase in targets if phase in ("Ready", "Expiring")]
        rest = [dn for dn, phase in targets if phase not in ("Ready", "Expiring")]
        started, keys = time.monotonic(), list(changed_keys)
        done = await asyncio.gather(*(asyncio.to_thread(follow_one, memo, dn, keys, logger) for dn in ready))
        rest += [dn for dn, ok in zip(ready, done) if not ok]
        logger.info(f"class {name}: seed source {', '.join(changed)} changed: copies applied in {sum(done)} "
                    f"DevNamespaces in {time.monotonic() - started:.1f} s; {len(rest)} to reconcile")
        if rest:
            try:
                await fan_out(memo, logger, name, rest)
            except kopf.TemporaryError as exc:
                logger.warning(f"{exc}: the next reconcile of each catches up")


def follow_one(memo: kopf.Memo, dn: dict[str, Any], keys: list[tuple[str, str]], logger: logging.Logger) -> bool:
    """Apply one Ready DevNamespace's copies of ``keys``; False when it needs a full reconcile instead."""
    started = time.monotonic()
    try:
        outcome = reconcile.follow(memo.ctx, dn, keys, utcnow())
    except (ApiError, SpecProblem) as exc:
        logger.info(f"copies of devnamespace/{dn['metadata']['name']} not applied ({exc}); reconciling it")
        return False
    if outcome is not None and outcome.applied:
        metrics.record(outcome, dn["metadata"]["uid"], time.monotonic() - started)
    return outcome is not None
