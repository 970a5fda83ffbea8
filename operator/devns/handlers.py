"""Kopf wiring: thin handlers that call ``reconcile`` and turn its Outcome into Events, metrics, logs and retries.

Nothing here decides what the cluster should look like (that is ``render``/``expiry``) or talks to the API directly
(that is ``reconcile`` through ``kube``). Settings, the API client and the signing key are built once by the CLI
and live in Kopf's ``memo`` as ``memo.ctx``.

Drift: every managed child kind (and managed namespaces) is watched with a server-side label selector; an event
whose object no longer matches its DevNamespace's desired state (computed from an in-memory index, no reads) is
repaired at once. Orphans: the same namespace watch finds a managed namespace whose DevNamespace is not in the
index and collects it
(proof required). Both are Kopf event handlers (no finalizer on anything but DevNamespaces), so with peering only
the active replica acts.

Expiry runs as one Kopf daemon per DevNamespace that sleeps until its next deadline (a warning, the expiry, the
end of retention) and is woken early when the spec changes. Compared with a polling timer it makes no API calls
and uses no CPU while nothing is due, and acts at the deadline instead of up to one interval late.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import logging
import time
from typing import Any, Mapping

import kopf

from . import gc, metrics, reconcile
from .models import GROUP, PLURAL, VERSION
from .reconcile import Context, Outcome
from .render import MANAGED_BY, MANAGER

RESOURCE = (GROUP, VERSION, PLURAL)
FINALIZER = "devns.io/finalizer"
log = logging.getLogger("devns")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def snapshot(body: kopf.Body) -> dict[str, Any]:
    """A private copy of a (live) Kopf body, safe to hand to a worker thread."""
    return copy.deepcopy(dict(body))


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Tune Kopf from our settings (watch selectors, timeouts, storage prefixes) and start /metrics."""
    ctx: Context = memo.ctx
    config = ctx.settings
    # Kopf's bookkeeping (the last handled spec, retry progress) lives in status.kopf: the handlers' own status
    # goes into the same patch, so a reconcile costs one status write, not a status and an annotations write.
    # The finalizer is added at creation by the devns-finalizer MutatingAdmissionPolicy where it is installed
    # (one write less per new DevNamespace); Kopf adds it itself where it is not.
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.StatusProgressStorage()
    settings.persistence.diffbase_storage = kopf.StatusDiffBaseStorage()
    # Sync handlers run in this pool: one thread per concurrently reconciled object. Kopf's per-object queue
    # workers stay unlimited: a limit there is shared by every watched resource, and workers of child objects
    # waiting for the DevNamespace index to fill could take every slot the index itself needs (a deadlock seen
    # with ~800 children after a restart).
    settings.execution.max_workers = config.worker_limit
    # A watch that silently died is noticed: the server ends watches after ~5 min, the client gives up after
    # 6 min of nothing, and connecting may take 10 s at most.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 360
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    settings.peering.lifetime = config.peering_lifetime
    for kind, (group, version, plural) in GUARDED.items():
        settings.watching.label_selectors[group or version, plural] = f"{MANAGED_BY}={MANAGER}"
    logging.getLogger("kopf.objects").addFilter(quiet_guards)
    memo.loop = asyncio.get_running_loop()
    memo.wakeups = {}
    memo.reported = set()
    metrics.serve(config.metrics_port)
    logger.info(f"devns configured: {config.model_dump_json()}")


def _post(body: Any, outcome: Outcome) -> None:
    if outcome.result == "created":
        kopf.event(body, type="Normal", reason="Provisioned",
                   message=f"namespace {outcome.namespace} created: {', '.join(outcome.applied)}")
    elif outcome.result == "updated":
        parts = [f"applied {', '.join(outcome.applied)}"] if outcome.applied else []
        parts += [f"removed {', '.join(outcome.removed)}"] if outcome.removed else []
        kopf.event(body, type="Normal", reason="Updated", message="; ".join(parts))
    elif outcome.result in ("failed", "retry") and outcome.status_changed:
        # only news: a restart re-checking a known failure must not write another Event
        kopf.event(body, type="Warning", reason=outcome.reason, message=outcome.message)
    elif outcome.result in ("expired", "would-expire", "warned"):
        kopf.event(body, type="Warning" if outcome.result == "warned" else "Normal",
                   reason={"expired": "Expired", "would-expire": "WouldExpire", "warned": "ExpiringSoon"}[
                       outcome.result], message=outcome.message)


