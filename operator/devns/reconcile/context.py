"""What every reconcile path shares: the ``Context`` (API, settings, signing key, the typed per-process state)
and the few helpers more than one path needs (ownership checks, Events in a namespace, the one write an object
needs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .. import gc
from ..contract import (ANN_CREATED_BY, ANN_RECHECK, CLUSTER_VIEW_BINDING_PREFIX, FIELD_MANAGER, KIND, KINDS,
                        LABEL_DEVNAMESPACE, MANAGED_BY, MANAGER)
from ..desired import DesiredCache
from ..diff import Change, change_needed, needs_apply
from ..kube import ApiError, Kube
from ..render import DevNamespaceRef
from ..requesters import Claims
from ..settings import Settings
from ..units import format_time


@dataclass(frozen=True)
class KeyProblem:
    """Why devns has no signing key it may use (``reason``: the condition reason; ``message``: what to do). Without
    one, devns signs and deletes nothing: it cannot prove which namespaces are its own."""

    reason: str  # KEY_MISSING or KEY_MISMATCH
    message: str

    @property
    def missing(self) -> bool:
        return self.reason == KEY_MISSING


KEY_MISSING, KEY_MISMATCH = "SigningKeyMissing", "SigningKeyMismatch"


@dataclass(frozen=True)
class Context:
    """The API, the settings and the key that signs devns's namespaces, built once at start-up; and the state a
    running operator keeps: the desired state per DevNamespace (``desired``) and the namespaces whose look-alike
    or dry-run report was already posted (``reported``, by namespace uid).

    ``key`` is None exactly when ``key_problem`` says why (the key Secret is missing, or holds a key that signed
    none of the namespaces found): read once at start-up (``bootstrap``), so a restored Secret is used after a
    restart. ``foreign_proofs``: managed namespaces found at start-up whose proof another key made."""

    kube: Kube
    settings: Settings
    key: bytes | None
    key_problem: KeyProblem | None = None
    foreign_proofs: int = 0
    desired: DesiredCache = field(init=False, compare=False, repr=False)
    reported: set[str] = field(default_factory=set, compare=False, repr=False)
    #: DevNamespace uid -> when its sleeping namespace was last looked at for activity (``lifecycle``).
    looked: dict[str, dt.datetime] = field(default_factory=dict, compare=False, repr=False)
    #: Room under a requester's limit or a class's budget judged but not yet in a status (``provision``).
    claims: Claims = field(default_factory=Claims, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "desired", DesiredCache(self.settings))


class Retry(Exception):
    """A transient condition (namespace still terminating): try again after ``delay`` seconds."""

    def __init__(self, message: str, delay: float = 5.0):
        super().__init__(message)
        self.delay = delay


def is_ours(namespace: Mapping[str, Any] | None, ref: DevNamespaceRef, key: bytes | None, *,
            unsigned_ok: bool = False) -> bool:
    """Devns created this namespace for this DevNamespace: ``created-by`` names its UID and its proof verifies,
    bound to this namespace (``gc.Proof.BOUND``) or in the format before v2 (``LEGACY``: re-proved by the next
    write). Labels are not consulted: anyone may copy or remove them. Without a key, nothing is provably ours.

    ``unsigned_ok`` (only for a DevNamespace never provisioned, ``provision``): a namespace with no proof at all
    that devns's field manager created after the DevNamespace is ours too: a crash between the POST and the proof
    leaves one (a copy made by others carries the copied proof, and only the operator and cluster admins may
    create namespaces carrying devns.io/* annotations)."""
    meta = (namespace or {}).get("metadata", {})
    if key is None or (meta.get("annotations") or {}).get(ANN_CREATED_BY) != ref.created_by:
        return False
    proof = gc.proof_of(key, namespace)
    if proof in (gc.Proof.BOUND, gc.Proof.LEGACY):
        return True
    return unsigned_ok and proof is gc.Proof.ABSENT and gc.created_unsigned(namespace, ref.created)


def owned_by(obj: Mapping[str, Any], ref: DevNamespaceRef | str) -> bool:
    """``obj`` has an ownerReference to this DevNamespace (``ref``, or its uid)."""
    uid = ref if isinstance(ref, str) else ref.uid
    return any(o.get("uid") == uid for o in obj.get("metadata", {}).get("ownerReferences") or [])


def recheck(ctx: Context, devnamespaces: Iterable[Any], now: dt.datetime) -> list[str]:
    """Touch each DevNamespace (``.name`` and ``.uid``; one annotation each, only that uid) so Kopf reconciles it
    again: how the limit per requester and the trust of sources wake the ones whose situation changed without
    polling. The value has microseconds: two wakes in one second must both change the object. The names touched."""
    touched = []
    for obj in devnamespaces:
        try:
            ctx.kube.annotate(KIND, obj.name, {ANN_RECHECK: now.astimezone(dt.timezone.utc).isoformat()},
                              uid=obj.uid)
            touched.append(obj.name)
        except ApiError as exc:
            if exc.status not in (404, 409):  # gone or replaced meanwhile
                raise
    return touched


def is_cluster_view_binding(binding: Mapping[str, Any], settings: Settings) -> str | None:
    """The DevNamespace name a ClusterRoleBinding is devns's cluster-view binding for (its labels, name and role
    are exactly what devns creates), or None."""
    meta = binding.get("metadata", {})
    labels = meta.get("labels") or {}
    name = labels.get(LABEL_DEVNAMESPACE, "")
    if (labels.get(MANAGED_BY) == MANAGER and name and meta.get("name") == f"{CLUSTER_VIEW_BINDING_PREFIX}{name}"
            and (binding.get("roleRef") or {}).get("name") == settings.cluster_view_role):
        return name
    return None


def write(kube: Kube, want: dict[str, Any], current: dict[str, Any] | None) -> bool:
    """Make ``current`` (None: it does not exist) match ``want`` with the one write it needs; False if none. An
    object that lacks only annotations (a namespace's proof, re-proved after an upgrade or after a crash right
    after its POST, with whatever else a new version adds there) gets them with one merge patch, as a new
    namespace gets its proof."""
    change = change_needed(want, current, FIELD_MANAGER)
    missing = _missing_annotations(want, current) if change is Change.APPLY else None
    if missing:
        meta = want["metadata"]
        kube.annotate(want["kind"], meta["name"], missing, meta.get("namespace"), uid=current["metadata"]["uid"])
    elif change is Change.REPLACE:
        kube.replace(want, current)
    elif change is Change.APPLY:
        kube.apply(want, current)
    return change is not Change.NONE


def _missing_annotations(want: dict[str, Any], current: dict[str, Any] | None) -> dict[str, str] | None:
    """The annotations ``want`` declares that ``current`` lacks or holds otherwise, when setting them is all it
    needs (nothing to remove, nothing else different); else None."""
    if current is None:
        return None
    have = current["metadata"].get("annotations") or {}
    missing = {k: v for k, v in (want["metadata"].get("annotations") or {}).items() if have.get(k) != v}
    patched = {**current, "metadata": {**current["metadata"], "annotations": {**have, **missing}}}
    return missing if missing and not needs_apply(want, patched, FIELD_MANAGER) else None


def describe(obj: Mapping[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def namespace_event(kube: Kube, ns: str, reason: str, message: str, now: dt.datetime,
                    type_: str = "Warning") -> None:
    """An Event in the namespace itself, so `kubectl get events -n <ns>` shows it."""
    stamp = format_time(now)
    kube.create({"apiVersion": KINDS["Event"].api_version, "kind": "Event",
                 "metadata": {"generateName": f"{ns}.devns-", "namespace": ns},
                 "involvedObject": {"apiVersion": KINDS["Namespace"].api_version, "kind": "Namespace", "name": ns,
                                    "namespace": ns},
                 "reason": reason, "message": message, "type": type_, "count": 1,
                 "firstTimestamp": stamp, "lastTimestamp": stamp,
                 "source": {"component": "devns"}, "reportingComponent": "devns", "reportingInstance": "devns"})

