"""Provisioning (create, update, resume) and finalize: make the namespace and its children match the desired
state, and delete the namespace when the DevNamespace goes.

Reads actual state, compares it with ``desired_for`` (through the context's cache) and writes only what differs.
A new DevNamespace costs one POST per object (the namespace, then its children: nothing to read in a namespace
created a moment ago). Later changes are server-side applies of what differs; children devns owns but no longer
wants are deleted. The status is not written here: it is returned in ``Outcome.status`` and the Kopf handler adds
it to the patch Kopf writes anyway (with its own bookkeeping, in the same request).

Safety: a namespace is devns's only if its ``devns.io/created-by`` annotation names this DevNamespace's UID and
its proof verifies (``is_ours``). A namespace devns did not create is never modified or deleted; a new namespace
is created with POST, which fails if someone else's namespace appeared meanwhile. The proof is bound to the uid the
API server gives the namespace, so it is written right after the POST (one merge patch, before any child), and
declared by every later apply; a namespace with a proof in the format before v2 gets the new one the same way, once.
Without a signing key devns may use (``Context.key_problem``) nothing is created or changed: the DevNamespace keeps
its phase and says why it is not Ready.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Iterable, Mapping

from .. import budgets, gc, idle
from ..contract import ANN_CREATED_BY, ANN_PROOF, CHILD_KINDS, KIND, KINDS, SEED_ONLY_KINDS, children_selector
from ..desired import Desired, namespace_of, ref_of
from ..kube import ApiError, Kube
from ..outcome import Outcome, Result
from ..render import DevNamespaceRef, SpecProblem
from ..requesters import OVER_BUDGET, OVER_LIMIT, Peer, peer_of, used_before, waiting_for
from ..status import EXPIRING, SLEEPING, ready_status, set_condition, status_patch
from ..trust import CONDITION as SOURCES_TRUSTED, Decision, listed as trust_listed
from ..units import format_time, parse_time
from .seeding import amend, create_seed, is_seed, write_seed, write_unread
from .context import Context, Retry, describe, is_cluster_view_binding, is_ours, owned_by, recheck, write


def reconcile(ctx: Context, body: Mapping[str, Any], now: dt.datetime, peers: Iterable[Peer] = (),
              sources: Decision | None = None,
              bodies: Callable[[str], Mapping[str, Any] | None] = lambda uid: None) -> Outcome:
    """Create or update the namespace and its children for ``body``; ``Outcome.status`` is the status to record.

    An expired DevNamespace is left to the lifecycle: its namespace is not re-created. One with a limit per
    requester (self-service) that is not provisioned yet is checked against ``peers`` (every DevNamespace) first.
    ``sources``: the judgement of its sources of ingress (``trust``; None: nothing listed is trusted); the
    trusted ones are rendered, and the status says which were refused and why.
    """
    status = body.get("status") or {}
    desired = ctx.desired.get(body, sources.granted if sources is not None else ())
    ns = desired.namespace if isinstance(desired, Desired) else namespace_of(body)
    try:
        if isinstance(desired, SpecProblem):
            raise desired
        expires_at, because = idle.effective_expiry(desired.expires_at, desired.idle, body)
        if expires_at is not None and now >= expires_at:
            # the lifecycle owns what happens now; nothing to apply, nothing to announce
            return Outcome(Result.SKIPPED, status.get("phase") or "Expired", "Expired",
                           f"expired at {format_time(expires_at)}", namespace=ns, expires_at=expires_at)
        if desired.problem is not None:
            raise desired.problem
        if status.get("phase") not in ("Ready", EXPIRING, SLEEPING):
            _judge_room(ctx, desired, body, list(peers), bodies, now)
        if ctx.key is None:
            outcome = Outcome(Result.BLOCKED, status.get("phase") or "Pending", ctx.key_problem.reason,
                              ctx.key_problem.message, namespace=ns)
        else:
            outcome = _apply(ctx, desired, first=not status.get("phase"),
                             fresh=status.get("phase") in (None, "", "Pending"), seeded=status.get("seeds") or [])
        outcome.expires_at, outcome.expires_because = expires_at, because
        if desired.notice and outcome.phase == "Ready":
            outcome.message = f"{outcome.message}; {desired.notice}"
    except SpecProblem as problem:
        outcome = Outcome(Result.FAILED, "Failed", problem.reason, str(problem), namespace=ns)
    except ApiError as exc:
        if exc.retriable or exc.status == 403:  # 403: the operator's RBAC may be fixed; keep trying, slowly
            outcome = Outcome(Result.RETRY, status.get("phase") or "Pending", "ApiError", str(exc), namespace=ns,
                              retry_after=5.0 if exc.retriable else 60.0)
        elif exc.status == 422 and "no params found" in str(exc):
            # an admission policy's settings (a ConfigMap) are missing: the cluster's state, not the spec's; it
            # fails closed until an admin puts them back, then this goes on by itself
            outcome = Outcome(Result.RETRY, status.get("phase") or "Pending", "PolicySettingsMissing",
                              f"{exc}: an admission policy's settings are missing; retrying until they are back",
                              namespace=ns, retry_after=10.0)
        else:
            outcome = Outcome(Result.FAILED, "Failed", "ApplyRejected", str(exc), namespace=ns)
    except Retry as exc:
        outcome = Outcome(Result.RETRY, "Pending", "Waiting", str(exc), namespace=ns, retry_after=exc.delay)
    except OverBudget as exc:
        outcome = Outcome(Result.WAITING, "Pending", OVER_BUDGET, str(exc), namespace=ns)

    phase = outcome.phase
    if phase == "Ready" and status.get("phase") in (EXPIRING, SLEEPING):
        phase = status["phase"]  # the lifecycle owns those distinctions
    keep_expiry = (outcome.expires_at if outcome.result not in (Result.FAILED, Result.RETRY)
                   else status.get("expiresAt"))
    ready = outcome.phase == "Ready" and outcome.result is not Result.BLOCKED
    desired_status = ready_status(status, phase=phase, ready=ready, reason=outcome.reason,
                                  message=outcome.message, generation=body["metadata"].get("generation"),
                                  namespace=outcome.namespace, expires_at=keep_expiry, now=now)
    desired_status["expiresBecause"] = (idle.because_status(keep_expiry, outcome.expires_because)
                                        if keep_expiry is outcome.expires_at else status.get("expiresBecause"))
    # the class that applied (spec.class or the default one); kept as it was when the spec cannot be read
    desired_status["class"] = desired.class_name if isinstance(desired, Desired) else status.get("class")
    # the class's seeds as applied; as they were when nothing was applied
    applied_all = outcome.result in (Result.CREATED, Result.UPDATED, Result.UNCHANGED)
    desired_status["seeds"] = outcome.seeds if applied_all else status.get("seeds")
    # what the namespace now matches (``resumed_unchanged``); as it was when nothing was applied
    desired_status["rendered"] = (desired.fingerprint(ctx.key) if applied_all and isinstance(desired, Desired)
                                  and ctx.key is not None else status.get("rendered"))
    if sources is not None and outcome.result in (Result.CREATED, Result.UPDATED, Result.UNCHANGED):
        desired_status.update(_sources_status(desired_status, sources, body["metadata"].get("generation"), now))
    outcome.status = status_patch(status, desired_status)
    return outcome


def resumed_unchanged(ctx: Context, body: Mapping[str, Any], now: dt.datetime) -> bool:
    """Pure: the status proves a resume would change nothing, so a start-up need not read the namespace. It says
    the namespace was made to match (``status.rendered``) exactly what this spec, class and key render now, at
    this generation, Ready (or Expiring, Sleeping) with the message a reconcile would write, and expiring when it
    would. DevNamespaces listing sources of ingress take the full path (their judgement may need reads). What
    changed in the cluster while the operator was down is found by the verification after the start-up
    (``handlers_lifecycle``), which reads every namespace again."""
    status, meta = body.get("status") or {}, body["metadata"]
    if (ctx.key is None or meta.get("deletionTimestamp") or status.get("phase") not in ("Ready", EXPIRING, SLEEPING)
            or status.get("observedGeneration") != meta.get("generation") or trust_listed(body)):
        return False
    desired = ctx.desired.get(body, ())
    if not isinstance(desired, Desired) or desired.problem is not None:
        return False
    expires_at, _ = idle.effective_expiry(desired.expires_at, desired.idle, body)
    if (expires_at is not None and now >= expires_at) or status.get("expiresAt") != (expires_at and
                                                                                      format_time(expires_at)):
        return False
    message = f"namespace {desired.namespace} is ready" + (f"; {desired.notice}" if desired.notice else "")
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    return (ready.get("status") == "True" and ready.get("message") == message
            and status.get("class") == desired.class_name and status.get("rendered") == desired.fingerprint(ctx.key))


def _sources_status(status: dict[str, Any], sources: Decision, generation: int | None,
                    now: dt.datetime) -> dict[str, Any]:
    """``status.trustedSources`` and the ``SourcesTrusted`` condition; neither when nothing is listed."""
    verdict = sources.condition()
    conditions = list(status.get("conditions") or [])
    if verdict is None:  # nothing listed (any more): no condition
        conditions = [c for c in conditions if c.get("type") != SOURCES_TRUSTED]
    else:
        conditions = set_condition(conditions, type=SOURCES_TRUSTED, status=verdict[0], reason=verdict[1],
                                   message=verdict[2], generation=generation, now=now)
    return {**sources.status(), "conditions": conditions}


def _judge_room(ctx: Context, desired: Desired, body: Mapping[str, Any], peers: list[Peer],
                bodies: Callable[[str], Mapping[str, Any] | None], now: dt.datetime) -> None:
    """The requester's limit, then the class's budget (``peers``: none when neither applies). One DevNamespace at a
    time, and one that fits holds its room (``ctx.claims``) until the indexes show its status: two judged at the
    same moment cannot both take the last room."""
    if not peers:
        return
    with ctx.claims.judging:
        peers = ctx.claims.merged(peers)
        _check_room(body, peers, now)
        _check_budget(ctx, desired, body, peers, bodies, now)
        ctx.claims.claim(peer_of(body, desired.class_name))


def _check_room(body: Mapping[str, Any], peers: Iterable[Peer], now: dt.datetime) -> None:
    """Raise OverLimit when the requester's live DevNamespaces leave no room for this one (nothing is created)."""
    me = peer_of(body)
    if me.limit is None:
        return
    requester, used = used_before(me, peers, now)
    if used >= me.limit:
        raise SpecProblem(OVER_LIMIT, f"{requester} already has {me.limit} live DevNamespaces, the self-service "
                                      "limit: this one is provisioned by itself as soon as one of them is deleted "
                                      "or expires")


