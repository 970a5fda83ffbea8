"""What acts on DevNamespaces outside Kopf's per-object handlers, while this replica is active: the lifecycle
(expiry warnings, expiry, removal after the retention, idle sleep, looks and wake: ``reconcile.lifecycle``) with
one scheduler (``deadlines.Deadlines``) for every DevNamespace, not a task each; and the verification after a
start-up (``Verification``), which reconciles again, at a bounded rate, the DevNamespaces resumed from their status.

- ``plan_deadlines``: every DevNamespace watch event (the initial listing included) computes, without the API,
  what is due and when (``reconcile.expiry_due``) and plans it; a deletion forgets it.
- The scheduler's task sleeps until the earliest deadline, reads that DevNamespace (one GET: the status is fresh,
  and nothing but the deadline is kept per DevNamespace), does what is due in a worker thread, and plans the next.
- It stays under Kopf's control: standalone, it starts with Kopf's start-up and stops at its clean-up; with
  ``--peering`` it is a Kopf daemon on this operator's ClusterKopfPeering object, so Kopf stops it when the
  replica pauses (a standby acts on nothing) and starts it again when it resumes. A paused replica forgets its
  deadlines; the watch events after the resume plan them again.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import time
from typing import Any, Mapping

import kopf

from . import handlers_network, metrics, reconcile
from .contract import KIND
from .deadlines import Stopped
from .handlers import RESOURCE, _make_room, reconcile_inputs, record, sleep_until, utcnow
from .kube import ApiError
from .outcome import Result

log = logging.getLogger("devns")
#: How many DevNamespaces' deadlines are acted on at once (each in a worker thread): 100 expiring in the same
#: second are all being deleted within a few seconds.
CONCURRENCY = 64
#: Seconds the verification pauses after the API failed (the DevNamespace goes to the back of the queue).
VERIFY_BACKOFF = 5.0
#: Work started after an action that must not hold its slot (making room after an expiry).
BACKGROUND: set[asyncio.Future] = set()


def plan(memo: kopf.Memo, body: Mapping[str, Any], now: dt.datetime | None = None) -> None:
    """Plan ``body``'s next deadline (now, if something is due); on the event loop."""
    now = now or utcnow()
    meta = body["metadata"]
    due = reconcile.expiry_due(memo.ctx, body, now)
    metrics.EXPIRIES.set(meta["uid"], due.expires)
    memo.deadlines.plan(meta["uid"], meta["name"], now if due.action is not None else due.next_wake)


def plan_threadsafe(memo: kopf.Memo, body: Mapping[str, Any]) -> None:
    """``plan`` from a worker thread (a class change re-rendered ``body``: its idle policy or TTL may be new)."""
    loop = memo.deadlines.loop
    if loop is not None:
        loop.call_soon_threadsafe(plan, memo, body)


@kopf.on.event(*RESOURCE, id="deadlines")
async def plan_deadlines(event: dict[str, Any], memo: kopf.Memo, **_: Any) -> None:
    """Plan (or forget) the DevNamespace's next deadline. Pure and on the event loop: no thread, no copy."""
    memo.indexes.from_kopf(event)  # (already, if the sources handler ran first: then this costs little)
    obj = event["object"]
    if event.get("type") == "DELETED":
        memo.deadlines.forget(obj["metadata"]["uid"])
        metrics.EXPIRIES.set(obj["metadata"]["uid"], None)
        return
    plan(memo, obj)


def acting(memo: kopf.Memo):
    """The scheduler's action for one DevNamespace: read it, do what is due, answer its next deadline."""
    ctx = memo.ctx

    async def act(uid: str, name: str) -> dt.datetime | None:
        body = await asyncio.to_thread(ctx.kube.get, KIND, name)
        if body is None or body["metadata"]["uid"] != uid:
            return None  # gone (its DELETED event forgets it)
        now = utcnow()
        due = reconcile.expiry_due(ctx, body, now)
        metrics.EXPIRIES.set(uid, due.expires)
        if due.action is None:
            return due.next_wake
        started = asyncio.get_running_loop().time()
        step = await asyncio.to_thread(reconcile.expiry_step, ctx, body, now)
        metrics.EXPIRIES.set(uid, step.expires_at)
        if step.outcome is not None:
            record(memo, body, step.outcome, asyncio.get_running_loop().time() - started, log, "expiry")
            if step.outcome.result is Result.EXPIRED:  # in the background: the next expiry needs the slot
                BACKGROUND.add(task := asyncio.ensure_future(asyncio.to_thread(_make_room, ctx, body, memo.indexes,
                                                                               log)))
                task.add_done_callback(BACKGROUND.discard)
        return step.next_wake

    return act


class Verification:
    """DevNamespaces a start-up resumed from their status alone (``reconcile.resumed_unchanged``), to reconcile
    once more in the background: what changed in their namespaces while no operator watched (an object deleted
    by an admin) is put back within minutes. Filled on the event loop, emptied by ``verify`` while active."""

    def __init__(self) -> None:
        self._names: collections.deque[str] = collections.deque()
        self._queued: set[str] = set()
        self._event: asyncio.Event | None = None

    def __len__(self) -> int:
        return len(self._names)

    def add(self, name: str) -> None:
        if name not in self._queued:
            self._queued.add(name)
            self._names.append(name)
            if self._event is not None:
                self._event.set()

    def clear(self) -> None:
        """A paused replica forgets; the resume after it queues again."""
        self._names.clear()
        self._queued.clear()

    async def take(self, stopped: Any) -> str | None:
        """The next name, waiting for one; None once ``stopped``."""
        self._event = self._event or asyncio.Event()
        while not self._names:
            self._event.clear()
            await sleep_until(stopped, self._event, None)
            if stopped:
                return None
        name = self._names.popleft()
        self._queued.discard(name)
        return name


