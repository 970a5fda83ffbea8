"""The lifecycle of a DevNamespace: expiry warnings, expiry, removal after the retention, and idle reclamation
(sleep, wake, and expiry for inactivity: ``idle`` decides, ``idling`` acts).

``expiry_due`` decides, without the API, what is due now and when to look again (the handlers call it on the
event loop for every wake-up); ``expiry_step`` does it: posts the warning, deletes the namespace, or removes the
expired DevNamespace, and records the result in the status through ``write_status``, the lifecycle's one status
writer. (Provisioning's status rides on the patch Kopf writes after each handler; the lifecycle runs in a
long-lived daemon whose Kopf patch would only be written when it exits, so it writes its own, only what differs.)
Without a signing key devns may use (``Context.key_problem``), warnings still go out but nothing is deleted: at
expiry the ``Expired`` condition says why (``Result.BLOCKED``, once) and the namespace stays until a restart with
the key restored.

With ``spec.idle``, the expiry is the earlier of the TTL's and activity + deleteAfter (``status.expiresBecause``
says which), and sleep is due at activity + sleepAfter. Both are only times to look: the namespace is listed
then (``Action.CHECK`` comes first), and newer activity is recorded (``status.lastActivity``) and moves them. A
sleeping namespace is looked at again every sleepAfter (the time of the last look is kept in memory, so that
costs no write), and woken by ``kubectl devns wake``, a spec change, or its owners' own use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Mapping

from .. import expiry, idle
from ..desired import Desired
from ..kube import ApiError, Kube
from ..outcome import Outcome, Result
from ..status import EXPIRED, EXPIRING, INACTIVE, SLEEPING, ready_status, set_condition, status_patch
from ..units import format_duration, format_time, parse_time
from .idling import activity, sleep_namespace, wake_namespace
from .context import Context, is_ours, namespace_event


class Action(StrEnum):
    """What the lifecycle must do now."""

    WARN = "warn"  # a warning lead time has come
    REARM = "rearm"  # extended: forget warnings no longer due, leave Expiring
    EXPIRE = "expire"  # the expiry has come: delete the namespace
    REMOVE = "remove"  # the retention after expiry is over: delete the DevNamespace
    SLEEP = "sleep"  # no activity for sleepAfter: scale down and suspend (after a look for newer activity)
    WAKE = "wake"  # asleep and woken (kubectl devns wake, a spec change): restore what sleep did
    LOOK = "look"  # asleep: look for the owners' own use (which wakes it)


@dataclass(frozen=True)
class ExpiryDue:
    """What is due now for a DevNamespace (``action`` None: nothing), and when to look again (None: only when
    the DevNamespace changes)."""

    action: Action | None
    next_wake: dt.datetime | None
    expires: dt.datetime | None = None
    namespace: str = ""
    plan: expiry.Plan | None = None
    because: str = "ttl"  # which deadline ``expires`` is: "ttl", or "inactivity" (spec.idle)
    activity: dt.datetime | None = None  # the last activity known (spec.idle set), else None

    @property
    def looks_first(self) -> bool:
        """The namespace must be listed for newer activity before this action is taken."""
        return self.action in (Action.SLEEP, Action.LOOK) or (
            self.because == "inactivity" and self.action in (Action.WARN, Action.EXPIRE))


@dataclass
class Step:
    """One run of the lifecycle: what it did (if anything) and when it must run next (None = on change only)."""

    outcome: Outcome | None
    next_wake: dt.datetime | None
    expires_at: dt.datetime | None = None


def expiry_due(ctx: Context, body: Mapping[str, Any], now: dt.datetime) -> ExpiryDue:
    """Pure: decide from the DevNamespace, its desired state (cached), the settings and the clock (and, for a
    sleeping namespace, when it was last looked at: ``Context.looked``)."""
    settings = ctx.settings
    if body["metadata"].get("deletionTimestamp"):
        return ExpiryDue(None, None)
    desired = ctx.desired.get(body)
    if not isinstance(desired, Desired):
        return ExpiryDue(None, None)  # provisioning reports it; the lifecycle waits for a fixed spec
    status = body.get("status") or {}
    expires, ns, because, activity, sleep_at = desired.expires_at, desired.namespace, "ttl", None, None
    sleeping = status.get("phase") == SLEEPING
    if sleeping and not desired.idle.active:  # the idle policy was removed: nothing keeps it asleep
        return ExpiryDue(Action.WAKE, None, expires, ns, activity=now)
    if desired.idle.active and status.get("phase") != EXPIRED:
        activity = idle.known_activity(body)
        since = parse_time(status["sleepingSince"]) if sleeping and status.get("sleepingSince") else None
        if since is not None and activity >= since:  # (times have whole seconds: a wake in the second it slept)
            return ExpiryDue(Action.WAKE, None, expires, ns, because=because, activity=activity)
        expires, because = idle.effective_expiry(expires, desired.idle, body)
        sleep_at = idle.sleep_at(desired.idle, activity, sleeping)
        if since is not None and desired.idle.sleep_after is not None:  # asleep: look for use now and then
            sleep_at = max(since, ctx.looked.get(desired.ref.uid, since)) + desired.idle.sleep_after
        if sleep_at is not None and _dry_run_reported(status, sleep_at):
            sleep_at = None
    if status.get("phase") == EXPIRED and not (expires is not None and now < expires):  # (not extended)
        expired_at = parse_time(status["expiredAt"]) if status.get("expiredAt") else now
        retention_end = expired_at + settings.expired_retention_delta
        return ExpiryDue(Action.REMOVE if now >= retention_end else None, retention_end, expires, ns)
    sent = list(status.get("warningsSent") or [])
    p = expiry.plan(expires, sent, now, settings.warn_before_deltas,
                    activity if because == "inactivity" else desired.ref.created)
    if p.expired:
        return ExpiryDue(Action.EXPIRE, now + settings.expired_retention_delta if not settings.dry_run else None,
                         expires, ns, p, because, activity)
    action = Action.WARN if p.warn else Action.REARM if list(p.warnings_sent) != sent else None
    if action is None and sleep_at is not None and now >= sleep_at:
        action = Action.LOOK if sleeping else Action.SLEEP
    wakes = [t for t in (p.next_wake, sleep_at) if t is not None]
    return ExpiryDue(action, min(wakes, default=None), expires, ns, p, because, activity)


def _dry_run_reported(status: Mapping[str, Any], sleep_at: dt.datetime) -> bool:
    """Dry-run said at or after ``sleep_at`` what a sleep would do: nothing more to do until new activity."""
    said = next((c for c in status.get("conditions") or [] if c.get("type") == SLEEPING), None)
    return bool(said and said.get("reason") == "DryRun" and parse_time(said["lastTransitionTime"]) >= sleep_at)


def expiry_step(ctx: Context, body: Mapping[str, Any], now: dt.datetime) -> Step:
    """Do what ``expiry_due`` says is due; say when to look again."""
    due = expiry_due(ctx, body, now)
    if due.action is None:
        return Step(None, due.next_wake, due.expires)
    if due.looks_first:
        objects = activity(ctx.kube, due.namespace)
        found = idle.newest(due.activity, objects)
        if due.action is Action.LOOK and idle.running(objects):
            found = max(found, now)  # scaled up since the last look
        ctx.looked[body["metadata"]["uid"]] = now
        if found > due.activity:  # in use after all: record it, and plan again from there
            recorded = {**(body.get("status") or {}), "lastActivity": format_time(found)}
            write_status(ctx.kube, body, {"lastActivity": recorded["lastActivity"],
                                          **expiry_status(ctx, {**body, "status": recorded})})
            return expiry_step(ctx, {**body, "status": recorded}, now)
        if due.action is Action.LOOK:
            return Step(None, expiry_due(ctx, body, now).next_wake, due.expires)
    if due.action in (Action.SLEEP, Action.WAKE):
        outcome, status = (_sleep(ctx, body, due, now, objects) if due.action is Action.SLEEP
                           else _wake(ctx, body, due, now))
        after = {**body, "status": {**(body.get("status") or {}), **status}}
        status.update(expiry_status(ctx, after))
        if not write_status(ctx.kube, body, status) and outcome.result is Result.WOULD_SLEEP:
            outcome.result = Result.UNCHANGED  # dry-run, already reported
        return Step(outcome, expiry_due(ctx, after, now).next_wake, due.expires)
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


def expiry_status(ctx: Context, body: Mapping[str, Any]) -> dict[str, Any]:
    """``expiresAt`` and ``expiresBecause`` as ``body`` (its status as about to be recorded) makes them."""
    desired = ctx.desired.get(body)
    if not isinstance(desired, Desired):
        return {}
    expires, because = idle.effective_expiry(desired.expires_at, desired.idle, body)
    return {"expiresAt": expires and format_time(expires), "expiresBecause": idle.because_status(expires, because)}


def _sleep(ctx: Context, body: Mapping[str, Any], due: ExpiryDue, now: dt.datetime, listed: list[dict[str, Any]]):
    """Scale down and suspend what the look found (dry-run: say what would be); phase Sleeping, an Event in the
    namespace."""
    name, ns, dry_run = body["metadata"]["name"], due.namespace, ctx.settings.dry_run
    done = sleep_namespace(ctx.kube, ns, dry_run, listed)
    idle_for = format_duration(now - due.activity)
    what = ", ".join(done) or "nothing was running"
    if dry_run:
        message = f"no activity for {idle_for}; dry-run: would scale down or suspend: {what}"
        return (Outcome(Result.WOULD_SLEEP, (body.get("status") or {}).get("phase") or "Ready", "DryRun", message,
                        namespace=ns),
                {"conditions": _conditions(body, SLEEPING, "False", "DryRun", message, now)})
    message = (f"asleep after {idle_for} without activity: {what} scaled down or suspended; wake it with: "
               f"kubectl devns wake {name} (or use it: scale a workload up)")
    if done:
        namespace_event(ctx.kube, ns, "Sleeping", message, now, type_="Normal")
    status = {"phase": SLEEPING, "sleepingSince": format_time(now), "lastActivity": format_time(due.activity),
              "conditions": _conditions(body, SLEEPING, "True", "Idle", message, now)}
    return Outcome(Result.SLEPT, SLEEPING, "Sleeping", message, applied=done, namespace=ns), status


def _wake(ctx: Context, body: Mapping[str, Any], due: ExpiryDue, now: dt.datetime):
    """Restore exactly what sleep did; phase Ready again."""
    ns = due.namespace
    done = wake_namespace(ctx.kube, ns)
    message = f"woken at {format_time(now)}: {', '.join(done) or 'nothing to restore'}"
    namespace_event(ctx.kube, ns, "Woken", message, now, type_="Normal")
    # the sleep clock starts again from the wake itself (the owners want it now), or from a later use
    status = {"phase": "Ready", "sleepingSince": None, "lastActivity": format_time(max(due.activity, now)),
              "conditions": _conditions(body, SLEEPING, "False", "Woken", message, now)}
    return Outcome(Result.WOKEN, "Ready", "Woken", message, applied=done, namespace=ns), status


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
    if due.because == "inactivity":
        message = (f"namespace {ns} is deleted at {format_time(due.expires)} (in less than {due.plan.warn}): no "
                   f"activity since {format_time(due.activity)}; keep it by using it, or: kubectl devns wake {name}")
    else:
        message = (f"namespace {ns} expires at {format_time(due.expires)} (in less than {due.plan.warn}); extend "
                   f"it with: kubectl patch devnamespace {name} --type merge -p "
                   "'{\"spec\":{\"ttl\":\"<longer>\"}}'")
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
    why = (f"no activity since {format_time(due.activity)}: expired for inactivity" if due.because == "inactivity"
           else "expired")
    reason = INACTIVE if due.because == "inactivity" else "Expired"
    actual = kube.get("Namespace", ns)
    ref = ctx.desired.get(body).ref
    deletable = actual is not None and is_ours(actual, ref, ctx.key) and not settings.is_reserved(ns)
    if settings.dry_run:
        message = (f"{why} at {format_time(expires)}; dry-run: would delete namespace {ns}" if deletable else
                   f"{why} at {format_time(expires)}; dry-run: nothing to delete")
        return (Outcome(Result.WOULD_EXPIRE, status.get("phase") or "Ready",
                        INACTIVE if due.because == "inactivity" else "DryRun", message, namespace=ns),
                {"conditions": _conditions(body, EXPIRED, "True", "DryRun", message, now)})
    if deletable and not actual["metadata"].get("deletionTimestamp"):
        kube.delete("Namespace", ns, uid=actual["metadata"]["uid"])
        message = f"{why} at {format_time(expires)}; namespace {ns} and everything in it deleted"
    else:
        message = f"{why} at {format_time(expires)}; namespace {ns} is gone"
    desired = ready_status(status, phase=EXPIRED, ready=False, reason=reason, message=message,
                           generation=body["metadata"].get("generation"), namespace=ns, expires_at=expires, now=now)
    return (Outcome(Result.EXPIRED, EXPIRED, reason, message, namespace=ns, expires_at=expires),
            {**desired, "expiredAt": format_time(now), "expiresBecause": idle.because_status(expires, due.because)})
