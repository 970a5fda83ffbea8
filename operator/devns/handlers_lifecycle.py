"""Kopf wiring of the lifecycle (expiry warnings, expiry, removal after the retention, idle sleep, looks and wake:
``reconcile.lifecycle``): one scheduler (``deadlines.Deadlines``) for every DevNamespace, not a task each.

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
import datetime as dt
import logging
from typing import Any, Mapping

import kopf

from . import metrics, reconcile
from .contract import KIND
from .deadlines import Stopped
from .handlers import RESOURCE, _make_room, record, utcnow
from .outcome import Result

log = logging.getLogger("devns")
#: How many DevNamespaces' deadlines are acted on at once (each in a worker thread).
CONCURRENCY = 8


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
    memo.indexes.observe(event)  # (already, if the sources handler ran first: then this costs nothing)
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
            if step.outcome.result is Result.EXPIRED:
                await asyncio.to_thread(_make_room, ctx, body, memo.indexes.devnamespace_peers, log)
        return step.next_wake

    return act


async def run(memo: kopf.Memo, stopped: Any) -> None:
    """The scheduler, until ``stopped``; its deadlines are forgotten when it stops."""
    try:
        await memo.deadlines.run(acting(memo), stopped, CONCURRENCY)
    finally:
        memo.deadlines.clear()


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
