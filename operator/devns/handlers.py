"""Kopf wiring: thin handlers that call the ``reconcile`` package and turn each ``Outcome`` into an Event, metrics,
a log line and Kopf's retry, by the table in ``outcome.EFFECTS``.

Nothing here decides what the cluster should look like (``desired``/``render``/``expiry``) or talks to the API
(the ``reconcile`` package does, through ``kube``). The CLI builds the ``reconcile.Context`` once and hands it to
Kopf's memo as ``memo.ctx``, with ``memo.deadlines`` (``deadlines.Deadlines``) for the lifecycle.

- Provisioning: on.create/update/resume -> ``reconcile.reconcile`` (resumes in a lane of their own, ``Lanes``, so
  that a new DevNamespace is not queued behind every resume of a start-up); on.delete -> ``reconcile.finalize``.
- Network trust (``handlers_network``): which listed sources of ingress are trusted, judged from an index of the
  DevNamespaces for provisioning and drift alike; the listeners of a namespace are re-judged when it changes hands.
- Lifecycle (``handlers_lifecycle``): one scheduler for every DevNamespace's deadlines (a warning, the expiry, the
  end of retention, an idle deadline: ``reconcile.lifecycle``), planned from the watch events; it makes no API
  call and uses no CPU while nothing is due, and acts at the deadline instead of up to one interval late.
- Drift and orphans (``handlers_drift``): every managed object is watched, outside Kopf (``watches``); what no
  longer matches its DevNamespace is repaired at once, and a managed namespace whose DevNamespace is gone is
  collected; only while this replica is active.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

import kopf

from . import handlers_network, metrics, reconcile, requesters
from .contract import ANN_REQUESTER, FINALIZER, GROUP, KIND, PLURAL, VERSION
from .informer import Index
from .outcome import Outcome, Result, event_of
from .reconcile import Context

RESOURCE = (GROUP, VERSION, PLURAL)
log = logging.getLogger("devns")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Tune Kopf from our settings (watch selectors, timeouts, storage) and start /metrics."""
    config = memo.ctx.settings
    # Kopf's bookkeeping (the last handled spec, retry progress) lives in status.kopf: the handlers' own status
    # goes into the same patch, so a reconcile costs one status write, not a status and an annotations write.
    # The finalizer is added at creation by the devns-finalizer MutatingAdmissionPolicy where it is installed
    # (one write less per new DevNamespace); Kopf adds it itself where it is not.
    settings.persistence.finalizer = FINALIZER
    # devns posts its Events itself (``events.Poster``), where `kubectl describe devnamespace` finds them; Kopf's
    # poster would file them under the "default" namespace, which no lookup of a cluster-scoped object matches.
    settings.posting.enabled = False
    settings.persistence.progress_storage = kopf.StatusProgressStorage()
    settings.persistence.diffbase_storage = kopf.StatusDiffBaseStorage()
    # Sync handlers run in this pool: one thread per concurrently reconciled object. Kopf's per-object queue
    # workers stay unlimited: a limit there is shared by every watched resource, and workers of child objects
    # waiting for the DevNamespace index to fill could take every slot the index itself needs (a deadlock seen
    # with ~800 children after a restart).
    settings.execution.max_workers = config.worker_limit
    # asyncio.to_thread (drift repairs, lifecycle actions, orphan checks) uses the loop's default executor, which
    # Python sizes by the CPU count (6 threads here): those calls share provisioning's pool of worker_limit instead.
    asyncio.get_running_loop().set_default_executor(memo.lanes.executor)
    # A watch that silently died is noticed: the server ends watches after ~5 min, the client gives up after
    # 6 min of nothing, and connecting may take 10 s at most.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 360
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    settings.peering.lifetime = config.peering_lifetime
    logging.getLogger("kopf.objects").addFilter(quiet_guards)
    metrics.serve(config.metrics_port)
    logger.info(f"devns configured: {config.model_dump_json()}")


#: Seconds Kopf may hear no DevNamespace event while devns's own watch sees ones it has not, before the liveness
#: probe fails (Kopf reconnects a silent watch after 70 s of nothing by itself).
DEAF_AFTER = 180.0


@kopf.on.probe(id="devnamespace_events")
def kopf_hears_devnamespaces(memo: kopf.Memo, **_: Any) -> str:
    """/healthz fails while Kopf's DevNamespace watch is stuck (``informer.Hearing``): the kubelet then restarts
    the operator, which starts the watch again. A standby's Kopf hears nothing by design: not checked there."""
    deaf = memo.indexes.hearing.deaf(DEAF_AFTER) if memo.acting.is_set() else None
    if deaf:
        log.error(deaf)
        raise kopf.PermanentError(deaf)
    return "hearing"


