"""The lifecycle of a DevNamespace: expiry warnings, expiry, and removal after the retention.

``expiry_due`` decides, without the API, what is due now and when to look again (the handlers call it on the
event loop for every wake-up); ``expiry_step`` does it: posts the warning, deletes the namespace, or removes the
expired DevNamespace, and records the result in the status through ``write_status``, the lifecycle's one status
writer. (Provisioning's status rides on the patch Kopf writes after each handler; the lifecycle runs in a
long-lived daemon whose Kopf patch would only be written when it exits, so it writes its own, only what differs.)
Without a signing key devns may use (``Context.key_problem``), warnings still go out but nothing is deleted: at
expiry the ``Expired`` condition says why (``Result.BLOCKED``, once) and the namespace stays until a restart with
the key restored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Mapping

from .. import expiry
from ..desired import Desired
from ..kube import ApiError, Kube
from ..outcome import Outcome, Result
from ..status import EXPIRED, EXPIRING, ready_status, set_condition, status_patch
from ..units import format_time, parse_time
from .context import Context, is_ours, namespace_event


class Action(StrEnum):
    """What the lifecycle must do now."""

    WARN = "warn"  # a warning lead time has come
    REARM = "rearm"  # extended: forget warnings no longer due, leave Expiring
    EXPIRE = "expire"  # the expiry has come: delete the namespace
    REMOVE = "remove"  # the retention after expiry is over: delete the DevNamespace


@dataclass(frozen=True)
class ExpiryDue:
    """What is due now for a DevNamespace (``action`` None: nothing), and when to look again (None: only when
    the DevNamespace changes)."""

    action: Action | None
    next_wake: dt.datetime | None
    expires: dt.datetime | None = None
    namespace: str = ""
    plan: expiry.Plan | None = None


@dataclass
class Step:
    """One run of the lifecycle: what it did (if anything) and when it must run next (None = on change only)."""

    outcome: Outcome | None
    next_wake: dt.datetime | None
    expires_at: dt.datetime | None = None


def expiry_due(ctx: Context, body: Mapping[str, Any], now: dt.datetime) -> ExpiryDue:
    """Pure: decide from the DevNamespace, its desired state (cached), the settings and the clock."""
    settings = ctx.settings
    if body["metadata"].get("deletionTimestamp"):
        return ExpiryDue(None, None)
    desired = ctx.desired.get(body)
    if not isinstance(desired, Desired):
        return ExpiryDue(None, None)  # provisioning reports it; the lifecycle waits for a fixed spec
    status = body.get("status") or {}
    expires, ns = desired.expires_at, desired.namespace
    if status.get("phase") == EXPIRED and not (expires is not None and now < expires):  # (not extended)
        expired_at = parse_time(status["expiredAt"]) if status.get("expiredAt") else now
        retention_end = expired_at + settings.expired_retention_delta
        return ExpiryDue(Action.REMOVE if now >= retention_end else None, retention_end, expires, ns)
    sent = list(status.get("warningsSent") or [])
    p = expiry.plan(expires, sent, now, settings.warn_before_deltas, desired.ref.created)
    if p.expired:
        return ExpiryDue(Action.EXPIRE, now + settings.expired_retention_delta if not settings.dry_run else None,
                         expires, ns, p)
    action = Action.WARN if p.warn else Action.REARM if list(p.warnings_sent) != sent else None
    return ExpiryDue(action, p.next_wake, expires, ns, p)


def expiry_step(ctx: Context, body: Mapping[str, Any], now: dt.datetime) -> Step:
    """Do what ``expiry_due`` says is due; say when to look again."""
    due = expiry_due(ctx, body, now)
    if due.action is None:
        return Step(None, due.next_wake, due.expires)
    if due.action in (Action.EXPIRE, Action.REMOVE) and ctx.key is None and not ctx.settings.dry_run:
        return _blocked(ctx, body, due, now)
    if due.action is Action.REMOVE:
        meta = body["metadata"]
        ctx.kube.delete("DevNamespace", meta["name"], uid=meta["uid"])
        return Step(Outcome(Result.REMOVED, EXPIRED, "RetentionOver", f"expired DevNamespace removed after "
                            f"{ctx.settings.expired_retention}", namespace=due.namespace), None, due.expires)
    act = {Action.WARN: _warn, Action.REARM: _rearm, Action.EXPIRE: _expire}[due.action]
    outcome, status = act(ctx, body, due, now)
    if not write_status(ctx.kube, body, status) and outcome is not None and outcome.result is Result.WOULD_EXPIRE:
        outcome.result = Result.UNCHANGED  # dry-run, already reported
    return Step(outcome, due.next_wake, due.expires)


def _blocked(ctx: Context, body: Mapping[str, Any], due: ExpiryDue, now: dt.datetime) -> Step:
    """Expired (or past retention), but devns cannot prove the namespace is its own: say so once, delete nothing,
    and wait for a change (the key comes back with a restart)."""
    problem = ctx.key_problem
    message = (f"expired at {format_time(due.expires)}; namespace {due.namespace} is not deleted: devns has no "
               f"signing key to prove it is its own ({problem.reason}: {problem.message})")
    status = {"conditions": _conditions(body, EXPIRED, "False", problem.reason, message, now)}
    outcome = Outcome(Result.BLOCKED, (body.get("status") or {}).get("phase") or "Ready", problem.reason, message,
                      namespace=due.namespace)
    if not write_status(ctx.kube, body, status):
        return Step(None, None, due.expires)  # said before
    outcome.status = status  # news: its Event is posted
    return Step(outcome, None, due.expires)


def write_status(kube: Kube, body: Mapping[str, Any], desired: dict[str, Any]) -> bool:
    """Patch the status keys that differ; no request at all when none does. True when it wrote."""
    patch = status_patch(body.get("status"), desired)
    if not patch:
        return False
    try:
        kube.patch_status("DevNamespace", body["metadata"]["name"], patch)
    except ApiError as exc:
        if exc.status != 404:  # a DevNamespace deleted meanwhile needs no status
            raise
    return True


def _conditions(body: Mapping[str, Any], type_: str, status: str, reason: str, message: str,
                now: dt.datetime) -> list[dict[str, Any]]:
    return set_condition(list((body.get("status") or {}).get("conditions") or []), type=type_, status=status,
                         reason=reason, message=message, generation=body["metadata"].get("generation"), now=now)


def _warn(ctx: Context, body: Mapping[str, Any], due: ExpiryDue, now: dt.datetime):
    name, ns, phase = body["metadata"]["name"], due.namespace, (body.get("status") or {}).get("phase")
    message = (f"namespace {ns} expires at {format_time(due.expires)} (in less than {due.plan.warn}); extend it "
               f"with: kubectl patch devnamespace {name} --type merge -p '{{\"spec\":{{\"ttl\":\"<longer>\"}}}}'")
    if ctx.kube.get("Namespace", ns) is not None:
        namespace_event(ctx.kube, ns, "ExpiringSoon", message, now)
    status = {"phase": EXPIRING if phase in ("Ready", EXPIRING) else phase,
              "warningsSent": list(due.plan.warnings_sent),
              "conditions": _conditions(body, EXPIRING, "True", "WarningSent", message, now)}
    return Outcome(Result.WARNED, EXPIRING, "ExpiringSoon", message, namespace=ns), status


def _rearm(ctx: Context, body: Mapping[str, Any], due: ExpiryDue, now: dt.datetime):
    phase = (body.get("status") or {}).get("phase")
    message = f"expires at {format_time(due.expires)}" if due.expires else "never expires"
    status = {"phase": "Ready" if phase == EXPIRING else phase, "warningsSent": list(due.plan.warnings_sent),
              "conditions": _conditions(body, EXPIRING, "False", "Extended", message, now)}
    return None, status


def _expire(ctx: Context, body: Mapping[str, Any], due: ExpiryDue, now: dt.datetime):
    kube, settings, ns, expires = ctx.kube, ctx.settings, due.namespace, due.expires
    status = body.get("status") or {}
    actual = kube.get("Namespace", ns)
    ref = ctx.desired.get(body).ref
    deletable = actual is not None and is_ours(actual, ref, ctx.key) and not settings.is_reserved(ns)
    if settings.dry_run:
        message = (f"expired at {format_time(expires)}; dry-run: would delete namespace {ns}" if deletable else
                   f"expired at {format_time(expires)}; dry-run: nothing to delete")
        return (Outcome(Result.WOULD_EXPIRE, status.get("phase") or "Ready", "DryRun", message, namespace=ns),
                {"conditions": _conditions(body, EXPIRED, "True", "DryRun", message, now)})
    if deletable and not actual["metadata"].get("deletionTimestamp"):
        kube.delete("Namespace", ns, uid=actual["metadata"]["uid"])
        message = f"expired at {format_time(expires)}; namespace {ns} and everything in it deleted"
    else:
        message = f"expired at {format_time(expires)}; namespace {ns} is gone"
    desired = ready_status(status, phase=EXPIRED, ready=False, reason="Expired", message=message,
                           generation=body["metadata"].get("generation"), namespace=ns, expires_at=expires, now=now)
    return (Outcome(Result.EXPIRED, EXPIRED, "Expired", message, namespace=ns, expires_at=expires),
            {**desired, "expiredAt": format_time(now)})
