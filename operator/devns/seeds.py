"""Seeds of a DevNamespaceClass, pure: what its ``spec.seed`` puts into each namespace of the class.

- ``copyFrom``: a ConfigMap or Secret of the seed source namespace (``DEVNS_SEED_SOURCE_NAMESPACE``), copied under
  its own name: its data, binaryData and type (not its labels or annotations). Sources come from a
  ``SourceRegistry``, which ``handlers_seeds`` fills before Kopf starts and keeps current from a watch.
- ``manifest``: the object as declared; a Secret's ``stringData`` is encoded into ``data``, as the API server
  would store it (so a comparison with what is stored holds).
- ``imagePullSecrets``: an amendment, not a child: the namespace's default ServiceAccount is Kubernetes's, and
  devns server-side applies only that one field of it.

``seeded`` adds them to the rendered objects: labelled and owned like the guardrails (so admission keeps tenants
off them and drift repair puts them back), with ``devns.io/seed-origin`` saying where each came from, and the
``status.seeds`` entries that say what each is made from (and, for a Secret, which revision it has: a source's
resourceVersion, or a hash of the manifest). A seed the settings do not allow, a source outside the source
namespace or missing, two seeds of one name, or a seed named like one of devns's own objects is a
``SpecProblem``: nothing is applied for it.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .class_models import Seed
from .contract import ANN_SEED_ORIGIN, KINDS, LABEL_DEVNAMESPACE, MANAGED_BY, MANAGER
from .render import DevNamespaceRef, Rendered, SpecProblem

#: Objects Kubernetes itself puts into every namespace: a seed of that kind and name would fight its controller.
KUBERNETES_OWN = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
#: What a copy takes from its source.
COPIED_FIELDS = {"ConfigMap": ("data", "binaryData"), "Secret": ("type", "data")}


@dataclass(frozen=True)
class Source:
    """A ConfigMap or Secret of the seed source namespace, as far as copies need it."""

    kind: str
    name: str
    resource_version: str
    content: Mapping[str, Any]  # the COPIED_FIELDS it has; shared by every copy, never mutated

    @classmethod
    def of(cls, kind: str, obj: Mapping[str, Any]) -> "Source":
        meta = obj["metadata"]
        return cls(kind, meta["name"], meta.get("resourceVersion", ""),
                   {k: obj[k] for k in COPIED_FIELDS[kind] if obj.get(k) is not None})


class SourceRegistry:
    """(kind, name) -> Source of the seed source namespace, read from any thread (replaced, never mutated)."""

    def __init__(self, namespace: str, sources: Iterable[Source] = ()) -> None:
        self.namespace = namespace
        self._sources: dict[tuple[str, str], Source] = {(s.kind, s.name): s for s in sources}
        self._lock = threading.Lock()

    def replace_kind(self, kind: str, sources: Iterable[Source]) -> None:
        """All sources of ``kind``, as a fresh listing found them."""
        with self._lock:
            kept = {k: v for k, v in self._sources.items() if k[0] != kind}
            self._sources = {**kept, **{(s.kind, s.name): s for s in sources}}

    def put(self, source: Source) -> None:
        with self._lock:
            self._sources = {**self._sources, (source.kind, source.name): source}

    def remove(self, kind: str, name: str) -> None:
        with self._lock:
            self._sources = {k: v for k, v in self._sources.items() if k != (kind, name)}

    def snapshot(self) -> Mapping[tuple[str, str], Source]:
        return self._sources

    def versions(self, keys: Iterable[tuple[str, str]]) -> tuple[str | None, ...]:
        """The resourceVersion of each source (None: missing): part of a desired state's cache key."""
        sources = self._sources
        return tuple(s.resource_version if (s := sources.get(k)) is not None else None for k in keys)


def sources_of(seeds: Iterable[Seed]) -> tuple[tuple[str, str], ...]:
    """The (kind, name) of every source the seeds copy."""
    return tuple((s.copy_from.kind, s.copy_from.name) for s in seeds if s.copy_from is not None)


