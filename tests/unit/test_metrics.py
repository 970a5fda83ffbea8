"""devns.metrics: the gauges computed at scrape time (overdue expiries, the event loop's lag)."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import threading
import time
import uuid

from prometheus_client import REGISTRY

from devns import metrics


def test_an_expiry_is_overdue_from_its_time_until_the_devnamespace_is_expired():
    uid = str(uuid.uuid4())
    before = metrics.expiry_overdue()
    now = dt.datetime.now(dt.timezone.utc)
    try:
        metrics.PHASES.set(uid, "Ready")
        metrics.EXPIRIES.set(uid, now + dt.timedelta(hours=1))
        assert metrics.expiry_overdue() == before
        metrics.EXPIRIES.set(uid, now - dt.timedelta(seconds=1))
        assert metrics.expiry_overdue() == before + 1
        assert REGISTRY.get_sample_value("devns_expiry_overdue_devnamespaces") == before + 1  # as scraped
        metrics.PHASES.set(uid, "Expired")  # the namespace was deleted at expiry
        assert metrics.expiry_overdue() == before
        metrics.PHASES.set(uid, "Expiring")
        metrics.EXPIRIES.set(uid, None)  # the DevNamespace is being deleted: no expiry any more
        assert metrics.expiry_overdue() == before
    finally:
        metrics.PHASES.set(uid, None)
        metrics.EXPIRIES.set(uid, None)


def test_the_heartbeat_lag_is_zero_while_the_loop_runs_and_grows_while_it_is_blocked():
    beat = metrics.Heartbeat(interval=0.05)
    assert math.isnan(beat.lag())  # not started: unknown

    async def run() -> tuple[float, float]:
        beat.start(asyncio.get_running_loop())
        await asyncio.sleep(0.2)
        running = beat.lag()
        time.sleep(0.5)  # blocks the loop, as a stalled handler would
        return running, beat.lag()

    running, blocked = asyncio.run(run())
    assert running < 0.1
    assert blocked >= 0.4


def test_a_stalled_loop_is_reported_with_where_its_thread_is():
    beat = metrics.Heartbeat(interval=0.05)
    assert beat.stall(0.2) is None  # not started

    def stuck_here() -> None:
        time.sleep(0.5)  # blocks the loop, as a stalled handler would

    async def run() -> tuple[str | None, str | None]:
        beat.start(asyncio.get_running_loop())
        await asyncio.sleep(0.1)
        found: dict[str, str | None] = {"running": beat.stall(0.2)}
        probe = threading.Timer(0.4, lambda: found.update(stalled=beat.stall(0.2)))
        probe.start()
        stuck_here()
        probe.join()
        return found["running"], found["stalled"]

    running, stalled = asyncio.run(run())
    assert running is None
    assert stalled is not None and "stuck_here" in stalled
