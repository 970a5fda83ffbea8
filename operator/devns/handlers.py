"""Kopf wiring: thin handlers that call ``reconcile`` and turn its Outcome into Events, metrics, logs and retries.

Nothing here decides what the cluster should look like (that is ``render``/``expiry``) or talks to the API directly
(that is ``reconcile`` through ``kube``). Settings, the API client and the signing key are built once by the CLI
and live in Kopf's ``memo`` as ``memo.ctx``.

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
from typing import Any

import kopf

from . import metrics, reconcile
from .models import GROUP, PLURAL, VERSION
from .reconcile import Context, Outcome

RESOURCE = (GROUP, VERSION, PLURAL)
log = logging.getLogger("devns")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def snapshot(body: kopf.Body) -> dict[str, Any]:
    """A private copy of a (live) Kopf body, safe to hand to a worker thread."""
    return copy.deepcopy(dict(body))


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Tune Kopf from our settings and start the orphan sweeper."""
    ctx: Context = memo.ctx
    config = ctx.settings
    # Kopf's bookkeeping lives in annotations with our prefix; the status belongs to devns alone.
    settings.persistence.finalizer = "devns.io/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="kopf.devns.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="kopf.devns.io", key="last-handled-configuration")
    # Sync handlers run in this pool: one thread per concurrently reconciled object.
    settings.execution.max_workers = config.worker_limit
    settings.queueing.worker_limit = config.worker_limit
    # A watch that silently died is noticed: the server ends watches after ~5 min, the client gives up after
    # 6 min of nothing, and connecting may take 10 s at most.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 360
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    memo.loop = asyncio.get_running_loop()
    memo.wakeups = {}
    memo.sweeper = asyncio.create_task(sweep_orphans_forever(ctx))
    metrics.serve(config.metrics_port)
    logger.info(f"devns configured: {config.model_dump_json()}")


@kopf.on.cleanup()
async def stop_sweeper(memo: kopf.Memo, **_: Any) -> None:
    memo.sweeper.cancel()


def _post(body: Any, outcome: Outcome) -> None:
    if outcome.result == "created":
        kopf.event(body, type="Normal", reason="Provisioned",
                   message=f"namespace {outcome.namespace} created: {', '.join(outcome.applied)}")
    elif outcome.result == "updated":
        parts = [f"applied {', '.join(outcome.applied)}"] if outcome.applied else []
        parts += [f"removed {', '.join(outcome.removed)}"] if outcome.removed else []
        kopf.event(body, type="Normal", reason="Updated", message="; ".join(parts))
    elif outcome.result in ("failed", "retry"):
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


def _finish(body: Any, outcome: Outcome, started: float, logger: logging.Logger, action: str) -> None:
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
def provision(body: kopf.Body, memo: kopf.Memo, logger: logging.Logger, reason: str, **_: Any) -> None:
    """Create or update the namespace and its guardrails (also on operator start, for every object)."""
    started = time.monotonic()
    outcome = reconcile.reconcile(memo.ctx, body, utcnow())
    _wake(memo, body["metadata"]["uid"])
    _finish(body, outcome, started, logger, str(reason))


@kopf.on.delete(*RESOURCE)
def deprovision(body: kopf.Body, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Delete the namespace devns created, and hold the finalizer until it is really gone."""
    started = time.monotonic()
    outcome = reconcile.finalize(memo.ctx, body, utcnow())
    _finish(body, outcome, started, logger, "delete")


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
            try:
                step = await asyncio.to_thread(reconcile.expiry_step, ctx, snapshot(body), utcnow())
            except reconcile.ApiError as exc:
                logger.warning(f"expiry check failed, retrying in 5 s: {exc}")
                await _sleep(stopped, wake, 5.0)
                continue
            metrics.set_expiry(uid, step.expires_at)
            if step.outcome is not None:
                _count(step.outcome, ctx)
                _record(body, step.outcome, time.monotonic() - started, logger, "expiry")
            timeout = None if step.next_wake is None else max(0.0, (step.next_wake - utcnow()).total_seconds())
            await _sleep(stopped, wake, timeout)
    finally:
        memo.wakeups.pop(uid, None)
        metrics.set_expiry(uid, None)


def _count(outcome: Outcome, ctx: Context) -> None:
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


async def sweep_orphans_forever(ctx: Context) -> None:
    """Every ``orphan_sweep_interval``: collect namespaces whose DevNamespace is gone (see ``gc``)."""
    reported: set[str] = set()
    while True:
        try:
            for outcome in await asyncio.to_thread(reconcile.sweep_orphans, ctx, reported, utcnow()):
                if outcome.result == "orphan-deleted":
                    metrics.ORPHAN_DELETIONS.labels("false").inc()
                elif outcome.result == "would-delete-orphan":
                    metrics.ORPHAN_DELETIONS.labels("true").inc()
                log.warning(f"orphan sweep: {outcome.message}")
        except reconcile.ApiError as exc:
            log.warning(f"orphan sweep failed, will retry: {exc}")
        await asyncio.sleep(ctx.settings.orphan_sweep_seconds)
