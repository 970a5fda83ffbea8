"""Kopf wiring: thin handlers that call ``reconcile`` and turn its Outcome into Events, metrics, logs and retries.

Nothing here decides what the cluster should look like (that is ``render``) or talks to the API directly (that is
``reconcile`` through ``kube``). Settings are read once at start-up and live in Kopf's ``memo``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import kopf

from . import metrics, reconcile
from .models import GROUP, PLURAL, VERSION
from .settings import Settings

RESOURCE = (GROUP, VERSION, PLURAL)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Tune Kopf from our settings (built once by the CLI and handed over in ``memo``)."""
    config: Settings = memo.config
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
    metrics.serve(config.metrics_port)
    logger.info(f"devns configured: {config.model_dump_json()}")


def _post(body: Any, outcome: reconcile.Outcome) -> None:
    if outcome.result == "created":
        kopf.event(body, type="Normal", reason="Provisioned",
                   message=f"namespace {outcome.namespace} created: {', '.join(outcome.applied)}")
    elif outcome.result == "updated":
        parts = [f"applied {', '.join(outcome.applied)}"] if outcome.applied else []
        parts += [f"removed {', '.join(outcome.removed)}"] if outcome.removed else []
        kopf.event(body, type="Normal", reason="Updated", message="; ".join(parts))
    elif outcome.result in ("failed", "retry"):
        kopf.event(body, type="Warning", reason=outcome.reason, message=outcome.message)


def _finish(body: Any, outcome: reconcile.Outcome, started: float, logger: logging.Logger, action: str) -> None:
    took = time.monotonic() - started
    metrics.RECONCILES.labels(outcome.result).inc()
    metrics.RECONCILE_SECONDS.observe(took)
    for item in outcome.applied:
        metrics.OBJECTS_APPLIED.labels(item.split("/", 1)[0]).inc()
    metrics.PHASES.set(body["metadata"]["uid"], outcome.phase if outcome.result != "deleted" else None)
    _post(body, outcome)
    line = (f"{action} devnamespace/{body['metadata']['name']}: {outcome.result} ({outcome.reason}) "
            f"in {took * 1000:.0f} ms")
    if outcome.applied or outcome.removed:
        line += f"; applied {outcome.applied}, removed {outcome.removed}"
    if outcome.result in ("failed", "retry"):
        logger.warning(f"{line}: {outcome.message}")
    else:
        logger.info(line)
    if outcome.result == "failed":
        raise kopf.PermanentError(outcome.message)
    if outcome.retry_after is not None:
        raise kopf.TemporaryError(outcome.message, delay=outcome.retry_after)


@kopf.on.resume(*RESOURCE)
@kopf.on.create(*RESOURCE)
@kopf.on.update(*RESOURCE)
def provision(body: kopf.Body, memo: kopf.Memo, logger: logging.Logger, reason: str, **_: Any) -> None:
    """Create or update the namespace and its guardrails (also on operator start, for every object)."""
    started = time.monotonic()
    outcome = reconcile.reconcile(memo.kube, body, memo.config, utcnow())
    _finish(body, outcome, started, logger, str(reason))


@kopf.on.delete(*RESOURCE)
def deprovision(body: kopf.Body, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Delete the namespace devns created, and hold the finalizer until it is really gone."""
    started = time.monotonic()
    outcome = reconcile.finalize(memo.kube, body, memo.config, utcnow())
    _finish(body, outcome, started, logger, "delete")
