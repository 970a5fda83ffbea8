"""Status and conditions, pure: build the status a DevNamespace should show and the minimal patch to get there.

Conditions follow the Kubernetes API conventions: ``type``, ``status`` (True/False/Unknown), a CamelCase
``reason``, a human ``message``, ``observedGeneration``, and ``lastTransitionTime`` that moves only when
``status`` flips.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .units import format_time

#: Condition types and the phase the lifecycle sets while warnings are out.
READY = "Ready"
EXPIRING = "Expiring"
EXPIRED = "Expired"
SLEEPING = "Sleeping"  # a phase, and the condition that says why (or what dry-run would do)
INACTIVE = "Inactive"  # the reason of an expiry for inactivity (spec.idle.deleteAfter)


def set_condition(conditions: list[dict[str, Any]], *, type: str, status: str, reason: str, message: str,
                  generation: int | None, now: dt.datetime) -> list[dict[str, Any]]:
    """Return ``conditions`` with ``type`` replaced; lastTransitionTime kept unless the status changed."""
    previous = next((c for c in conditions if c.get("type") == type), None)
    since = previous["lastTransitionTime"] if previous and previous.get("status") == status else format_time(now)
    new = {"type": type, "status": status, "reason": reason, "message": message, "lastTransitionTime": since,
           "observedGeneration": generation}
    return [new if c.get("type") == type else c for c in conditions] if previous else [*conditions, new]


def status_patch(current: dict[str, Any] | None, desired: dict[str, Any]) -> dict[str, Any] | None:
    """The keys of ``desired`` whose values differ from ``current`` (None-valued keys delete), or None."""
    current = current or {}
    patch = {k: v for k, v in desired.items() if current.get(k) != v and not (v is None and k not in current)}
    return patch or None


def ready_status(current: dict[str, Any] | None, *, phase: str, ready: bool, reason: str, message: str,
                 generation: int | None, namespace: str | None, expires_at: dt.datetime | None | str,
                 now: dt.datetime) -> dict[str, Any]:
    """The status to show after a reconcile: phase, Ready condition, namespace, expiry, observedGeneration."""
    current = current or {}
    conditions = set_condition(list(current.get("conditions") or []), type=READY,
                               status="True" if ready else "False", reason=reason, message=message,
                               generation=generation, now=now)
    if isinstance(expires_at, dt.datetime):
        expires_at = format_time(expires_at)
    return {"phase": phase, "namespace": namespace, "expiresAt": expires_at, "observedGeneration": generation,
            "conditions": conditions}
