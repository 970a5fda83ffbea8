"""Does an object need a server-side apply? Pure comparison of desired and actual.

An apply is needed when (1) some desired field is missing or different in the actual object, or (2) devns's field
manager owns a field (per ``metadata.managedFields``) that is no longer desired: applying then removes it. When
neither holds, reconcile writes nothing. Quantities compare by value (``1000m`` == ``1``) because the API server
rewrites them into canonical form.

The fields a kind keeps exactly (``contract.Kind.exact``: a NetworkPolicy's spec, a binding's roleRef and
subjects) must also hold nothing more than declared: ``exact_match`` compares both ways, after adding the
defaults the API server adds itself (``with_server_defaults``). A field someone else added there cannot be removed
by devns's server-side apply (devns does not own it), so such an object is replaced whole (``Kube.replace``).

Objects devns creates in a brand-new namespace are POSTed (one request, cheaper for the API server than an apply),
so their fields sit under an ``Update`` entry of devns's manager; ``upgraded_managed_fields`` turns that entry into
an ``Apply`` one before the first apply, as client-go's csaupgrade does for kubectl, so applies can remove fields.
"""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Any, Iterator

from .contract import KINDS
from .units import quantities_equal
#: Lists the API merges by key (listType=map): compare as sets of items, others are atomic (compare in order).
KEYED_LISTS = frozenset({"ownerReferences"})

Path = tuple[str, ...]
_MISSING = object()


def covers(actual: Any, desired: Any, *, quantities: bool = False,
           quantity_maps: frozenset[str] = frozenset()) -> bool:
    """True when every field of ``desired`` is present with the same value in ``actual``.

    Values below a key in ``quantity_maps`` compare as quantities (the kind's ``contract.Kind.quantities``; none
    for metadata, where a label named ``max`` is just a label). (Called for every event of every managed object:
    equal values are settled by one ``==``, and only values that differ are looked into.)
    """
    if actual == desired:
        return True
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return False
        for k, v in desired.items():
            a = actual.get(k, _MISSING)
            if a is _MISSING:
                return False
            if a != v and not covers(a, v, quantities=quantities or k in quantity_maps,
                                     quantity_maps=quantity_maps):
                return False
        return True
    if isinstance(desired, list):
        return isinstance(actual, list) and len(actual) == len(desired) and all(
            covers(a, d, quantities=quantities, quantity_maps=quantity_maps) for a, d in zip(actual, desired))
    return quantities and quantities_equal(actual, desired)


def _covers_keyed(actual: Any, desired: list) -> bool:
    return isinstance(actual, list) and all(any(covers(a, d) for a in actual) for d in desired)


def paths(obj: Any, prefix: Path = ()) -> Iterator[Path]:
    """Leaf paths of a desired object: dict keys all the way down; a list is one leaf."""
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            yield from paths(v, (*prefix, k))
    else:
        yield prefix


def _ours(entry: dict[str, Any], manager: str, operation: str | None = None) -> bool:
    """A managedFields entry of ``manager`` on the object itself (not a subresource such as status)."""
    return (entry.get("manager") == manager and not entry.get("subresource")
            and entry.get("operation") in ((operation,) if operation else ("Apply", "Update")))


def owned_paths(actual: dict[str, Any], manager: str) -> Iterator[Path]:
    """Field paths ``manager`` owns (applied, or set when it created the object), from managedFields (FieldsV1)."""
    for entry in actual.get("metadata", {}).get("managedFields") or []:
        if _ours(entry, manager):
            yield from _fields_v1(entry.get("fieldsV1") or {}, ())