def _record(body: Any, outcome: Outcome, took: float, logger: logging.Logger, action: str) -> None:
    metrics.RECONCILES.labels(outcome.result).inc()
    metrics.RECONCILE_SECONDS.observe(took)
    for item in outcome.applied:
        metrics.OBJECTS_APPLIED.labels(item.split("/", 1)[0]).inc()
    metrics.PHASES.set(body["metadata"]["uid"], outcome.phase if outcome.result not in ("deleted", "removed")
                       else None)
    _post(body, outcome)
    line = (f"{action} devnamespace/{body['metadata']['name']}: {outcome.result} ({outcome.reason}) "
            f"in {took * 1000:.0f} ms")
    if outcome.applied or outcome.removed:
        line += f"; applied {outcome.applied}, removed {outcome.removed}"
    if outcome.result in ("failed", "retry"):
        logger.warning(f"{line}: {outcome.message}")
    else:
        logger.info(line)


def _finish(body: Any, patch: kopf.Patch, outcome: Outcome, started: float, logger: logging.Logger,
            action: str) -> None:
    if outcome.status:
        patch.status.update(outcome.status)  # written by Kopf after the handler, with its bookkeeping
    _record(body, outcome, time.monotonic() - started, logger, action)
    if outcome.result == "failed":
        raise kopf.PermanentError(outcome.message)
    if outcome.retry_after is not None:
        raise kopf.TemporaryError(outcome.message, delay=outcome.retry_after)


def _wake(memo: kopf.Memo, uid: str) -> None:
    """Tell the object's expiry daemon to re-plan now (the spec, hence the expiry, may have changed)."""
    event = memo.wakeups.get(uid)
    if event is not None:
        memo.loop.call_soon_threadsafe(event.set)


@kopf.on.resume(*RESOURCE)
@kopf.on.create(*RESOURCE)
@kopf.on.update(*RESOURCE)
def provision(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: logging.Logger, reason: str,
              **_: Any) -> None:
    """Create or update the namespace and its guardrails (also on operator start, for every object)."""
    started = time.monotonic()
    outcome = reconcile.reconcile(memo.ctx, body, utcnow())
    _wake(memo, body["metadata"]["uid"])
    _finish(body, patch, outcome, started, logger, str(reason))