def peer_for(ctx: Context, body: Mapping[str, Any]) -> Peer:
    """What the requester limit and the class budgets need of ``body``, with the class that applies now."""
    desired = ctx.desired.get(body)
    return peer_of(body, desired.class_name if isinstance(desired, Desired) else None)


def budgeted(ctx: Context, peer: Peer) -> bool:
    """Whether ``peer``'s class has a budget (then provisioning it looks at the others)."""
    return budgets.has_budget(ctx.desired.classes.snapshot().get(peer.class_name) if peer.class_name else None)


class OverBudget(Exception):
    """The DevNamespace does not fit its class's budget: it waits, Pending."""


def _check_budget(ctx: Context, desired: Desired, body: Mapping[str, Any], peers: Iterable[Peer],
                  bodies: Callable[[str], Mapping[str, Any] | None], now: dt.datetime) -> None:
    """Raise OverBudget when the live DevNamespaces of its class leave no room for this one (nothing is created).
    ``bodies``: uid -> another DevNamespace (identity and spec), whose quota the desired-state cache knows."""
    cls = ctx.desired.classes.snapshot().get(desired.class_name) if desired.class_name else None
    if not budgets.has_budget(cls):
        return

    def quota_of(peer: Peer) -> Mapping[str, str] | None:
        other = bodies(peer.uid)
        theirs = ctx.desired.get(other) if other is not None else None
        return theirs.objects.quota_hard if isinstance(theirs, Desired) and theirs.objects is not None else None
    why = budgets.check(peer_of(body, desired.class_name), desired.objects.quota_hard, peers, cls, now, quota_of)
    if why:
        raise OverBudget(f"{why}: this one waits, nothing created, and is provisioned by itself when room appears "
                         "(one of them is deleted or expires, or the budget is raised)")


