"""DevNamespaceClasses, pure: which class a DevNamespace is of, and what the class makes of its spec and policy.

- ``class_of``: spec.class, else the class annotated ``devns.io/is-default-class: "true"`` (the newest one if
  several are, as Kubernetes does for StorageClasses), else none: the operator's settings alone, as before.
- ``apply_class``: the class's defaults go under the DevNamespace's own spec (the DevNamespace wins), and the
  class's allow-lists, maxima and warning lead times replace the settings they name. The result is the raw spec
  and the ``Settings`` that ``desired_for`` renders with, so every later rule (render, expiry) is the class's.
- ``check_maxima``: the effective quota against the class's maxima, naming field, asked value and maximum.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Mapping

from .class_models import DevNamespaceClassSpec
from .contract import ANN_DEFAULT_CLASS
from .render import SpecProblem
from .settings import Settings
from .units import parse_duration, parse_quantity


@dataclass(frozen=True)
class ClassRef:
    """A class as the operator knows it (from its index): name, generation, spec, and whether it is default."""

    name: str
    generation: int | None
    created: str
    spec: DevNamespaceClassSpec
    default: bool
    deleting: bool = False  # deleted, kept by devns's finalizer while DevNamespaces use it

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> "ClassRef":
        meta = body["metadata"]
        return cls(name=meta["name"], generation=meta.get("generation"), created=meta.get("creationTimestamp", ""),
                   spec=DevNamespaceClassSpec.model_validate(body.get("spec") or {}),
                   default=(meta.get("annotations") or {}).get(ANN_DEFAULT_CLASS) == "true",
                   deleting=bool(meta.get("deletionTimestamp")))

    @property
    def notice(self) -> str | None:
        """What the Ready condition of its DevNamespaces adds while it is being deleted."""
        return (f"its DevNamespaceClass {self.name} is being deleted: it stays as it is until no DevNamespace uses "
                "it; set spec.class to another class") if self.deleting else None


class ClassRegistry:
    """name -> ClassRef of every DevNamespaceClass, kept by the operator's class index (filled before any
    DevNamespace is handled) and read from any thread."""

    def __init__(self, classes: Mapping[str, ClassRef] | None = None) -> None:
        self._classes: dict[str, ClassRef] = dict(classes or {})
        self._lock = threading.Lock()

    def put(self, ref: ClassRef) -> None:
        with self._lock:
            self._classes = {**self._classes, ref.name: ref}

    def remove(self, name: str) -> None:
        with self._lock:
            self._classes = {k: v for k, v in self._classes.items() if k != name}

    def snapshot(self) -> Mapping[str, ClassRef]:
        return self._classes  # replaced, never mutated: a consistent view without locking


def class_of(spec: Mapping[str, Any], classes: Mapping[str, ClassRef]) -> tuple[str | None, ClassRef | None]:
    """(the class name the DevNamespace is of, that class if it exists). (None, None): no class at all."""
    name = spec.get("class")
    if name:
        return name, classes.get(name)
    defaults = sorted((c for c in classes.values() if c.default and not c.deleting),
                      key=lambda c: (c.created, c.name))
    return (defaults[-1].name, defaults[-1]) if defaults else (None, None)


def apply_class(raw_spec: Mapping[str, Any], settings: Settings,
                cls: ClassRef | None) -> tuple[dict[str, Any], Settings]:
    """The spec with the class's defaults under it, and the settings with the class's policy over them."""
    spec = dict(raw_spec)
    if cls is None:
        return spec, settings
    d, spec_of_class = cls.spec.defaults, cls.spec
    if d.pod_security and "podSecurity" not in spec:
        spec["podSecurity"] = d.pod_security
    if d.idle and "idle" not in spec:
        spec["idle"] = d.idle.model_dump(by_alias=True, exclude_none=True)
    if d.network and "network" not in spec:
        spec["network"] = d.network.model_dump(by_alias=True, exclude_defaults=True)
    update: dict[str, Any] = {}
    if d.role:
        update["default_role"] = d.role
    if d.ttl:
        update["default_ttl"] = d.ttl
    if d.quota:
        update["default_quota"] = {**settings.default_quota, **{k: str(v) for k, v in d.quota.items()}}
    if d.limits:
        limits = {k: dict(v) for k, v in settings.default_limits.items()}
        for key, values in d.limits.model_dump(by_alias=True, exclude_none=True).items():
            limits.setdefault(key, {}).update({r: str(q) for r, q in values.items()})
        update["default_limits"] = limits
    allowed = spec_of_class.allowed
    if allowed.roles is not None:
        update["allowed_roles"] = list(allowed.roles)
    if allowed.pod_security is not None:
        update["allow_privileged"] = "privileged" in allowed.pod_security
    if spec_of_class.maxima.ttl:
        update["max_ttl"] = spec_of_class.maxima.ttl
    if spec_of_class.warn_before is not None:
        update["warn_before"] = list(spec_of_class.warn_before)
    if not update:
        return spec, settings
    return spec, Settings.model_validate({**settings.model_dump(), **update})  # no env re-read; caches fresh


def check_allowed(spec: Mapping[str, Any], cls: ClassRef | None) -> None:
    """Raise SpecProblem for a Pod Security level or a cluster view the class does not allow (roles and
    privileged are the settings' rules, which ``apply_class`` already replaced)."""
    if cls is None:
        return
    allowed = cls.spec.allowed
    level = spec.get("podSecurity", "restricted")
    if allowed.pod_security is not None and level not in allowed.pod_security:
        raise SpecProblem("NotAllowedByClass", f"podSecurity {level} is not allowed by class {cls.name} "
                                               f"(allowed: {', '.join(allowed.pod_security)})")
    if allowed.cluster_view is False and spec.get("clusterView"):
        raise SpecProblem("NotAllowedByClass", f"clusterView is not allowed by class {cls.name}")


def check_maxima(hard: Mapping[str, Any], cls: ClassRef | None) -> None:
    """Raise SpecProblem when an effective quota value is over the class's maximum for it."""
    if cls is None:
        return
    for resource, maximum in sorted(cls.spec.maxima.quota.items()):
        asked = hard.get(resource)
        if asked is not None and parse_quantity(asked) > parse_quantity(maximum):
            raise SpecProblem("OverClassMaximum", f"spec.quota.{resource} {asked} is more than class {cls.name}'s "
                                                  f"maximum of {maximum}")


def check_idle(idle: Any, cls: ClassRef | None) -> None:
    """Raise SpecProblem when spec.idle (the effective ``models.Idle``, or None) waits longer than the class's
    maxima allow (or never, where the class sets a maximum)."""
    top = cls.spec.maxima.idle if cls is not None else None
    if top is None:
        return
    for field, alias in (("sleep_after", "sleepAfter"), ("delete_after", "deleteAfter")):
        maximum, asked = getattr(top, field), getattr(idle, field) if idle is not None else None
        if maximum is None:
            continue
        if asked is None:
            raise SpecProblem("OverClassMaximum", f"spec.idle.{alias} must be set: class {cls.name}'s maximum is "
                                                  f"{maximum}")
        if parse_duration(asked) > parse_duration(maximum):
            raise SpecProblem("OverClassMaximum", f"spec.idle.{alias} {asked} is more than class {cls.name}'s "
                                                  f"maximum of {maximum}")
