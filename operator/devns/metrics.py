"""Prometheus metrics (``devns_`` prefix, units in names, low-cardinality labels, never object names).

The handlers count; this module only declares. ``PHASES`` tracks each DevNamespace's last known phase so the
``devns_devnamespaces`` gauge is exact without listing objects at scrape time.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, start_http_server

disable_created_metrics()  # no *_created series: they double the output and nobody alerts on them

RECONCILES = Counter("devns_reconciles_total", "Reconciles of DevNamespaces, by result "
                     "(created, updated, unchanged, failed, retry, deleting, deleted).", ["result"])
RECONCILE_SECONDS = Histogram("devns_reconcile_duration_seconds", "Time spent in one reconcile.",
                              buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
OBJECTS_APPLIED = Counter("devns_objects_applied_total", "Objects created or updated by server-side apply, by kind.",
                          ["kind"])
EXPIRY_DELETIONS = Counter("devns_expiry_deletions_total", "Namespaces deleted because their TTL expired "
                           "(dry_run=true: would have been).", ["dry_run"])
WARNINGS_SENT = Counter("devns_expiry_warnings_total", "Expiry warnings posted to owners.")
DRIFT_REPAIRS = Counter("devns_drift_repairs_total", "Managed objects restored after someone changed or deleted "
                        "them, by kind.", ["kind"])
ORPHAN_DELETIONS = Counter("devns_orphan_deletions_total", "Namespaces devns created whose DevNamespace is gone, "
                           "garbage-collected with a valid proof (dry_run=true: would have been).", ["dry_run"])
NEXT_EXPIRY = Gauge("devns_next_expiry_seconds", "Seconds until the soonest DevNamespace expiry (+Inf if none).")
DEVNAMESPACES = Gauge("devns_devnamespaces", "DevNamespaces by phase.", ["phase"])

PHASE_NAMES = ("Pending", "Ready", "Failed", "Terminating", "Expiring", "Expired")


class PhaseTracker:
    """uid -> phase, mirrored into the devns_devnamespaces gauge."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._phases: dict[str, str] = {}
        for phase in PHASE_NAMES:
            DEVNAMESPACES.labels(phase).set(0)

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

_expiries: dict[str, float] = {}
_expiries_lock = threading.Lock()


def set_expiry(uid: str, expires_at: "dt.datetime | None") -> None:
    """Remember (or forget) an object's expiry for devns_next_expiry_seconds."""
    with _expiries_lock:
        if expires_at is None:
            _expiries.pop(uid, None)
        else:
            _expiries[uid] = expires_at.timestamp()


def _seconds_to_next_expiry() -> float:
    with _expiries_lock:
        soonest = min(_expiries.values(), default=None)
    return math.inf if soonest is None else soonest - time.time()


NEXT_EXPIRY.set_function(_seconds_to_next_expiry)


def serve(port: int) -> None:
    """Start the /metrics endpoint on all interfaces (port 0 = off)."""
    if port:
        start_http_server(port)