async def verify(memo: kopf.Memo, stopped: Any) -> None:
    """Reconcile the queued DevNamespaces again, at most ``verify_rate`` a second (they read their namespace: a
    start-up over 10,000 must not flood the API server), in the resume lane. One the API failed for (an API
    server restarting) goes to the back of the queue, and the verification pauses VERIFY_BACKOFF seconds."""
    rate = memo.ctx.settings.verify_rate
    loop = asyncio.get_running_loop()
    due = loop.time()
    while not stopped:
        name = await memo.verify.take(stopped)
        if name is None:
            return
        try:
            done = await memo.lanes.run("resume", reconcile_again, memo, name, "verify")
        except Exception as exc:  # noqa: BLE001 - one DevNamespace's trouble must not stop the verification
            log.warning(f"verify: devnamespace/{name} failed: {exc}")
            done = True  # (not an API failure: trying it again would fail again)
        if not done:  # the API failed (it may be restarting): verify it later, and slow down meanwhile
            memo.verify.add(name)
            due = loop.time() + VERIFY_BACKOFF
        due = max(due + 1.0 / rate, loop.time())
        await sleep_until(stopped, asyncio.Event(), due - loop.time())


def reconcile_again(memo: kopf.Memo, name: str, action: str) -> bool:
    """Reconcile one DevNamespace now, outside Kopf's handlers (a class change, the verification after a start):
    read it, compare, patch what differs and its status if that changed. False when the API failed."""
    ctx, started = memo.ctx, time.monotonic()
    try:
        body = ctx.kube.get(KIND, name)
        if body is None or body["metadata"].get("deletionTimestamp") or not (body.get("status") or {}).get("phase"):
            return True  # gone, going, or not provisioned yet: its own create handler renders it
        ix = memo.indexes
        outcome = reconcile.reconcile(ctx, body, utcnow(), **reconcile_inputs(
            ctx, body, ix.devnamespace_peers, ix.devnamespace_sources, ix.devnamespaces_by_uid))
        plan_threadsafe(memo, body)  # its TTL or idle policy may have changed with its class
        handlers_network.announce(memo.events, body, outcome)
        if outcome.status:
            ctx.kube.patch_status(KIND, name, outcome.status)
        if action != "verify" or outcome.result is not Result.UNCHANGED:  # a verification that finds nothing is quiet
            record(memo, body, outcome, time.monotonic() - started, log, action)
        return True
    except ApiError as exc:
        log.warning(f"{action}: reconciling devnamespace/{name} failed: {exc}")
        return False


async def run(memo: kopf.Memo, stopped: Any) -> None:
    """What acts while this replica is active: the scheduler, the verification and the drift watches
    (``handlers_drift``), until ``stopped``; all forget what they held when it stops. A failure of the scheduler
    or the verification themselves (not of one DevNamespace: they handle those) is logged and they start again:
    nothing stops acting while the replica is active."""
    memo.indexes.hearing.reset()  # a standby's Kopf heard nothing; the resume lists everything again
    memo.acting.set()
    memo.guard.activate(memo.guarded_kinds)
    try:
        await asyncio.gather(again(memo.deadlines.run, acting(memo), stopped, CONCURRENCY, stopped=stopped),
                             again(verify, memo, stopped, stopped=stopped))
    finally:
        memo.acting.clear()
        memo.deadlines.clear()
        memo.verify.clear()


async def again(fn: Any, *args: Any, stopped: Any) -> None:
    """``await fn(*args)`` until ``stopped``, again a second after it fails."""
    while not stopped:
        try:
            await fn(*args)
        except Exception:  # noqa: BLE001
            log.exception(f"{getattr(fn, '__qualname__', fn)} failed; starting it again in 1 s")
            await sleep_until(stopped, asyncio.Event(), 1.0)


@kopf.on.startup()
async def start_deadlines(memo: kopf.Memo, settings: kopf.OperatorSettings, **_: Any) -> None:
    """Standalone: the scheduler runs from start-up to clean-up (nothing pauses it)."""
    memo.deadlines.loop = asyncio.get_running_loop()
    if settings.peering.standalone:
        memo.deadlines_stopped = Stopped()
        memo.deadlines_task = asyncio.create_task(run(memo, memo.deadlines_stopped), name="devns deadlines")


@kopf.on.cleanup()
async def stop_deadlines(memo: kopf.Memo, **_: Any) -> None:
    task = memo.get("deadlines_task")
    if task is not None:
        memo.deadlines_stopped.set()
        await asyncio.wait([task], timeout=10.0)


def run_with_peering(name: str) -> None:
    """With ``--peering NAME``: run the scheduler as a Kopf daemon on that ClusterKopfPeering, which Kopf stops
    while this replica is paused. (Kopf adds devns's finalizer to that object, as to any object with a daemon.)"""

    @kopf.daemon("kopf.dev", "v1", "clusterkopfpeerings", id="deadlines", cancellation_timeout=10.0,
                 when=lambda body, **_: body["metadata"]["name"] == name)
    async def deadlines_while_active(memo: kopf.Memo, stopped: Any, **_: Any) -> None:
        log.info("lifecycle scheduler: acting (this replica is active)")
        await run(memo, stopped)
