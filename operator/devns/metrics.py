"""Prometheus metrics (``devns_`` prefix, units in names, low-cardinality labels, never object names).

Declares the metrics and ``record(outcome, seconds)``, which counts an ``Outcome`` by the table ``COUNTERS``
(result -> counter and labels); the handlers call it. ``PHASES`` tracks each DevNamespace's last known phase so
the ``devns_devnamespaces`` gauge is exact without listing objects at scrape time; ``EXPIRIES`` each one's expiry
for ``devns_next_expiry_seconds`` and, with the phases, ``devns_expiry_overdue_devnamespaces``. ``HEARTBEAT`` ticks
on the event loop that runs Kopf, so ``devns_event_loop_lag_seconds`` shows a stalled loop (no watch event handled)
while /metrics, served by its own thread, still answers, and a watchdog thread logs where the loop is stuck.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import sys
import threading
import time
import traceback

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, start_http_server

from .contract import PHASES as PHASE_NAMES
from .outcome import RECONCILE_RESULTS, Outcome, Result
from .status import EXPIRED as EXPIRED_PHASE
from .status import INACTIVE

log = logging.getLogger("devns")

disable_created_metrics()  # no *_created series: they double the output and nobody alerts on them

RECONCILES = Counter("devns_reconciles_total", "Reconciles of DevNamespaces, by result "
                     f"({', '.join(RECONCILE_RESULTS)}).", ["result"])
RECONCILE_SECONDS = Histogram("devns_reconcile_duration_seconds", "Time spent in one reconcile.",
                              buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
OBJECTS_APPLIED = Counter("devns_objects_applied_total", "Objects created or updated by server-side apply, by kind.",
                          ["kind"])
EXPIRY_DELETIONS = Counter("devns_expiry_deletions_total", "Namespaces deleted because their TTL expired "
                           "(dry_run=true: would have been).", ["dry_run"])
WARNINGS_SENT = Counter("devns_expiry_warnings_total", "Expiry warnings posted to owners.")
DRIFT_REPAIRS = Counter("devns_drift_repairs_total", "Managed objects restored after someone changed or deleted "
                        "them, by kind.", ["kind"])
ORPHAN_DELETIONS = Counter("devns_orphan_deletions_total", "Namespaces (with a valid proof) and cluster-view "
                           "bindings devns created whose DevNamespace is gone, garbage-collected (dry_run=true: "
                           "would have been).", ["dry_run"])
CLASS_RERENDERS = Counter("devns_class_rerenders_total", "DevNamespaces reconciled again because their "
                          "DevNamespaceClass changed, by result (ok, failed: retried with the class).", ["result"])
SLEEPS = Counter("devns_sleeps_total", "Namespaces put to sleep after spec.idle.sleepAfter without activity "
                 "(dry_run=true: would have been).", ["dry_run"])
WAKES = Counter("devns_wakes_total", "Sleeping namespaces woken (kubectl devns wake, a spec change, their owners' "
                "use).")
INACTIVITY_DELETIONS = Counter("devns_inactivity_deletions_total", "Namespaces deleted after spec.idle.deleteAfter "
                               "without activity (dry_run=true: would have been; also in "
                               "devns_expiry_deletions_total).", ["dry_run"])
NEXT_EXPIRY = Gauge("devns_next_expiry_seconds", "Seconds until the soonest DevNamespace expiry (+Inf if none).")
DEVNAMESPACES = Gauge("devns_devnamespaces", "DevNamespaces by phase.", ["phase"])
SIGNING_KEY_MISSING = Gauge("devns_signing_key_missing", "1 when the signing key Secret was missing at start-up "
                            "while namespaces carry devns proofs: devns signs and deletes nothing until it is "
                            "restored and the operator restarted.")
EXPIRY_OVERDUE = Gauge("devns_expiry_overdue_devnamespaces", "DevNamespaces past their expiry that devns has not "
                       "expired (their namespace not deleted: no usable signing key, API errors, dry-run).")
EVENT_LOOP_LAG = Gauge("devns_event_loop_lag_seconds", "Seconds the event loop running Kopf (every watch, handler "
                       "and timer) is late on a 1 s tick; it grows without bound while the loop is stalled.")
STARTUP_PENDING = Gauge("devns_startup_pending_devnamespaces", "DevNamespaces listed at start-up that Kopf has not "
                        "resumed yet (0: the start-up is over; new ones are provisioned at once until then).")
SIGNING_KEY_MISMATCH = Gauge("devns_signing_key_mismatch", "Managed namespaces found at start-up whose proof another "
                             "key made (when the key made none of the proofs, devns signs and deletes nothing).")

class PhaseTracker:
    """uid -> phase, mirrored into the devns_devnamespaces gauge."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._phases: dict[str, str] = {}
        for phase in PHASE_NAMES:
            DEVNAMESPACES.labels(phase).set(0)

    def get(self, uid: str) -> str | None:
        return self._phases.get(uid)

    def set(self, uid: str, phase: str | None) -> None:
        with self._lock:
            old = self._phases.pop(uid, None)
            if phase:
                self._phases[uid] = phase
            if old != phase:
                if old:
                    DEVNAMESPACES.labels(old).dec()
                if phase:
                    DEVNAMESPACES.labels(phase).inc()


PHASES = PhaseTracker()