def _digest(obj: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _manifest(seed: Seed, class_name: str) -> tuple[dict[str, Any], str, str]:
    obj = seed.manifest.model_dump(by_alias=True, exclude_none=True)
    kind = obj["kind"]
    if obj["apiVersion"] != KINDS[kind].api_version:
        raise SpecProblem("SeedInvalid", f"class {class_name}: seed {kind}/{obj['metadata']['name']} has apiVersion "
                                         f"{obj['apiVersion']}; devns seeds {kind} as {KINDS[kind].api_version}")
    if kind == "Secret" and "stringData" in obj:
        encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in (obj.pop("stringData") or {}).items()}
        obj["data"] = {**(obj.get("data") or {}), **encoded}
    return obj, f"class {class_name}", _digest(obj)


def _copy(seed: Seed, class_name: str, sources: Mapping[tuple[str, str], Source],
          source_namespace: str) -> tuple[dict[str, Any], str, str]:
    ref = seed.copy_from
    where = f"{ref.kind} {source_namespace}/{ref.name}"
    if ref.namespace not in (None, source_namespace):
        raise SpecProblem("SeedSourceNotAllowed", f"class {class_name}: seed source {ref.kind} {ref.namespace}/"
                                                  f"{ref.name} is outside the seed source namespace "
                                                  f"{source_namespace}, the only one devns reads: move it there")
    source = sources.get((ref.kind, ref.name))
    if source is None:
        raise SpecProblem("SeedSourceMissing", f"class {class_name}: seed source {where} does not exist: create "
                                               "it (this DevNamespace is provisioned as soon as it does), or remove "
                                               "the seed from the class")
    obj = {"apiVersion": "v1", "kind": ref.kind, "metadata": {"name": ref.name}, **source.content}
    return obj, where, source.resource_version


def seeded(objects: Rendered, seeds: list[Seed], class_name: str, ref: DevNamespaceRef, allowed_kinds: list[str],
           sources: Mapping[tuple[str, str], Source], source_namespace: str) -> Rendered:
    """``objects`` with the class's seeds: children (in apply order), the default ServiceAccount's amendment and
    the ``status.seeds`` entries. Raises SpecProblem (see the module's docstring)."""
    if not seeds:
        return objects
    ns = objects.namespace_name
    children, entries, pull_secrets = list(objects.children), [], []
    for seed in seeds:
        if seed.image_pull_secrets is not None:
            pull_secrets += [n for n in seed.image_pull_secrets if n not in pull_secrets]
            continue
        obj, origin, revision = (_manifest(seed, class_name) if seed.manifest is not None
                                 else _copy(seed, class_name, sources, source_namespace))
        kind, name = obj["kind"], obj["metadata"]["name"]
        if kind not in allowed_kinds:
            raise SpecProblem("SeedKindNotAllowed", f"class {class_name}: seed {kind}/{name}: the operator may seed "
                                                    f"only {', '.join(allowed_kinds) or 'nothing'} (DEVNS_SEED_KINDS)")
        if (kind, name) in KUBERNETES_OWN or any(c["kind"] == kind and c["metadata"]["name"] == name
                                                  for c in children):
            raise SpecProblem("SeedConflict", f"class {class_name}: seed {kind}/{name} is declared twice, or named "
                                              "like an object devns or Kubernetes keeps itself: rename it")
        meta = obj["metadata"]
        obj["metadata"] = {**meta, "namespace": ns,
                           "labels": {**(meta.get("labels") or {}), MANAGED_BY: MANAGER, LABEL_DEVNAMESPACE: ref.name},
                           "annotations": {**(meta.get("annotations") or {}), ANN_SEED_ORIGIN: origin},
                           "ownerReferences": [ref.owner_reference()]}
        children.append(obj)
        # a revision only where devns cannot read the object back to compare (a Secret): elsewhere it would change
        # the status at every change of the source, and the object itself is compared
        entries.append({"kind": kind, "name": name, "from": origin,
                        **({"revision": revision} if not KINDS[kind].readable else {})})
    order = list(KINDS)
    children.sort(key=lambda c: order.index(c["kind"]))  # stable: devns's own keep their order
    amendments = []
    if pull_secrets:
        amendments.append({"apiVersion": "v1", "kind": "ServiceAccount",
                           "metadata": {"name": "default", "namespace": ns},
                           "imagePullSecrets": [{"name": n} for n in pull_secrets]})
    return dataclasses.replace(objects, children=children, amendments=amendments, seeds=entries)
