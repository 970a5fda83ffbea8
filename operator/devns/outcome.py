"""What a reconcile path did: a typed ``Result``, one ``Outcome`` type, and the table of what each result means
for Events and logs. Pure.

Every path of ``reconcile`` (provisioning, finalize, lifecycle, drift repair, orphan collection) returns an
``Outcome``; the handlers turn it into an Event (``event_of``), metrics (``metrics.record``) and a log line by
looking its result up in ``EFFECTS``, never by comparing strings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Result(StrEnum):
    """What happened; the value is the ``result`` label of ``devns_reconciles_total``."""

    CREATED = "created"  # the namespace and its children were created
    UPDATED = "updated"  # something was applied or removed
    UNCHANGED = "unchanged"  # everything was in order: no write
    SKIPPED = "skipped"  # expired: left to the lifecycle
    FAILED = "failed"  # the spec cannot be honoured (permanent until it changes)
    RETRY = "retry"  # a transient problem: tried again later
    DELETING = "deleting"  # the namespace is being deleted; the finalizer waits
    DELETED = "deleted"  # the namespace is gone; the finalizer is released
    WARNED = "warned"  # an expiry warning was posted
    EXPIRED = "expired"  # the namespace was deleted at expiry
    WOULD_EXPIRE = "would-expire"  # dry-run: it would have been
    REMOVED = "removed"  # the expired DevNamespace was removed after its retention
    REPAIRED = "repaired"  # a managed object was put back after a change by someone else
    ORPHAN_DELETED = "orphan-deleted"  # a namespace whose DevNamespace is gone was collected
    WOULD_DELETE_ORPHAN = "would-delete-orphan"  # dry-run: it would have been
    LOOKALIKE = "lookalike"  # a namespace labelled as devns's without a valid proof was reported
    BLOCKED = "blocked"  # no signing key devns may use (missing, or wrong): nothing was signed or deleted
    WAITING = "waiting"  # over its class's budget: Pending, nothing created, looked at again when room appears
    SLEPT = "slept"  # idle: workloads scaled down, CronJobs suspended
    WOULD_SLEEP = "would-sleep"  # dry-run: they would have been
    WOKEN = "woken"  # what sleep did was restored


@dataclass(frozen=True)
class Effect:
    """What a result means beyond itself."""

    event: tuple[str, str | None] | None = None  # (type, reason) of the Event on the DevNamespace; reason None:
    # the outcome's own reason
    only_news: bool = False  # post the Event only when the status changed (a restart re-checking a known
    # failure posts nothing)
    warn: bool = False  # log at warning level, with the message
    gone: bool = False  # the DevNamespace is gone: forget its phase
    reconcile: bool = True  # about a DevNamespace (counted in devns_reconciles_total); False: about a namespace


EFFECTS: dict[Result, Effect] = {
    Result.CREATED: Effect(event=("Normal", "Provisioned")),
    Result.UPDATED: Effect(event=("Normal", "Updated")),
    Result.UNCHANGED: Effect(),
    Result.SKIPPED: Effect(),
    Result.FAILED: Effect(event=("Warning", None), only_news=True, warn=True),
    Result.RETRY: Effect(event=("Warning", None), only_news=True, warn=True),
    Result.DELETING: Effect(),
    Result.DELETED: Effect(gone=True),
    Result.WARNED: Effect(event=("Warning", "ExpiringSoon")),
    Result.EXPIRED: Effect(event=("Normal", "Expired")),
    Result.WOULD_EXPIRE: Effect(event=("Normal", "WouldExpire")),
    Result.REMOVED: Effect(gone=True),
    Result.REPAIRED: Effect(event=("Warning", "DriftRepaired")),
    Result.ORPHAN_DELETED: Effect(warn=True, reconcile=False),
    Result.WOULD_DELETE_ORPHAN: Effect(warn=True, reconcile=False),
    Result.LOOKALIKE: Effect(warn=True, reconcile=False),
    Result.BLOCKED: Effect(event=("Warning", None), only_news=True, warn=True),
    Result.WAITING: Effect(event=("Normal", None), only_news=True),
    Result.SLEPT: Effect(event=("Normal", "Sleeping")),
    Result.WOULD_SLEEP: Effect(event=("Normal", "WouldSleep")),
    Result.WOKEN: Effect(event=("Normal", "Woken")),
}

#: The label values ``devns_reconciles_total`` can carry, for its help text and the README.
RECONCILE_RESULTS = tuple(r.value for r in Result if EFFECTS[r].reconcile)


@dataclass
class Outcome:
    """What one reconcile path did, for Events, metrics, logs and Kopf's retry."""

    result: Result
    phase: str
    reason: str
    message: str
    applied: list[str] = field(default_factory=list)  # "Kind/name" of what was created or applied
    removed: list[str] = field(default_factory=list)
    namespace: str | None = None
    expires_at: dt.datetime | None = None
    expires_because: str = "ttl"  # which deadline expires_at is: "ttl" or "inactivity"
    retry_after: float | None = None
    status: dict[str, Any] | None = None  # the status keys Kopf's patch must carry (None: already right)
    seeds: list[dict[str, str]] | None = None  # provisioning: the class's seeds as applied (status.seeds)

    @property
    def effect(self) -> Effect:
        return EFFECTS[self.result]


def event_of(outcome: Outcome) -> tuple[str, str, str] | None:
    """(type, reason, message) of the Event an outcome posts on its DevNamespace, or None."""
    effect = outcome.effect
    if effect.event is None or (effect.only_news and not outcome.status):
        return None
    type_, reason = effect.event
    if outcome.result is Result.CREATED:
        message = f"namespace {outcome.namespace} created: {', '.join(outcome.applied)}"
    elif outcome.result is Result.UPDATED:
        parts = [f"applied {', '.join(outcome.applied)}"] if outcome.applied else []
        parts += [f"removed {', '.join(outcome.removed)}"] if outcome.removed else []
        message = "; ".join(parts)
    else:
        message = outcome.message
    return type_, reason or outcome.reason, message