class ExpiryTracker:
    """uid -> expiry (Unix time), for devns_next_expiry_seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiries: dict[str, float] = {}
        NEXT_EXPIRY.set_function(self.seconds_to_next)

    def set(self, uid: str, expires_at: "dt.datetime | None") -> None:
        """Remember (or, with None, forget) an object's expiry."""
        with self._lock:
            if expires_at is None:
                self._expiries.pop(uid, None)
            else:
                self._expiries[uid] = expires_at.timestamp()

    def seconds_to_next(self) -> float:
        with self._lock:
            soonest = min(self._expiries.values(), default=None)
        return math.inf if soonest is None else soonest - time.time()

    def past(self) -> list[str]:
        """The uids whose expiry has passed."""
        now = time.time()
        with self._lock:
            return [uid for uid, at in self._expiries.items() if at <= now]


EXPIRIES = ExpiryTracker()


def expiry_overdue() -> int:
    """DevNamespaces whose expiry passed and whose phase is not Expired yet."""
    return sum(1 for uid in EXPIRIES.past() if PHASES.get(uid) != EXPIRED_PHASE)


EXPIRY_OVERDUE.set_function(expiry_overdue)


class Heartbeat:
    """A callback every ``interval`` seconds on an event loop; ``lag`` is how late the next one is. ``watch``: a
    thread that logs where the loop's thread is when it is ``threshold`` seconds late (a handler that blocks the
    loop stops every watch and handler at once: the log says which one)."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._last: float | None = None  # time.monotonic() of the last tick; None: not started
        self._thread: int | None = None  # the loop's thread

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        def tick() -> None:
            self._last, self._thread = time.monotonic(), threading.get_ident()
            loop.call_later(self.interval, tick)
        loop.call_soon_threadsafe(tick)

    def lag(self) -> float:
        """Seconds the next tick is late; NaN before the first (not started: unknown, never a reassuring 0)."""
        last = self._last
        return math.nan if last is None else max(0.0, time.monotonic() - last - self.interval)

    def stall(self, threshold: float) -> str | None:
        """Where the loop's thread is (its stack) when the loop is at least ``threshold`` seconds late, else None."""
        if not self.lag() >= threshold or self._thread is None:
            return None
        frame = sys._current_frames().get(self._thread)
        return "".join(traceback.format_stack(frame)) if frame is not None else "(the loop's thread is gone)"

    def watch(self, threshold: float = 10.0) -> threading.Thread:
        """Check every ``threshold / 2`` seconds; log each stall once, with the stack."""
        def run() -> None:
            reported = None
            while True:
                time.sleep(threshold / 2)
                where = self.stall(threshold)
                if where is not None and reported != self._last:
                    reported = self._last
                    log.warning(f"the event loop has been blocked for {self.lag():.0f} s; it is at:\n{where}")

        thread = threading.Thread(target=run, name="devns-loop-watchdog", daemon=True)
        thread.start()
        return thread


HEARTBEAT = Heartbeat()
EVENT_LOOP_LAG.set_function(HEARTBEAT.lag)

#: Counters an outcome increments besides devns_reconciles_total, by result: (counter, label values).
COUNTERS: dict[Result, tuple[Counter, tuple[str, ...]]] = {
    Result.EXPIRED: (EXPIRY_DELETIONS, ("false",)),
    Result.WOULD_EXPIRE: (EXPIRY_DELETIONS, ("true",)),
    Result.WARNED: (WARNINGS_SENT, ()),
    Result.ORPHAN_DELETED: (ORPHAN_DELETIONS, ("false",)),
    Result.WOULD_DELETE_ORPHAN: (ORPHAN_DELETIONS, ("true",)),
    Result.SLEPT: (SLEEPS, ("false",)),
    Result.WOULD_SLEEP: (SLEEPS, ("true",)),
    Result.WOKEN: (WAKES, ()),
}


def record(outcome: Outcome, uid: str | None, seconds: float) -> None:
    """Count one outcome: its result, duration, applied objects, the DevNamespace's phase (``uid``), and the
    counter its result has in ``COUNTERS``."""
    effect = outcome.effect
    if outcome.result in COUNTERS:
        counter, labels = COUNTERS[outcome.result]
        (counter.labels(*labels) if labels else counter).inc()
    if outcome.result in (Result.EXPIRED, Result.WOULD_EXPIRE) and outcome.reason == INACTIVE:
        INACTIVITY_DELETIONS.labels("true" if outcome.result is Result.WOULD_EXPIRE else "false").inc()
    if outcome.result is Result.REPAIRED:
        for item in outcome.applied:
            DRIFT_REPAIRS.labels(item.split("/", 1)[0]).inc()
    if not effect.reconcile:
        return
    RECONCILES.labels(outcome.result.value).inc()
    RECONCILE_SECONDS.observe(seconds)
    for item in outcome.applied:
        OBJECTS_APPLIED.labels(item.split("/", 1)[0]).inc()
    if uid is not None:
        PHASES.set(uid, None if effect.gone else outcome.phase)


def signing_key(missing: bool, foreign_proofs: int) -> None:
    """The state of the signing key, as found at start-up."""
    SIGNING_KEY_MISSING.set(1 if missing else 0)
    SIGNING_KEY_MISMATCH.set(foreign_proofs)


def serve(port: int) -> None:
    """Start the /metrics endpoint on all interfaces (port 0 = off). Called on the event loop that runs Kopf (its
    start-up handler): the heartbeat of ``devns_event_loop_lag_seconds`` starts on it."""
    if port:
        start_http_server(port)
        try:
            HEARTBEAT.start(asyncio.get_running_loop())
            HEARTBEAT.watch()
        except RuntimeError:  # not on a loop (a script serving metrics): no heartbeat to watch
            pass