def make_room(ctx: Context, requester: str | None, peers: Iterable[Peer], now: dt.datetime,
              class_name: str | None = None) -> list[str]:
    """A DevNamespace of ``requester`` (of class ``class_name``) is gone: touch the ones waiting for room under
    that requester's limit or in that class's budget (one annotation each) so they are provisioned again, in
    creation order; the names touched."""
    peers = list(peers)
    waiting = {p.uid: p for p in waiting_for(requester, peers)}
    if class_name:
        waiting.update({p.uid: p for p in budgets.waiting_in(class_name, peers)})
    return recheck(ctx, sorted(waiting.values(), key=lambda p: (p.created, p.name)), now)


def _apply(ctx: Context, desired: Desired, first: bool, fresh: bool, seeded: list[dict[str, str]]) -> Outcome:
    """``first``: the DevNamespace has no status yet, so its namespace most likely does not exist: create it
    without asking first (a 409 then reads what is there). ``fresh``: it was never provisioned, so its namespace
    may lack the proof still (a crash right after the POST: see ``is_ours``). ``seeded``: ``status.seeds``, what
    the class seeded so far (``seeding``)."""
    kube, ref, objects, key = ctx.kube, desired.ref, desired.objects, ctx.key
    ns = desired.namespace
    actual = None if first else kube.get("Namespace", ns)
    created = False
    if actual is None:
        try:
            actual = kube.create(objects.namespace)  # its uid, for the proof
            created = True
        except ApiError as exc:
            if exc.status != 409:
                raise
            actual = kube.get("Namespace", ns)  # someone else's appeared meanwhile: check it below
    if not created and actual is not None and not is_ours(actual, ref, key, unsigned_ok=fresh):
        claimed = (actual.get("metadata", {}).get("annotations") or {}).get(ANN_CREATED_BY)
        who = f"is managed by DevNamespace {claimed.split('/')[0]}" if claimed else "was not created by devns"
        raise SpecProblem("NamespaceConflict", f"namespace {ns!r} already exists and {who}; devns never adopts "
                                               "or modifies a namespace it does not own")
    if not created and actual is not None and actual.get("metadata", {}).get("deletionTimestamp"):
        raise Retry(f"namespace {ns!r} is still terminating; waiting for it to be gone", delay=2.0)

    applied: list[str] = [f"Namespace/{ns}"] if created else []
    removed: list[str] = []
    if created:  # the proof, before any child: a namespace devns made is never without one for long
        kube.annotate("Namespace", ns, {ANN_PROOF: gc.proof_for(key, ns, actual["metadata"]["uid"], ref.uid)},
                      uid=actual["metadata"]["uid"])
    elif actual is not None and write(kube, desired.namespace_for(actual["metadata"]["uid"], key), actual):
        applied.append(f"Namespace/{ns}")
    entries = [dict(e) for e in objects.seeds]
    before = {(e["kind"], e["name"]): e for e in seeded}
    for kind in CHILD_KINDS:
        wanted = objects.of_kind(kind)
        if kind in SEED_ONLY_KINDS and not wanted and not any(k == kind for k, _ in before):
            continue  # no seeds of this kind, now or before: nothing to read
        scope = ns if KINDS[kind].namespaced else None
        if not KINDS[kind].readable:
            done, gone = write_unread(kube, ns, kind, wanted, entries, before, fresh=created)
            applied += done
            removed += gone
            continue
        if created and (scope or first):
            # A namespace created a moment ago holds nothing yet, and a DevNamespace never reconciled before (no
            # status) has no cluster-scoped children either: create them, nothing to read first.
            for child in wanted:
                create_seed(kube, child) if is_seed(child) else _create(kube, child)
                applied.append(describe(child))
            continue
        present = {o["metadata"]["name"]: o for o in kube.list(kind, namespace=scope,
                                                               selector=children_selector(ref.name))}
        for child in wanted:
            current = present.get(child["metadata"]["name"])
            if write_seed(kube, child, current) if is_seed(child) else write(kube, child, current):
                applied.append(describe(child))
        names = {c["metadata"]["name"] for c in wanted}
        for name, obj in present.items():
            if name not in names and owned_by(obj, ref):
                kube.delete(kind, name, scope, uid=obj["metadata"]["uid"])
                removed.append(f"{kind}/{name}")
    for amendment in objects.amendments:
        if amend(kube, amendment):
            applied.append(f"{describe(amendment)} (imagePullSecrets)")

    result = Result.CREATED if created else Result.UPDATED if applied or removed else Result.UNCHANGED
    return Outcome(result, "Ready", "Provisioned", f"namespace {ns} is ready", applied=applied, removed=removed,
                   namespace=ns, seeds=entries or None)