@kopf.on.cleanup()
async def stop_events(memo: kopf.Memo, **_: Any) -> None:
    """Post the Events still queued before the process exits."""
    await asyncio.to_thread(memo.events.close)


def record(memo: kopf.Memo, body: Mapping[str, Any], outcome: Outcome, took: float, logger: logging.Logger,
           action: str) -> None:
    """Metrics, the Event and the log line of one outcome about a DevNamespace."""
    metrics.record(outcome, body["metadata"]["uid"], took)
    event = event_of(outcome)
    if event is not None:
        memo.events.post(body, event)
    line = (f"{action} devnamespace/{body['metadata']['name']}: {outcome.result} ({outcome.reason}) "
            f"in {took * 1000:.0f} ms")
    if outcome.applied or outcome.removed:
        line += f"; applied {outcome.applied}, removed {outcome.removed}"
    if outcome.effect.warn:
        logger.warning(f"{line}: {outcome.message}")
    else:
        logger.info(line)


def _finish(memo: kopf.Memo, body: Any, patch: kopf.Patch, outcome: Outcome, started: float,
            logger: logging.Logger, action: str) -> None:
    if outcome.status:
        patch.status.update(outcome.status)  # written by Kopf after the handler, with its bookkeeping
    record(memo, body, outcome, time.monotonic() - started, logger, action)
    if outcome.result is Result.FAILED:
        raise kopf.PermanentError(outcome.message)
    if outcome.retry_after is not None:
        raise kopf.TemporaryError(outcome.message, delay=outcome.retry_after)


class Lanes:
    """Where provisioning runs: a pool of ``worker_limit`` threads, of which resumes may hold ``resume_limit`` at
    once (they wait for a slot without holding a thread); creates and updates never wait behind them."""

    def __init__(self, worker_limit: int, resume_limit: int):
        self.executor = ThreadPoolExecutor(max_workers=worker_limit, thread_name_prefix="devns-provision")
        self.resume_limit = min(resume_limit, worker_limit)
        self._resumes: asyncio.Semaphore | None = None  # made on the event loop

    def lane(self, reason: str) -> Any:
        if reason != "resume":
            return contextlib.nullcontext()
        if self._resumes is None:
            self._resumes = asyncio.Semaphore(self.resume_limit)
        return self._resumes

    async def run(self, reason: str, fn: Any, *args: Any) -> Any:
        async with self.lane(reason):
            return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)


@kopf.on.resume(*RESOURCE)
@kopf.on.create(*RESOURCE)
@kopf.on.update(*RESOURCE)
async def provision(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: logging.Logger, reason: str,
                    **_: Any) -> None:
    """Create or update the namespace and its guardrails (also on operator start, for every object). Resumes wait
    in their lane (``Lanes``: a few at a time, parked without a thread, so that a DevNamespace created during a
    start-up is not queued behind thousands of them); one whose status proves nothing changed is only queued for
    the verification that follows a start (``handlers_lifecycle``)."""
    started = time.monotonic()
    async with memo.lanes.lane(str(reason)):
        if str(reason) == "resume" and reconcile.resumed_unchanged(memo.ctx, body, utcnow()):
            memo.verify.add(body["metadata"]["name"])
            outcome = Outcome(Result.UNCHANGED, body["status"]["phase"], "Provisioned", "resumed from its status",
                              namespace=body["status"].get("namespace"))
        else:
            outcome = await asyncio.get_running_loop().run_in_executor(memo.lanes.executor, _provision_in_turn,
                                                                       memo, body)
    memo.newcomers.handled(body["metadata"]["uid"])
    _finish(memo, body, patch, outcome, started, logger, str(reason))


def _provision_in_turn(memo: kopf.Memo, body: kopf.Body) -> Outcome:
    """Kopf's handler: never beside a provisioning of the same DevNamespace during a start-up
    (``handlers_newcomers``); if that one provisioned it, Kopf's copy predates the status it wrote: read it again."""
    uid = body["metadata"]["uid"]
    with memo.newcomers.lock(uid):
        if uid in memo.newcomers.provisioned:
            body = memo.ctx.kube.get(KIND, body["metadata"]["name"]) or body
        return _provision(memo, body)


def _provision(memo: kopf.Memo, body: Mapping[str, Any]) -> Outcome:
    ix = memo.indexes
    outcome = reconcile.reconcile(memo.ctx, body, utcnow(), **reconcile_inputs(
        memo.ctx, body, ix.devnamespace_peers, ix.devnamespace_sources, ix.devnamespaces_by_uid))
    handlers_network.announce(memo.events, body, outcome)
    return outcome