def _merge_fields(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The union of two FieldsV1 trees."""
    out = dict(a)
    for key, value in b.items():
        out[key] = _merge_fields(out[key], value) if isinstance(out.get(key), dict) and value else out.get(key, value)
    return out


def upgraded_managed_fields(actual: dict[str, Any], manager: str) -> list[dict[str, Any]] | None:
    """``actual``'s managedFields with ``manager``'s Update entry folded into its Apply entry (made one if there
    is none), so that a server-side apply by ``manager`` owns, and can remove, what it created with POST.
    None when there is no such Update entry (nothing to upgrade)."""
    entries = actual.get("metadata", {}).get("managedFields") or []
    update = next((e for e in entries if _ours(e, manager, "Update")), None)
    if update is None:
        return None
    apply = next((e for e in entries if _ours(e, manager, "Apply")), None)
    if apply is None:
        return [{**e, "operation": "Apply"} if e is update else e for e in entries]
    merged = {**apply, "fieldsV1": _merge_fields(apply.get("fieldsV1") or {}, update.get("fieldsV1") or {})}
    return [merged if e is apply else e for e in entries if e is not update]


def _fields_v1(node: dict[str, Any], prefix: Path) -> Iterator[Path]:
    for key, child in node.items():
        if key == ".":
            continue
        if key.startswith("f:"):
            path = (*prefix, key[2:])
            if child:
                yield from _fields_v1(child, path)
            else:
                yield path
        else:  # k:{...}, v:..., i:N: an element of a list; the list itself is the leaf devns compares
            yield prefix


def needs_apply(desired: dict[str, Any], actual: dict[str, Any] | None, manager: str) -> bool:
    """``actual`` lacks or differs from something in ``desired``, or ``manager`` owns a field it no longer wants."""
    if actual is None:
        return True
    kind = KINDS.get(desired.get("kind", ""))
    quantity_maps = kind.quantities if kind else frozenset()
    for key, value in desired.items():
        if key == "metadata":
            for mkey, mvalue in value.items():
                current = actual.get("metadata", {}).get(mkey)
                ok = _covers_keyed(current, mvalue) if mkey in KEYED_LISTS else covers(current, mvalue)
                if not ok:
                    return True
        elif key not in ("apiVersion", "kind") and not covers(actual.get(key), value, quantities=key in quantity_maps,
                                                              quantity_maps=quantity_maps):
            return True
    # An owned field is still wanted when a wanted path lies on it or below it (a map devns fills in part) or
    # above it (a leaf or atomic list devns sets whole).
    wanted = set(paths(desired))
    above = {w[:i] for w in wanted for i in range(len(w))}  # proper prefixes of the wanted paths
    for owned in owned_paths(actual, manager):
        if owned not in wanted and owned not in above and not any(owned[:i] in wanted for i in range(len(owned))):
            return True  # devns owns a field it no longer wants: apply to remove it
    return False


def with_server_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as the API server stores it: the defaults it fills in for the kinds devns keeps exactly (a
    LimitRange's Container defaults from max/min, a NetworkPolicy port's TCP protocol, policyTypes, RBAC apiGroups)."""
    kind = obj.get("kind")
    if kind not in ("LimitRange", "NetworkPolicy", "RoleBinding", "ClusterRoleBinding"):
        return obj
    obj = copy.deepcopy(obj)
    if kind == "LimitRange":
        for item in obj.get("spec", {}).get("limits") or []:
            if item.get("type") == "Container":
                default, request = item.setdefault("default", {}), item.setdefault("defaultRequest", {})
                for key, value in (item.get("max") or {}).items():
                    default.setdefault(key, value)
                for key, value in default.items():
                    request.setdefault(key, value)
                for key, value in (item.get("min") or {}).items():
                    request.setdefault(key, value)
                for key in ("default", "defaultRequest"):
                    if not item[key]:
                        del item[key]
    elif kind == "NetworkPolicy":
        spec = obj.get("spec", {})
        if not spec.get("policyTypes"):
            spec["policyTypes"] = ["Ingress", *(["Egress"] if spec.get("egress") else [])]
        for rule in (*(spec.get("ingress") or []), *(spec.get("egress") or [])):
            for port in rule.get("ports") or []:
                port.setdefault("protocol", "TCP")
    else:
        obj.get("roleRef", {}).setdefault("apiGroup", "rbac.authorization.k8s.io")
        for subject in obj.get("subjects") or []:
            if subject.get("kind") in ("User", "Group"):  # a ServiceAccount's is "", which the API omits
                subject.setdefault("apiGroup", "rbac.authorization.k8s.io")
    return obj


def exact_match(desired: dict[str, Any], actual: dict[str, Any]) -> bool:
    """The fields ``desired``'s kind keeps exactly hold the same in ``actual``: nothing missing, nothing more."""
    return _holds_nothing_more(desired, actual) and not needs_apply(desired, actual, "")


def _holds_nothing_more(desired: dict[str, Any], actual: dict[str, Any]) -> bool:
    """No key below the kind's exact fields in ``actual`` that ``desired`` (with the server's defaults) lacks.
    Lists are atomic in these kinds: a list devns declares is set whole by its apply, so only map keys count."""
    kind = KINDS.get(desired.get("kind", ""))
    if kind is None or not kind.exact:
        return True
    stored = with_server_defaults(desired)
    return not any(_extra_keys(stored.get(key), actual.get(key)) for key in kind.exact)


def _extra_keys(want: Any, have: Any) -> bool:
    if not isinstance(have, dict) or not have:
        return False
    if not isinstance(want, dict):
        return True
    return any(k not in want or _extra_keys(want[k], v) for k, v in have.items())


class Change(StrEnum):
    """The write an object needs to match its desired state."""

    NONE = "none"
    APPLY = "apply"  # create it, or server-side apply what differs (removing fields devns owns but dropped)
    REPLACE = "replace"  # someone else added fields devns keeps exactly: replace the object whole


def change_needed(desired: dict[str, Any], actual: dict[str, Any] | None, manager: str) -> Change:
    """REPLACE when ``actual`` holds more than declared in its exact fields (only a replace removes what devns does
    not own), else APPLY when something differs or devns owns a field it dropped, else NONE."""
    if actual is not None and not _holds_nothing_more(desired, actual):
        return Change.REPLACE
    return Change.APPLY if needs_apply(desired, actual, manager) else Change.NONE
