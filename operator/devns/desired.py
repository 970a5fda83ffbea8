"""The desired state of a DevNamespace: the one function every reconcile path calls, and its cache. Pure.

``desired_for(body, settings)`` validates the spec, works out the namespace name and the expiry, and renders the
objects devns keeps; the namespace's proof of authorship is bound to the namespace's own uid, so
``Desired.namespace_for`` adds it for a given namespace uid. A spec that is invalid, or asks for a lifetime the
settings refuse, is a ``SpecProblem`` (returned, not raised: callers branch on the type). A valid spec that breaks
a settings rule at render time (a role not allowed, a reserved namespace) still has a lifetime, so it gives a
``Desired`` with ``problem`` set and no objects: such a DevNamespace is not provisioned, but it still expires.

``DesiredCache`` memoises the result per (uid, generation, trusted sources of ingress): only a spec change makes a
new generation, so the watch events of a new DevNamespace's children, its status writes and its expiry checks share
one render; the trusted sources (``trust``) change when other DevNamespaces do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

from pydantic import ValidationError

from . import expiry, gc
from .contract import ANN_REQUESTER
from .models import DevNamespaceSpec, explain_validation_error
from .render import DevNamespaceRef, Rendered, SpecProblem, render
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

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

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


def desired_for(body: Mapping[str, Any], settings: Settings,
                trusted_sources: tuple[str, ...] = ()) -> Desired | SpecProblem:
    """The desired state of ``body`` (a DevNamespace as the API returns it); uncached, see ``DesiredCache``.
    ``trusted_sources``: the listed sources of ingress devns trusts now (``trust``: they depend on other
    DevNamespaces, so the caller works them out)."""
    ref = ref_of(body)
    try:
        spec = DevNamespaceSpec.model_validate(body.get("spec") or {})
    except ValidationError as exc:
        return SpecProblem("InvalidSpec", explain_validation_error(exc))
    ns = spec.namespace or ref.name
    try:
        expires_at = expiry.effective_expiry(spec, ref.created, settings)
    except SpecProblem as problem:
        return problem
    generation = body["metadata"].get("generation")
    try:
        objects = render(ref, spec, settings, namespace=ns, expires_at=expires_at, trusted_sources=trusted_sources)
    except SpecProblem as problem:
        return Desired(ref, generation, spec, ns, expires_at, None, problem)
    return Desired(ref, generation, spec, ns, expires_at, objects)


class DesiredCache:
    """uid -> the desired state of the DevNamespace's latest generation seen. Thread-safe enough: a race computes
    the same value twice and one of them is kept."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._entries: dict[str, tuple[int | None, tuple[str, ...], Desired | SpecProblem]] = {}

    def get(self, body: Mapping[str, Any], trusted_sources: tuple[str, ...] | None = None) -> Desired | SpecProblem:
        """Keyed by (uid, generation, trusted sources). ``trusted_sources`` None: any entry of this generation will
        do (the lifecycle needs the expiry, not the objects); provisioning and drift repair pass theirs."""
        meta = body["metadata"]
        uid, generation = meta["uid"], meta.get("generation")
        entry = self._entries.get(uid)
        if entry is None or entry[0] != generation or trusted_sources not in (None, entry[1]):
            trusted = tuple(trusted_sources or ())
            entry = (generation, trusted, desired_for(body, self.settings, trusted))
            self._entries[uid] = entry
        return entry[2]

    def drop(self, uid: str) -> None:
        """Forget a DevNamespace that is gone."""
        self._entries.pop(uid, None)

    def __contains__(self, uid: str) -> bool:
        return uid in self._entries

    def __len__(self) -> int:
        return len(self._entries)