@kopf.on.delete(*RESOURCE)
def deprovision(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Delete the namespace devns created, and hold the finalizer until it is really gone."""
    started = time.monotonic()
    memo.newcomers.handled(body["metadata"]["uid"])
    outcome = reconcile.finalize(memo.ctx, body, utcnow())
    if outcome.result is Result.DELETED:
        _make_room(memo.ctx, body, memo.indexes, logger)
    _finish(memo, body, patch, outcome, started, logger, "delete")


async def sleep_until(stopped: Any, wake: asyncio.Event, timeout: float | None) -> None:
    """Until ``timeout`` passes, the object changes (``wake``), or the daemon is stopped."""
    waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stopped.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


# -- limits per requester -------------------------------------------------------------------------------------

def devnamespace_peers(body: Mapping[str, Any]) -> dict[str, requesters.Peer]:
    """uid -> what the limit per requester and the class budgets need of each DevNamespace (who asked, its
    phase, its namespace, its class as its status says, its team)."""
    return {body["metadata"]["uid"]: requesters.peer_of(body)}


def devnamespace_waiting(body: Mapping[str, Any]) -> dict[str, str]:
    """"waiting" -> the DevNamespaces waiting for room (over the limit per requester, or their class's budget):
    when there are none, a deletion or an expiry has nobody to make room for (no scan of every DevNamespace)."""
    peer = requesters.peer_of(body)
    return {"waiting": peer.uid} if peer.waiting or peer.over_budget else {}


def all_peers(index: Index) -> list[requesters.Peer]:
    return [peer for uid in index for peer in index[uid]]


def reconcile_inputs(ctx: Context, body: Mapping[str, Any], peers: Index, sources: Index,
                     by_uid: Index) -> dict[str, Any]:
    """What ``reconcile.reconcile`` needs of the indexes for ``body``: the other DevNamespaces when a limit per
    requester or a class budget applies (else none: no O(N) list per reconcile), the judgement of its sources of
    ingress, and the other DevNamespaces' bodies (for their quota in a budget)."""
    me = reconcile.peer_for(ctx, body)
    return {"peers": all_peers(peers) if me.limit is not None or reconcile.budgeted(ctx, me) else (),
            "sources": reconcile.look_up(ctx, handlers_network.judged(ctx, body, sources)),
            "bodies": lambda uid: next(iter(by_uid.get(uid, [])), None)}


def _make_room(ctx: Context, body: Mapping[str, Any], indexes: Any, logger: logging.Logger) -> None:
    """A DevNamespace no longer holds room (deleted, expired): wake the ones waiting for it (of its requester, or
    in its class's budget). ``indexes``: the informer (``memo.indexes``)."""
    ctx.claims.forget(body["metadata"]["uid"])
    if not indexes.devnamespace_waiting.get("waiting"):
        return  # nobody waits for room
    peers = all_peers(indexes.devnamespace_peers)
    me = reconcile.peer_for(ctx, body)
    requester = requesters.effective_requester(me.requester, requesters.namespace_requesters(peers))
    woken = reconcile.make_room(ctx, requester, [p for p in peers if p.uid != me.uid], utcnow(),
                                me.class_name if reconcile.budgeted(ctx, me) else None)
    if woken:
        logger.info(f"room for {requester}: re-checking {', '.join(woken)}")


# -- drift and orphans ----------------------------------------------------------------------------------------

#: What drift checks and their Events need of a DevNamespace; the rest (managedFields, status) is not copied.
INDEXED_METADATA = ("name", "uid", "creationTimestamp", "resourceVersion", "generation", "deletionTimestamp")


def devnamespaces_by_uid(body: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """uid -> the latest DevNamespace (identity and spec): desired state for drift checks without reading the
    API. Called for every DevNamespace event, so it copies only what the drift check reads."""
    meta = dict(body["metadata"])  # one plain copy of the top level: Kopf's views resolve every key lookup
    indexed = {k: meta[k] for k in INDEXED_METADATA if k in meta}
    requester = (meta.get("annotations") or {}).get(ANN_REQUESTER)
    if requester:  # rendered into the namespace: a drift check that renders must see it as provisioning does
        indexed["annotations"] = {ANN_REQUESTER: requester}
    return {meta["uid"]: {"apiVersion": body["apiVersion"], "kind": body["kind"], "metadata": indexed,
                          "spec": copy.deepcopy(dict(body.get("spec") or {}))}}


def quiet_guards(record: logging.LogRecord) -> bool:
    """Drop Kopf's "Handler 'sources' succeeded." (``handlers_network``) and "Handler 'deadlines' succeeded."
    (``handlers_lifecycle``) lines, one each per DevNamespace event, saying only that it was looked at. A
    re-judgement of sources and a lifecycle action log their own line."""
    message = record.getMessage()
    return not (record.levelno == logging.INFO and message.endswith("' succeeded.")
                and message.startswith(("Handler 'sources'", "Handler 'deadlines'")))
