"""Make reality match a DevNamespace: read actual state, compute desired state (pure), apply the difference.

The only module that talks to the Kubernetes API (through ``kube.Kube``). Callers pass the DevNamespace body and
the clock; each function returns an ``Outcome`` saying what happened, which the Kopf handlers turn into Events,
metrics and retries. Nothing here writes when nothing differs: children and status are compared first.

Safety: a namespace is devns's only if its ``devns.io/created-by`` annotation names this DevNamespace's UID.
A namespace devns did not create is never modified or deleted; a new namespace is created with POST, which fails
if someone else's namespace appeared meanwhile.

Requests: a new DevNamespace costs one POST per object (the namespace, then its children: nothing to read in a
namespace created a moment ago) and one status patch. Later changes are server-side applies of what differs.
The status of a reconcile is not written here: it is returned in ``Outcome.status`` and the Kopf handler adds it
to the patch Kopf writes anyway (with its own bookkeeping, in the same request).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping

from pydantic import ValidationError

from . import expiry, gc
from .diff import needs_apply
from .kube import FIELD_MANAGER, ApiError, Kube
from .models import DevNamespaceSpec, explain_validation_error
from .render import (ANN_CREATED_BY, CHILD_KINDS, LABEL_DEVNAMESPACE, MANAGED_BY, MANAGER, DevNamespaceRef,
                     SpecProblem, namespace_name, render)
from .settings import Settings
from .status import ready_status, set_condition, status_patch
from .units import format_time, parse_time

log = logging.getLogger(__name__)


EXPIRING = "Expiring"


@dataclass(frozen=True)
class Context:
    """What every reconcile needs: the API, the settings, and the key that signs devns's namespaces.

    ``rendered`` memoises the desired state per DevNamespace (uid -> generation, expiry, desired objects) for
    drift checks: a burst of child events (7 per new DevNamespace) costs one render, and status writes (which
    leave the generation alone) none. ``finalize`` drops the entry of a DevNamespace that is gone.
    """

    kube: Kube
    settings: Settings
    key: bytes
    rendered: dict = field(default_factory=dict, compare=False, repr=False)


def ensure_gc_key(kube: Kube, settings: Settings) -> bytes:
    """Read the signing key from its Secret, creating the Secret (and the operator's namespace) on first start."""
    ns, name = settings.operator_namespace, settings.gc_key_secret
    secret = kube.get("Secret", name, ns)
    if secret is None:
        if kube.get("Namespace", ns) is None:
            try:
                kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {
                    "name": ns, "labels": {"app.kubernetes.io/name": "devns"}}})
            except ApiError as exc:
                if exc.status != 409:
                    raise
        key = secrets.token_bytes(32)
        try:
            kube.create({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                         "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/name": "devns"}},
                         "data": {"key": base64.b64encode(key).decode()}})
            return key
        except ApiError as exc:
            if exc.status != 409:  # another replica created it first: use theirs
                raise
            secret = kube.get("Secret", name, ns)
    return base64.b64decode(secret["data"]["key"])


class Retry(Exception):
    """A transient condition (API error, namespace still terminating): try again after ``delay`` seconds."""

    def __init__(self, message: str, delay: float = 5.0):
        super().__init__(message)
        self.delay = delay


@dataclass
class Outcome:
    """What a reconcile did, for Events, metrics and the handler's return."""

    result: str  # created | updated | unchanged | failed | retry | deleting | deleted
    phase: str
    reason: str
    message: str
    applied: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    namespace: str | None = None
    expires_at: dt.datetime | None = None
    retry_after: float | None = None
    status: dict[str, Any] | None = None  # the status keys to patch (None: the status is already right)

    @property
    def status_changed(self) -> bool:
        """The status changes: a new state worth announcing."""
        return bool(self.status)


def ref_of(body: Mapping[str, Any]) -> DevNamespaceRef:
    meta = body["metadata"]
    return DevNamespaceRef(name=meta["name"], uid=meta["uid"], created=parse_time(meta["creationTimestamp"]))


def is_ours(namespace: Mapping[str, Any] | None, ref: DevNamespaceRef, key: bytes) -> bool:
    """Devns created this namespace for this DevNamespace: ``created-by`` names its UID and the proof verifies.
    Labels are not consulted: anyone may copy or remove them."""
    meta = (namespace or {}).get("metadata", {})
    return (meta.get("annotations") or {}).get(ANN_CREATED_BY) == ref.created_by and gc.proof_valid(key, namespace)