@kopf.on.delete(*RESOURCE)
def deprovision(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Delete the namespace devns created, and hold the finalizer until it is really gone."""
    started = time.monotonic()
    outcome = reconcile.finalize(memo.ctx, body, utcnow())
    _finish(body, patch, outcome, started, logger, "delete")


@kopf.daemon(*RESOURCE, cancellation_timeout=10.0)
async def expiry_timer(body: kopf.Body, memo: kopf.Memo, logger: logging.Logger, stopped: Any,
                       **_: Any) -> None:
    """Sleep until the next deadline of this DevNamespace, act on it, repeat."""
    ctx: Context = memo.ctx
    uid = body["metadata"]["uid"]
    wake = memo.wakeups.setdefault(uid, asyncio.Event())
    try:
        while not stopped:
            wake.clear()
            started = time.monotonic()
            due = reconcile.expiry_due(ctx, body, utcnow())  # pure: the common case needs no thread, no copy
            try:
                step = (reconcile.Step(None, due.next_wake, due.expires) if due.action is None else
                        await asyncio.to_thread(reconcile.expiry_step, ctx, snapshot(body), utcnow()))
            except reconcile.ApiError as exc:
                logger.warning(f"expiry check failed, retrying in 5 s: {exc}")
                await _sleep(stopped, wake, 5.0)
                continue
            metrics.set_expiry(uid, step.expires_at)
            if step.outcome is not None:
                _count(step.outcome)
                _record(body, step.outcome, time.monotonic() - started, logger, "expiry")
            timeout = None if step.next_wake is None else max(0.0, (step.next_wake - utcnow()).total_seconds())
            await _sleep(stopped, wake, timeout)
    finally:
        memo.wakeups.pop(uid, None)
        metrics.set_expiry(uid, None)


def _count(outcome: Outcome) -> None:
    if outcome.result == "expired":
        metrics.EXPIRY_DELETIONS.labels("false").inc()
    elif outcome.result == "would-expire":
        metrics.EXPIRY_DELETIONS.labels("true").inc()
    elif outcome.result == "warned":
        metrics.WARNINGS_SENT.inc()


async def _sleep(stopped: Any, wake: asyncio.Event, timeout: float | None) -> None:
    """Until ``timeout`` passes, the object changes (``wake``), or the daemon is stopped."""
    waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stopped.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


# -- drift and orphans ----------------------------------------------------------------------------------------

#: Kinds devns keeps in their declared state, and how Kopf names their resources.
GUARDED = {
    "Namespace": ("", "v1", "namespaces"),
    "NetworkPolicy": ("networking.k8s.io", "v1", "networkpolicies"),
    "ResourceQuota": ("", "v1", "resourcequotas"),
    "LimitRange": ("", "v1", "limitranges"),
    "RoleBinding": ("rbac.authorization.k8s.io", "v1", "rolebindings"),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io", "v1", "clusterrolebindings"),
}


#: What drift checks and their Events need of a DevNamespace; the rest (managedFields, status) is not copied.
INDEXED_METADATA = ("name", "uid", "creationTimestamp", "resourceVersion", "generation", "deletionTimestamp")


@kopf.index(*RESOURCE)
def devnamespaces_by_uid(body: kopf.Body, **_: Any) -> dict[str, dict[str, Any]]:
    """uid -> the latest DevNamespace (identity and spec): desired state for drift checks without reading the
    API. Called for every DevNamespace event, so it copies only what ``reconcile.drifted`` reads."""
    meta = dict(body["metadata"])  # one plain copy of the top level: Kopf's views resolve every key lookup
    return {meta["uid"]: {"apiVersion": body["apiVersion"], "kind": body["kind"],
                          "metadata": {k: meta[k] for k in INDEXED_METADATA if k in meta},
                          "spec": copy.deepcopy(dict(body.get("spec") or {}))}}


def owner_uid(kind: str, obj: Mapping[str, Any]) -> str | None:
    meta = obj["metadata"]
    if kind == "Namespace":
        return gc.claimed_uid(obj) or None
    return next((o.get("uid") for o in meta.get("ownerReferences") or [] if o.get("kind") == "DevNamespace"),
                None)


async def guard(event: dict[str, Any], memo: kopf.Memo, logger: logging.Logger,
                devnamespaces_by_uid: kopf.Index, param: str, **_: Any) -> None:
    """A managed object changed or went away: put it back if it no longer matches its DevNamespace. A managed
    namespace whose DevNamespace is not known is an orphan candidate (see ``orphan``).

    Async: the comparison is pure and runs on the event loop (about 9 events per new DevNamespace, nearly all
    in order); only a repair or an orphan check, which call the API, go to a worker thread. It reads the event's
    plain object, not Kopf's ``body`` view, whose every key lookup goes through Kopf's resolver."""
    obj = event["object"]
    uid = owner_uid(param, obj)
    owners = list(devnamespaces_by_uid.get(uid, [])) if uid else []
    if param == "Namespace" and not owners and event.get("type") != "DELETED":
        await asyncio.to_thread(orphan, copy.deepcopy(obj), memo, logger)
        return
    if event.get("type") is None:  # the initial listing: on.resume reconciles everything anyway
        return
    if not owners or (param == "Namespace" and event["type"] == "ADDED"):  # creation is reconcile's job
        return
    owner, started = owners[0], time.monotonic()
    want = reconcile.drifted(memo.ctx, owner, param, obj["metadata"]["name"], event["type"], obj, utcnow())
    if want is None:
        return
    actual = None if event["type"] == "DELETED" else copy.deepcopy(obj)
    outcome = await asyncio.to_thread(reconcile.repair, memo.ctx, owner, want, event["type"], actual, utcnow())
    if outcome is not None:
        metrics.DRIFT_REPAIRS.labels(param).inc()
        kopf.event(owner, type="Warning", reason="DriftRepaired", message=outcome.message)
        _record(owner, outcome, time.monotonic() - started, logger, "repair")


def orphan(body: dict[str, Any], memo: kopf.Memo, logger: logging.Logger) -> None:
    """Collect a namespace devns created whose DevNamespace is gone (proof required; see ``gc``).

    Triggered by the namespace watch: its initial listing after a start (DevNamespaces deleted while the
    operator was down), a new look-alike, and the update the garbage collector makes when it strips the
    ownerReference of a DevNamespace deleted with --cascade=orphan. Kopf indexes are complete before handlers
    run, and the DevNamespace is read again before anything is deleted.
    """
    outcome = reconcile.collect_orphan(memo.ctx, body, memo.reported, utcnow())
    if outcome is None:
        return
    if outcome.result == "orphan-deleted":
        metrics.ORPHAN_DELETIONS.labels("false").inc()
    elif outcome.result == "would-delete-orphan":
        metrics.ORPHAN_DELETIONS.labels("true").inc()
    logger.warning(f"orphan check: {outcome.message}")


def quiet_guards(record: logging.LogRecord) -> bool:
    """Drop Kopf's "Handler 'guard-...' succeeded." lines: one per event of every managed object (9 per new
    DevNamespace) saying only that it was looked at. A repair logs its own line."""
    return not (record.levelno == logging.INFO and record.getMessage().startswith("Handler 'guard-")
                and record.getMessage().endswith("' succeeded."))


for _kind, (_group, _version, _plural) in GUARDED.items():
    # No client-side label filter: the watch's server-side selector already narrows it, and an object whose
    # managed-by label was removed arrives as DELETED without that label; it must still reach guard().
    kopf.on.event(_group or _version, _version if _group else _plural, *([_plural] if _group else []),
                  id=f"guard-{_plural}", param=_kind)(guard)
