"""The desired state of a DevNamespace: the one function every reconcile path calls, and its cache. Pure.

``desired_for(body, settings)`` validates the spec, works out the namespace name and the expiry, and renders the
objects devns keeps; the namespace's proof of authorship is bound to the namespace's own uid, so
``Desired.namespace_for`` adds it for a given namespace uid. A spec that is invalid, or asks for a lifetime the
settings refuse, is a ``SpecProblem`` (returned, not raised: callers branch on the type). A valid spec that breaks
a settings rule at render time (a role not allowed, a reserved namespace) still has a lifetime, so it gives a
``Desired`` with ``problem`` set and no objects: such a DevNamespace is not provisioned, but it still expires.

A DevNamespaceClass (``classes``) puts its defaults under the spec and its policy over the settings before any of
this, and its seeds (``seeds``, copies made from the ``sources``) among the objects after; a class that is named
but missing is a ``SpecProblem`` (ClassNotFound).

``DesiredCache`` memoises the result per (uid, generation, class version, the versions of the class's seed
sources, trusted sources of ingress): only a spec, class or source change makes a new version, so the watch events
of a new DevNamespace's children, its status writes and its expiry checks share one render; the trusted sources
(``trust``) change when other DevNamespaces do. It keeps the ``CACHE_SIZE`` most recently used, so memory does
not grow with the number of DevNamespaces.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Mapping

from pydantic import ValidationError

from . import classes as class_rules, expiry, gc, seeds
from .idle import IdlePolicy
from .classes import ClassRef, ClassRegistry
from .contract import ANN_REQUESTER
from .models import DevNamespaceSpec, Idle, explain_validation_error
from .render import DevNamespaceRef, Rendered, SpecProblem, render
from .seeds import Source, SourceRegistry
from .settings import Settings
from .units import parse_time


@dataclass(frozen=True)
class Desired:
    """What one version (generation) of a DevNamespace asks for."""

    ref: DevNamespaceRef
    generation: int | None
    spec: DevNamespaceSpec
    namespace: str
    expires_at: dt.datetime | None  # None: never
    objects: Rendered | None  # None exactly when ``problem`` is set
    problem: SpecProblem | None = None
    class_name: str | None = None  # the DevNamespaceClass that applied (spec.class or the default), if any
    notice: str | None = None  # what the Ready condition should also say (the class is being deleted)
    idle: IdlePolicy = IdlePolicy()  # spec.idle, else the class's, else the settings' (``idle``)

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def fingerprint(self, key: bytes) -> str:
        """16 hex digits of what provisioning makes the namespace match: the rendered objects (the namespace
        without its proof, which binds to the namespace's uid), the amendments, and the signing key's id."""
        objects = self.objects
        text = json.dumps([gc.key_id(key), objects.namespace, objects.children, objects.amendments], sort_keys=True,
                          separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def namespace_for(self, namespace_uid: str, key: bytes) -> dict[str, Any]:
        """The desired namespace with the proof (``gc``) for the namespace whose uid is ``namespace_uid``: what
        devns writes right after creating it, and every apply of it declares (so the proof stays devns's)."""
        proof = gc.proof_for(key, self.namespace, namespace_uid, self.ref.uid)
        return gc.with_proof(self.objects.namespace, proof)


def ref_of(body: Mapping[str, Any]) -> DevNamespaceRef:
    meta = body["metadata"]
    return DevNamespaceRef(name=meta["name"], uid=meta["uid"], created=parse_time(meta["creationTimestamp"]),
                           requester=(meta.get("annotations") or {}).get(ANN_REQUESTER))


def namespace_of(body: Mapping[str, Any]) -> str:
    """The namespace a DevNamespace names, read from the raw spec (so also when the spec is invalid)."""
    return (body.get("spec") or {}).get("namespace") or body["metadata"]["name"]


def desired_for(body: Mapping[str, Any], settings: Settings, trusted_sources: tuple[str, ...] = (),
                classes: Mapping[str, ClassRef] | None = None,
                sources: Mapping[tuple[str, str], Source] | None = None) -> Desired | SpecProblem:
    """The desired state of ``body`` (a DevNamespace as the API returns it); uncached, see ``DesiredCache``.
    ``trusted_sources``: the listed sources of ingress devns trusts now (``trust``: they depend on other
    DevNamespaces, so the caller works them out). ``classes``: the DevNamespaceClasses by name; ``sources``: the
    ConfigMaps and Secrets their seeds may copy (of ``settings.seed_source_namespace``)."""
    ref = ref_of(body)
    class_name, cls = class_rules.class_of(body.get("spec") or {}, classes or {})
    if class_name is not None and cls is None:
        return SpecProblem("ClassNotFound", f"DevNamespaceClass {class_name!r} does not exist: create it, or set "
                                            "spec.class to one of `kubectl get devnamespaceclasses`")
    raw, settings = class_rules.apply_class(body.get("spec") or {}, settings, cls)
    try:
        spec = DevNamespaceSpec.model_validate(raw)
    except ValidationError as exc:
        return SpecProblem("InvalidSpec", explain_validation_error(exc))
    ns = spec.namespace or ref.name
    try:
        expires_at = expiry.effective_expiry(spec, ref.created, settings, policy=_policy(cls))
    except SpecProblem as problem:
        return problem
    generation = body["metadata"].get("generation")
    try:
        class_rules.check_allowed(raw, cls)
        objects = render(ref, spec, settings, namespace=ns, expires_at=expires_at, trusted_sources=trusted_sources)
        class_rules.check_maxima(objects.quota_hard, cls)
        idle = spec.idle if spec.idle is not None else settings_idle(settings)
        class_rules.check_idle(idle, cls)
        if cls is not None:
            objects = seeds.seeded(objects, cls.spec.seed, cls.name, ref, settings.seed_kinds, sources or {},
                                   settings.seed_source_namespace)
    except SpecProblem as problem:
        return Desired(ref, generation, spec, ns, expires_at, None, problem, class_name)
    return Desired(ref, generation, spec, ns, expires_at, objects, None, class_name, cls and cls.notice,
                   IdlePolicy.of(idle))


def settings_idle(settings: Settings) -> Idle | None:
    """The operator's default idle policy (DEVNS_IDLE_SLEEP_AFTER, DEVNS_IDLE_DELETE_AFTER), or None."""
    values = {"sleepAfter": settings.idle_sleep_after, "deleteAfter": settings.idle_delete_after}
    kept = {k: v for k, v in values.items() if v.strip().lower() not in ("none", "never")}
    return Idle.model_validate(kept) if kept else None


def _policy(cls: ClassRef | None) -> str:
    """Whose rules a refusal names."""
    return "the operator's" if cls is None else f"class {cls.name}'s"


#: How many DevNamespaces' desired states the cache keeps (the most recently used): about 15 KiB each, so the
#: operator's memory stays flat past this many DevNamespaces; a miss renders again (about a millisecond).
CACHE_SIZE = 2048


class DesiredCache:
    """uid -> the desired state of the DevNamespace's latest generation seen, for the ``size`` most recently used
    DevNamespaces (the new ones are the busy ones: their children's watch events and status writes; an old one
    needs it again only for a drift repair or a deadline). Thread-safe: one lock around the bookkeeping; a race
    renders the same value twice and one of them is kept."""

    def __init__(self, settings: Settings, classes: ClassRegistry | None = None,
                 sources: SourceRegistry | None = None, size: int = CACHE_SIZE):
        self.settings = settings
        self.classes = classes if classes is not None else ClassRegistry()
        self.sources = sources if sources is not None else SourceRegistry(settings.seed_source_namespace)
        self.size = size
        self._entries: OrderedDict[str, tuple[Any, tuple[str, ...], Desired | SpecProblem]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, body: Mapping[str, Any], trusted_sources: tuple[str, ...] | None = None) -> Desired | SpecProblem:
        """Keyed by (uid, generation, class and seed source versions, trusted sources). ``trusted_sources`` None:
        any entry of this version will do (the lifecycle needs the expiry, not the objects); provisioning and drift
        repair pass theirs."""
        meta = body["metadata"]
        uid, classes = meta["uid"], self.classes.snapshot()
        name, cls = class_rules.class_of(body.get("spec") or {}, classes)
        version = (meta.get("generation"), name, None if cls is None else (
            cls.generation, cls.deleting, self.sources.versions(seeds.sources_of(cls.spec.seed))))
        with self._lock:
            entry = self._entries.get(uid)
            if entry is not None:
                self._entries.move_to_end(uid)
        if entry is None or entry[0] != version or trusted_sources not in (None, entry[1]):
            trusted = tuple(trusted_sources or ())
            entry = (version, trusted, desired_for(body, self.settings, trusted, classes, self.sources.snapshot()))
            with self._lock:
                self._entries[uid] = entry
                self._entries.move_to_end(uid)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return entry[2]

    def drop(self, uid: str) -> None:
        """Forget a DevNamespace that is gone."""
        with self._lock:
            self._entries.pop(uid, None)

    def __contains__(self, uid: str) -> bool:
        return uid in self._entries

    def __len__(self) -> int:
        return len(self._entries)