def _describe(obj: Mapping[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def write_status(kube: Kube, body: Mapping[str, Any], desired: dict[str, Any]) -> bool:
    """Patch the status keys that differ; no request at all when none does."""
    patch = status_patch(body.get("status"), desired)
    if not patch:
        return False
    try:
        kube.patch_status("DevNamespace", body["metadata"]["name"], patch)
    except ApiError as exc:
        if exc.status != 404:  # a DevNamespace deleted meanwhile needs no status
            raise
    return True


def reconcile(ctx: Context, body: Mapping[str, Any], now: dt.datetime) -> Outcome:
    """Create or update the namespace and its children for ``body``; ``Outcome.status`` is the status to record.

    An expired DevNamespace is left to the expiry timer: its namespace is not re-created.
    """
    settings = ctx.settings
    ref = ref_of(body)
    generation = body["metadata"].get("generation")
    status = body.get("status") or {}
    ns = (body.get("spec") or {}).get("namespace") or ref.name
    expires_at: dt.datetime | None = None  # shown in the status only when the spec was applied
    try:
        try:
            spec = DevNamespaceSpec.model_validate(body.get("spec") or {})
        except ValidationError as exc:
            raise SpecProblem("InvalidSpec", explain_validation_error(exc)) from None
        ns = namespace_name(ref.name, spec)
        expires_at = expiry.effective_expiry(spec, ref.created, settings)
        if expires_at is not None and now >= expires_at:
            # the expiry timer owns what happens now; nothing to apply, nothing to announce
            return Outcome("skipped", status.get("phase") or "Expired", "Expired",
                           f"expired at {format_time(expires_at)}", namespace=ns, expires_at=expires_at)
        desired = render(ref, spec, settings, expires_at, gc.proof_for(ctx.key, ns, ref.uid))
        outcome = _apply(ctx, ref, desired, first=not status.get("phase"))
        outcome.expires_at = expires_at
    except SpecProblem as problem:
        outcome = Outcome("failed", "Failed", problem.reason, str(problem), namespace=ns)
    except ApiError as exc:
        if exc.retriable or exc.status == 403:  # 403: the operator's RBAC may be fixed; keep trying, slowly
            outcome = Outcome("retry", status.get("phase") or "Pending", "ApiError", str(exc), namespace=ns,
                              retry_after=5.0 if exc.retriable else 60.0)
        else:
            outcome = Outcome("failed", "Failed", "ApplyRejected", str(exc), namespace=ns)
    except Retry as exc:
        outcome = Outcome("retry", "Pending", "Waiting", str(exc), namespace=ns, retry_after=exc.delay)

    phase = outcome.phase
    if phase == "Ready" and status.get("phase") == EXPIRING:
        phase = EXPIRING  # the expiry timer owns that distinction
    keep_expiry = expires_at if outcome.result not in ("failed", "retry") else status.get("expiresAt")
    desired_status = ready_status(status, phase=phase, ready=outcome.phase == "Ready", reason=outcome.reason,
                                  message=outcome.message, generation=generation, namespace=outcome.namespace,
                                  expires_at=keep_expiry, now=now)
    outcome.status = status_patch(status, desired_status)
    return outcome


def _apply(ctx: Context, ref: DevNamespaceRef, desired, first: bool) -> Outcome:
    """``first``: the DevNamespace has no status yet, so its namespace most likely does not exist: create it
    without asking first (a 409 then reads what is there)."""
    kube = ctx.kube
    ns = desired.namespace_name
    actual = None if first else kube.get("Namespace", ns)
    created = False
    if actual is None:
        try:
            kube.create(desired.namespace, parse=False)
            created = True
        except ApiError as exc:
            if exc.status != 409:
                raise
            actual = kube.get("Namespace", ns)  # someone else's appeared meanwhile: check it below
    if actual is not None and not is_ours(actual, ref, ctx.key):
        claimed = ((actual.get("metadata", {}).get("annotations") or {}).get(ANN_CREATED_BY))
        who = f"is managed by DevNamespace {claimed.split('/')[0]}" if claimed else "was not created by devns"
        raise SpecProblem("NamespaceConflict", f"namespace {ns!r} already exists and {who}; devns never adopts "
                                               "or modifies a namespace it does not own")
    if actual is not None and actual.get("metadata", {}).get("deletionTimestamp"):
        raise Retry(f"namespace {ns!r} is still terminating; waiting for it to be gone", delay=2.0)

    applied: list[str] = [f"Namespace/{ns}"] if created else []
    removed: list[str] = []
    if not created and needs_apply(desired.namespace, actual, FIELD_MANAGER):
        kube.apply(desired.namespace, actual)
        applied.append(f"Namespace/{ns}")
    selector = f"{LABEL_DEVNAMESPACE}={ref.name},{MANAGED_BY}={MANAGER}"
    for kind in CHILD_KINDS:
        wanted = [c for c in desired.children if c["kind"] == kind]
        scope = ns if kind != "ClusterRoleBinding" else None
        if created and (scope or first):
            # A namespace created a moment ago holds nothing yet, and a DevNamespace never reconciled before (no
            # status) has no cluster-scoped children either: create them, nothing to read first.
            for child in wanted:
                _create(kube, child)
                applied.append(_describe(child))
            continue
        present = {o["metadata"]["name"]: o for o in kube.list(kind, namespace=scope, selector=selector)}
        for child in wanted:
            current = present.get(child["metadata"]["name"])
            if needs_apply(child, current, FIELD_MANAGER):
                kube.apply(child, current)
                applied.append(_describe(child))
        names = {c["metadata"]["name"] for c in wanted}
        for name, obj in present.items():
            if name not in names and _owned_by(obj, ref):
                kube.delete(kind, name, scope, uid=obj["metadata"]["uid"])
                removed.append(f"{kind}/{name}")

    result = "created" if created else "updated" if applied or removed else "unchanged"
    return Outcome(result, "Ready", "Provisioned", f"namespace {ns} is ready", applied=applied, removed=removed,
                   namespace=ns)


def _create(kube: Kube, obj: dict[str, Any]) -> None:
    """POST ``obj``; if it exists after all (a ClusterRoleBinding left by an interrupted first attempt), apply."""
    try:
        kube.create(obj, parse=False)
    except ApiError as exc:
        if exc.status != 409:
            raise
        kube.apply(obj)


def _owned_by(obj: Mapping[str, Any], ref: DevNamespaceRef) -> bool:
    return any(o.get("uid") == ref.uid for o in obj.get("metadata", {}).get("ownerReferences") or [])


def finalize(ctx: Context, body: Mapping[str, Any], now: dt.datetime) -> Outcome:
    """On deletion: delete the namespace (only if ours) and wait until it is gone; report it if it is stuck.
    Like ``reconcile``, it returns the status to record in ``Outcome.status``."""
    kube, settings = ctx.kube, ctx.settings
    ref = ref_of(body)
    status = body.get("status") or {}
    ns = status.get("namespace") or (body.get("spec") or {}).get("namespace") or ref.name
    actual = kube.get("Namespace", ns)
    for crb in kube.list("ClusterRoleBinding", selector=f"{LABEL_DEVNAMESPACE}={ref.name},{MANAGED_BY}={MANAGER}"):
        if _owned_by(crb, ref):
            kube.delete("ClusterRoleBinding", crb["metadata"]["name"], uid=crb["metadata"]["uid"])
    if actual is None or not is_ours(actual, ref, ctx.key) or settings.is_reserved(ns):
        ctx.rendered.pop(ref.uid, None)
        return Outcome("deleted", "Terminating", "Deleted", f"namespace {ns} is gone", namespace=ns)
    deleting_since = actual["metadata"].get("deletionTimestamp")
    if not deleting_since:
        kube.delete("Namespace", ns, uid=actual["metadata"]["uid"])
        deleting_since_dt = now
    else:
        deleting_since_dt = parse_time(deleting_since)
    stuck = now - deleting_since_dt >= settings.stuck_terminating_delta
    if stuck:
        details = "; ".join(f"{c.get('type')}: {c.get('message')}" for c in
                            (actual.get("status") or {}).get("conditions") or [] if c.get("status") == "True")
        message = (f"namespace {ns} has been terminating since {deleting_since}: {details or 'no reason given'}")
        reason = "NamespaceStuckTerminating"
    else:
        message, reason = f"deleting namespace {ns} and everything in it", "Deleting"
    desired = ready_status(status, phase="Terminating", ready=False, reason=reason, message=message,
                           generation=body["metadata"].get("generation"), namespace=ns,
                           expires_at=status.get("expiresAt"), now=now)
    # each Kopf retry writes its progress: poll every 5 s, not faster
    return Outcome("deleting", "Terminating", reason, message, namespace=ns, retry_after=5.0,
                   status=status_patch(status, desired))


# -- expiry -------------------------------------------------------------------------------------------------------

@dataclass
class Step:
    """One run of the expiry timer: what it did (if anything) and when it must run next (None = on change only)."""

    outcome: Outcome | None
    next_wake: dt.datetime | None
    expires_at: dt.datetime | None = None
    warning: str | None = None


def _namespace_event(kube: Kube, ns: str, reason: str, message: str, now: dt.datetime, type_: str = "Warning") -> None:
    """An Event in the namespace itself, so `kubectl get events -n <ns>` shows it."""
    stamp = format_time(now)
    kube.create({"apiVersion": "v1", "kind": "Event",
                 "metadata": {"generateName": f"{ns}.devns-", "namespace": ns},
                 "involvedObject": {"apiVersion": "v1", "kind": "Namespace", "name": ns, "namespace": ns},
                 "reason": reason, "message": message, "type": type_, "count": 1,
                 "firstTimestamp": stamp, "lastTimestamp": stamp,
                 "source": {"component": "devns"}, "reportingComponent": "devns", "reportingInstance": "devns"})


@dataclass(frozen=True)
class ExpiryDue:
    """What the expiry timer must do now for a DevNamespace, and when to look again. ``action`` None: nothing."""

    action: str | None  # None | "remove" (retention over) | "expire" | "warn" | "rearm" (extended: forget warnings)
    next_wake: dt.datetime | None
    expires: dt.datetime | None = None
    namespace: str = ""
    plan: expiry.Plan | None = None


def expiry_due(ctx: Context, body: Mapping[str, Any], now: dt.datetime) -> ExpiryDue:
    """Pure: decide from the DevNamespace, the settings and the clock. The timer calls it on the event loop and
    goes to a worker thread (``expiry_step``) only when there is something to do."""
    settings = ctx.settings
    ref = ref_of(body)
    status = body.get("status") or {}
    if body["metadata"].get("deletionTimestamp"):
        return ExpiryDue(None, None)
    try:
        spec = DevNamespaceSpec.model_validate(body.get("spec") or {})
        expires = expiry.effective_expiry(spec, ref.created, settings)
    except (ValidationError, SpecProblem):
        return ExpiryDue(None, None)  # reconcile reports it; the timer waits for a fixed spec
    ns = namespace_name(ref.name, spec)
    if status.get("phase") == "Expired" and not (expires is not None and now < expires):  # (not extended)
        expired_at = parse_time(status["expiredAt"]) if status.get("expiredAt") else now
        retention_end = expired_at + settings.expired_retention_delta
        return ExpiryDue("remove" if now >= retention_end else None, retention_end, expires, ns)
    sent = list(status.get("warningsSent") or [])
    p = expiry.plan(expires, sent, now, settings.warn_before_deltas, ref.created)
    if p.expired:
        return ExpiryDue("expire", now + settings.expired_retention_delta if not settings.dry_run else None,
                         expires, ns, p)
    action = "warn" if p.warn else "rearm" if list(p.warnings_sent) != sent else None
    return ExpiryDue(action, p.next_wake, expires, ns, p)


def expiry_step(ctx: Context, body: Mapping[str, Any], now: dt.datetime) -> Step:
    """Warn, expire, or remove an expired DevNamespace after its retention; say when to look again."""
    kube, settings = ctx.kube, ctx.settings
    due = expiry_due(ctx, body, now)
    ns, expires, p = due.namespace, due.expires, due.plan
    if due.action is None:
        return Step(None, due.next_wake, expires)
    ref = ref_of(body)
    status = body.get("status") or {}
    if due.action == "remove":
        kube.delete("DevNamespace", ref.name, uid=ref.uid)
        return Step(Outcome("removed", "Expired", "RetentionOver",
                            f"expired DevNamespace removed after {settings.expired_retention}", namespace=ns),
                    None, expires)
    if due.action == "expire":
        return Step(_expire(ctx, body, ref, ns, expires, now), due.next_wake, expires)
    generation = body["metadata"].get("generation")
    conditions = list(status.get("conditions") or [])
    if due.action == "warn":
        message = (f"namespace {ns} expires at {format_time(expires)} (in less than {p.warn}); extend it with: "
                   f"kubectl patch devnamespace {ref.name} --type merge -p '{{\"spec\":{{\"ttl\":\"<longer>\"}}}}'")
        if kube.get("Namespace", ns) is not None:
            _namespace_event(kube, ns, "ExpiringSoon", message, now)
        conditions = set_condition(conditions, type=EXPIRING, status="True", reason="WarningSent",
                                   message=message, generation=generation, now=now)
        write_status(kube, body, {"phase": EXPIRING if status.get("phase") in ("Ready", EXPIRING) else
                                  status.get("phase"), "warningsSent": list(p.warnings_sent),
                                  "conditions": conditions})
        return Step(Outcome("warned", EXPIRING, "ExpiringSoon", message, namespace=ns), p.next_wake, expires,
                    warning=p.warn)
    # rearm: extended, so forget the warnings that are no longer due and leave Expiring
    conditions = set_condition(conditions, type=EXPIRING, status="False", reason="Extended",
                               message=f"expires at {format_time(expires)}" if expires else "never expires",
                               generation=generation, now=now)
    phase = "Ready" if status.get("phase") == EXPIRING else status.get("phase")
    write_status(kube, body, {"phase": phase, "warningsSent": list(p.warnings_sent), "conditions": conditions})
    return Step(None, p.next_wake, expires)


def _expire(ctx: Context, body: Mapping[str, Any], ref: DevNamespaceRef, ns: str, expires: dt.datetime,
            now: dt.datetime) -> Outcome:
    kube, settings = ctx.kube, ctx.settings
    status = body.get("status") or {}
    generation = body["metadata"].get("generation")
    conditions = list(status.get("conditions") or [])
    actual = kube.get("Namespace", ns)
    deletable = actual is not None and is_ours(actual, ref, ctx.key) and not settings.is_reserved(ns)
    if settings.dry_run:
        message = (f"expired at {format_time(expires)}; dry-run: would delete namespace {ns}" if deletable else
                   f"expired at {format_time(expires)}; dry-run: nothing to delete")
        conditions = set_condition(conditions, type="Expired", status="True", reason="DryRun", message=message,
                                   generation=generation, now=now)
        changed = write_status(kube, body, {"conditions": conditions})
        return Outcome("would-expire" if changed else "unchanged", status.get("phase") or "Ready", "DryRun",
                       message, namespace=ns)
    if deletable and not actual["metadata"].get("deletionTimestamp"):
        kube.delete("Namespace", ns, uid=actual["metadata"]["uid"])
        message = f"expired at {format_time(expires)}; namespace {ns} and everything in it deleted"
    else:
        message = f"expired at {format_time(expires)}; namespace {ns} is gone"
    desired = ready_status(status, phase="Expired", ready=False, reason="Expired", message=message,
                           generation=generation, namespace=ns, expires_at=expires, now=now)
    write_status(kube, body, {**desired, "expiredAt": format_time(now)})
    return Outcome("expired", "Expired", "Expired", message, namespace=ns, expires_at=expires)


# -- orphans ------------------------------------------------------------------------------------------------------

def _reported_before(kube: Kube, ns: str, reason: str) -> bool:
    """An Event devns already posted in the namespace (reported once, also across restarts, while it lasts)."""
    return bool(kube.list("Event", namespace=ns, fields=f"involvedObject.name={ns},reason={reason}"))


def collect_orphan(ctx: Context, namespace: Mapping[str, Any], reported: set[str], now: dt.datetime) -> Outcome | None:
    """A namespace labelled as devns's whose DevNamespace is not known: delete it if devns provably created it
    and its DevNamespace is really gone (read again here); otherwise report the look-alike once."""
    kube, settings = ctx.kube, ctx.settings
    verdict = gc.judge(namespace, ctx.key, settings.is_reserved)
    if verdict is None:
        return None
    ns = verdict.namespace
    if not verdict.orphan:
        if verdict.uid in reported or _reported_before(kube, ns, "NotManagedByDevns"):
            reported.add(verdict.uid)
            return None
        reported.add(verdict.uid)
        message = (f"namespace {ns} is labelled as managed by devns but carries no valid devns proof; "
                   "devns leaves it alone")
        _namespace_event(kube, ns, "NotManagedByDevns", message, now)
        return Outcome("lookalike", "", "NotManagedByDevns", message, namespace=ns)
    name, _, uid = verdict.claimed_by.partition("/")
    owner = kube.get("DevNamespace", name)
    if owner is not None and owner["metadata"]["uid"] == uid:
        return None  # our in-memory view lagged: not an orphan
    if settings.dry_run:
        if verdict.uid in reported or _reported_before(kube, ns, "WouldDeleteOrphan"):
            reported.add(verdict.uid)
            return None
        reported.add(verdict.uid)
        message = f"dry-run: would delete orphaned namespace {ns} (its DevNamespace {name} is gone)"
        _namespace_event(kube, ns, "WouldDeleteOrphan", message, now)
        return Outcome("would-delete-orphan", "", "DryRun", message, namespace=ns)
    if not kube.delete("Namespace", ns, uid=verdict.uid):
        return None
    return Outcome("orphan-deleted", "", "OrphanDeleted",
                   f"deleted orphaned namespace {ns}: its DevNamespace {name} is gone", namespace=ns)


# -- drift --------------------------------------------------------------------------------------------------------

def desired_now(ctx: Context, body: Mapping[str, Any], now: dt.datetime):
    """The desired objects of a live, valid, unexpired DevNamespace, or None (then there is nothing to guard)."""
    if body["metadata"].get("deletionTimestamp"):
        return None
    ref = ref_of(body)
    generation = body["metadata"].get("generation")
    memo = ctx.rendered.get(ref.uid)
    if memo is None or memo[0] != generation:  # only a spec change makes a new generation
        try:
            spec = DevNamespaceSpec.model_validate(body.get("spec") or {})
            expires = expiry.effective_expiry(spec, ref.created, ctx.settings)
            ns = namespace_name(ref.name, spec)
            memo = (generation, expires, render(ref, spec, ctx.settings, expires, gc.proof_for(ctx.key, ns, ref.uid)))
        except (ValidationError, SpecProblem):
            memo = (generation, None, None)
        ctx.rendered[ref.uid] = memo
    _, expires, desired = memo
    if expires is not None and now >= expires:
        return None
    return desired


def drifted(ctx: Context, body: Mapping[str, Any], kind: str, name: str, event_type: str | None,
            actual: Mapping[str, Any] | None, now: dt.datetime) -> dict[str, Any] | None:
    """The desired object a watch event's ``actual`` has drifted from, or None when it is in order or not
    devns's to guard. Pure and cheap (the desired state is memoised per DevNamespace version), so it runs for
    every event; a DELETED event always returns the desired object, ``repair`` then looks at what is there."""
    desired = desired_now(ctx, body, now)
    if desired is None:
        return None
    if kind == "Namespace":
        want = desired.namespace if desired.namespace_name == name else None
    else:
        want = next((c for c in desired.children if c["kind"] == kind and c["metadata"]["name"] == name), None)
    if want is None or event_type == "DELETED":
        return want
    return want if _needs_repair(ctx, body, want, actual) else None


def _needs_repair(ctx: Context, body: Mapping[str, Any], want: dict[str, Any],
                  current: Mapping[str, Any] | None) -> bool:
    """``current`` differs from ``want``; a namespace is never re-created, nor touched unless it is ours."""
    if want["kind"] == "Namespace" and (current is None or not is_ours(current, ref_of(body), ctx.key)
                                        or current["metadata"].get("deletionTimestamp")):
        return False
    return needs_apply(want, current, FIELD_MANAGER)


def repair(ctx: Context, body: Mapping[str, Any], want: dict[str, Any], event_type: str | None,
           actual: dict[str, Any] | None, now: dt.datetime) -> Outcome | None:
    """Restore ``want`` (from ``drifted``) over ``actual`` (the object the event carried). A DELETED event may also
    mean "no longer matches our label selector", so then the object is read first: re-created if gone, restored
    if changed, left alone if in order."""
    kind, name, scope = want["kind"], want["metadata"]["name"], want["metadata"].get("namespace")
    current = actual
    try:
        if event_type == "DELETED":
            current = ctx.kube.get(kind, name, scope)
            if not _needs_repair(ctx, body, want, current):
                return None
        ctx.kube.apply(want, current)
    except ApiError as exc:
        if exc.status in (403, 404, 409):  # namespace terminating or gone, or a concurrent reconcile won
            log.info(f"repair of {kind}/{name} skipped: {exc}")
            return None
        raise
    what = "re-created" if current is None else "restored"
    desired = desired_now(ctx, body, now)
    return Outcome("repaired", "Ready", "DriftRepaired", f"{what} {kind}/{name} to its declared state",
                   applied=[f"{kind}/{name}"], namespace=desired.namespace_name if desired else scope)