def _create(kube: Kube, obj: dict[str, Any]) -> None:
    """POST ``obj``; if it exists after all (a ClusterRoleBinding left by an interrupted first attempt), apply."""
    try:
        kube.create(obj, parse=False)
    except ApiError as exc:
        if exc.status != 409:
            raise
        kube.apply(obj)


def finalize(ctx: Context, body: Mapping[str, Any], now: dt.datetime) -> Outcome:
    """On deletion: delete the namespace (only if ours) and wait until it is gone; report it if it is stuck.
    Like ``reconcile``, it returns the status to record in ``Outcome.status``."""
    kube, settings = ctx.kube, ctx.settings
    ref: DevNamespaceRef = ref_of(body)
    status = body.get("status") or {}
    ns = namespace_of(body)
    actual = kube.get("Namespace", ns)
    for crb in kube.list("ClusterRoleBinding", selector=children_selector(ref.name)):
        # deleted with --cascade=orphan, the garbage collector may have stripped the ownerReference already
        unowned = not any(o.get("kind") == KIND for o in crb["metadata"].get("ownerReferences") or [])
        if owned_by(crb, ref) or (unowned and is_cluster_view_binding(crb, settings) == ref.name):
            kube.delete("ClusterRoleBinding", crb["metadata"]["name"], uid=crb["metadata"]["uid"])
    if actual is None or not is_ours(actual, ref, ctx.key) or settings.is_reserved(ns):
        ctx.desired.drop(ref.uid)
        return Outcome(Result.DELETED, "Terminating", "Deleted", f"namespace {ns} is gone", namespace=ns)
    deleting_since = actual["metadata"].get("deletionTimestamp")
    if not deleting_since:
        kube.delete("Namespace", ns, uid=actual["metadata"]["uid"])
        deleting_since_dt = now
    else:
        deleting_since_dt = parse_time(deleting_since)
    if now - deleting_since_dt >= settings.stuck_terminating_delta:
        details = "; ".join(f"{c.get('type')}: {c.get('message')}" for c in
                            (actual.get("status") or {}).get("conditions") or [] if c.get("status") == "True")
        message = f"namespace {ns} has been terminating since {deleting_since}: {details or 'no reason given'}"
        reason = "NamespaceStuckTerminating"
    else:
        message, reason = f"deleting namespace {ns} and everything in it", "Deleting"
    desired = ready_status(status, phase="Terminating", ready=False, reason=reason, message=message,
                           generation=body["metadata"].get("generation"), namespace=ns,
                           expires_at=status.get("expiresAt"), now=now)
    # each Kopf retry writes its progress: poll every 5 s, not faster
    return Outcome(Result.DELETING, "Terminating", reason, message, namespace=ns, retry_after=5.0,
                   status=status_patch(status, desired))
