"""What the Kubernetes API server accepts for the names, keys and values a DevNamespace passes on: label and
annotation keys (qualified names), label values, ServiceAccount names, quota and container resource names, sizes.

Each rule is written once and used twice: as a CEL rule (or pattern) in the CRD, so admission refuses what the API
server would refuse later, and as the same check in Python for pydantic (``models.py``), which re-validates objects
admitted by an older schema. Mirrors k8s.io/apimachinery/pkg/util/validation and
k8s.io/kubernetes/pkg/apis/core/validation at the pinned Kubernetes version. Pure; imports only ``contract``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from .contract import RESERVED_KEYS, RESERVED_PREFIXES

# -- Kubernetes names, exactly as the API server validates them (k8s.io/apimachinery/pkg/util/validation) ---------
# Every rule is written once here and used twice: as a CEL rule in the CRD (admission) and by pydantic (the
# operator re-validates objects admitted by an older schema). Regular expressions are RE2 and Python compatible;
# pydantic checks them with ``re.fullmatch``. CEL's ``size()`` counts characters: byte sizes use ``bytes(s).size()``.
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = rf"{_LABEL}(\.{_LABEL})*"
_NAME_PART = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
DNS_LABEL = rf"^{_LABEL}$"
DNS_SUBDOMAIN = rf"^{_SUBDOMAIN}$"
#: Label keys, annotation keys (lowercased first) and resource names: [DNS subdomain prefix '/'] name; the prefix
#: is at most 253 characters, which a regular expression cannot say: ``k.indexOf('/') <= 253`` does.
QUALIFIED_NAME = rf"^({_SUBDOMAIN}/)?{_NAME_PART}$"
LABEL_VALUE = rf"^({_NAME_PART})?$"
MAX_PREFIX = 253
#: Longest qualified name: a 253-character prefix, '/', a 63-character name.
MAX_QUALIFIED_NAME = MAX_PREFIX + 1 + 63
#: spec.annotations, keys and values in UTF-8 bytes: half the API server's 256 KiB for all of the namespace's
#: annotations, so devns's own (every owner, purpose, contact, ...: at most about 70 KiB) always fit beside them.
MAX_ANNOTATIONS_BYTES = 128 * 1024
MAX_ANNOTATION_VALUE = 4096
MAX_OWNER_NAME = 253
#: A count in a ResourceQuota (pods, services, count/*, extended resources): a whole number the API server can
#: multiply by 1000 without overflowing int64 (it refuses 16-digit counts from 9223372036854776 up).
COUNT_PATTERN = r"^[0-9]{1,15}$"
MAX_QUANTITY = 64

#: ResourceQuota resource names without a '/' (helper.IsStandardQuotaResourceName), besides the hugepages prefixes.
QUOTA_RESOURCES = ("cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
                   "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
                   "resourcequotas", "services", "replicationcontrollers", "secrets", "persistentvolumeclaims",
                   "configmaps", "services.nodeports", "services.loadbalancers")
#: Quota resources counted in whole numbers (helper.IsIntegerResourceName; extended resources are counts too).
COUNT_RESOURCES = ("pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
                   "persistentvolumeclaims", "services.nodeports", "services.loadbalancers")
#: Container resource names without a '/' (helper.IsStandardContainerResourceName), besides hugepages-<size>.
CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")


def _cel(text: str) -> str:
    """A CEL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _cel_list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(_cel(i) for i in items) + "]"


def lower_ascii(text: str) -> str:
    """CEL's ``lowerAscii()``: only A-Z change (the API server lowercases annotation keys before checking them)."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def matches(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text) is not None


def _has_slash(name: str) -> bool:
    return "/" in name


def is_native(name: str) -> bool:
    """helper.IsNativeResource: no domain, or under kubernetes.io/."""
    return "/" not in name or "kubernetes.io/" in name


def _extended(name: str) -> bool:
    """helper.IsExtendedResourceName for a qualified name: not native, not requests.*, and requests.<name> is still
    a qualified name (its prefix at most 253 characters)."""
    return not is_native(name) and not name.startswith("requests.") and name.find("/") <= MAX_PREFIX - len("requests.")


@dataclass(frozen=True)
class KeyRule:
    """A rule every key of a map must pass, for CEL (``cel``, with ``k`` the key) and pydantic (``check``), with
    one message: "<what>: <allowed>" (pydantic also names the bad keys after <what>)."""

    cel: str
    check: Callable[[str], bool]
    what: str
    allowed: str

    def bad(self, keys: Iterable[str]) -> list[str]:
        return sorted(k for k in keys if not self.check(k))

    def message(self, bad: list[str]) -> str:
        return f"{self.what} {', '.join(bad)}: {self.allowed}"

    def validation(self) -> dict[str, str]:
        # A static message: a messageExpression naming the bad keys costs more than the API server's CEL budget
        # allows (map keys have no maxLength a schema can declare).
        return {"rule": f"self.all(k, {self.cel})", "message": f"{self.what}: {self.allowed}"}


def _qualified_cel(key: str = "k") -> str:
    return (f"k.size() <= {MAX_QUALIFIED_NAME} && k.indexOf('/') <= {MAX_PREFIX} && "
            f"{key}.matches({_cel(QUALIFIED_NAME)})")


_QUALIFIED_CEL = _qualified_cel()
_QUALIFIED_HELP = ("a name of at most 63 characters (letters, digits, '-', '_', '.', starting and ending with a letter "
                   "or digit), optionally after a prefix and '/' (a DNS subdomain: lowercase letters, digits, '-', "
                   "'.', at most 253 characters), e.g. example.com/my-key")


def _qualified(name: str) -> bool:
    return len(name) <= MAX_QUALIFIED_NAME and name.find("/") <= MAX_PREFIX and matches(QUALIFIED_NAME, name)


LABEL_KEYS = KeyRule(_QUALIFIED_CEL, _qualified, "invalid label keys", f"a label key is {_QUALIFIED_HELP}")
ANNOTATION_KEYS = KeyRule(_qualified_cel("k.lowerAscii()"),
                          lambda k: _qualified(lower_ascii(k)), "invalid annotation keys",
                          f"an annotation key is {_QUALIFIED_HELP} (uppercase letters are allowed in the prefix too)")
QUOTA_KEYS = KeyRule(
    f"{_QUALIFIED_CEL} && (k.contains('/') || k in {_cel_list(QUOTA_RESOURCES)} || k.startsWith('hugepages-') || "
    "k.startsWith('requests.hugepages-'))",
    lambda k: _qualified(k) and (_has_slash(k) or k in QUOTA_RESOURCES or k.startswith(("hugepages-",
                                                                                     "requests.hugepages-"))),
    "invalid quota resource names",
    f"use a ResourceQuota resource ({', '.join(QUOTA_RESOURCES)}, hugepages-<size>, requests.hugepages-<size>) or "
    "a name with a domain prefix such as count/deployments.apps, requests.nvidia.com/gpu or "
    "gold.storageclass.storage.k8s.io/requests.storage")
NATIVE_CEL = "(!k.contains('/') || k.contains('kubernetes.io/'))"
_EXTENDED_CEL = (f"(!{NATIVE_CEL} && !k.startsWith('requests.') && "
                 f"k.indexOf('/') <= {MAX_PREFIX - len('requests.')})")
CONTAINER_KEYS = KeyRule(
    f"{_QUALIFIED_CEL} && (k.contains('/') ? (k.contains('kubernetes.io/') || {_EXTENDED_CEL}) : "
    f"(k in {_cel_list(CONTAINER_RESOURCES)} || k.startsWith('hugepages-')))",
    lambda k: _qualified(k) and ((is_native(k) or _extended(k)) if _has_slash(k)
                                 else k in CONTAINER_RESOURCES or k.startswith("hugepages-")),
    "invalid container resource names",
    "use cpu, memory, ephemeral-storage, hugepages-<size> or an extended resource with a domain prefix such as "
    "nvidia.com/gpu (not starting with requests.)")

_COUNT_CEL = f"(k in {_cel_list(COUNT_RESOURCES)} || {_EXTENDED_CEL})"
QUOTA_COUNTS = {
    "rule": f"self.all(k, !{_COUNT_CEL} || string(self[k]).matches({_cel(COUNT_PATTERN)}))",
    "message": "quota counts (pods, services, secrets, configmaps, persistentvolumeclaims, replicationcontrollers, "
               "resourcequotas, services.nodeports, services.loadbalancers, count/* and extended resources such as "
               "nvidia.com/gpu) must be whole numbers of at most 15 digits, such as 10",
}


def is_quota_count(name: str) -> bool:
    return name in COUNT_RESOURCES or _extended(name)


SYSTEM_OWNER = {
    "rule": "!self.name.lowerAscii().startsWith('system:')",
    "message": "owners cannot be system: users or groups (system:masters, system:authenticated, "
               "system:unauthenticated, system:anonymous, system:serviceaccounts[:<namespace>], ...): they stand for "
               "cluster components or for everyone; name a person, a team's group, or a ServiceAccount with kind "
               "ServiceAccount, name and namespace",
}
SERVICE_ACCOUNT_NAME = {
    "rule": f"self.kind != 'ServiceAccount' || self.name.matches({_cel(DNS_SUBDOMAIN)})",
    "message": "a ServiceAccount owner's name must be a ServiceAccount name: a DNS subdomain (lowercase letters, "
               "digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters), "
               "e.g. deployer",
}
LABEL_VALUES = {
    "rule": f"self.all(k, self[k].matches({_cel(LABEL_VALUE)}))",
    "message": "label values must be empty or at most 63 characters: letters, digits, '-', '_' and '.', starting and "
               "ending with a letter or digit",
}
ANNOTATIONS_SIZE = {
    "rule": f"self.map(k, bytes(k).size() + bytes(self[k]).size()).sum() <= {MAX_ANNOTATIONS_BYTES}",
    "message": f"annotations are too large: keys and values together may take at most {MAX_ANNOTATIONS_BYTES} bytes "
               "(128 KiB, UTF-8)",
}

_reserved_rule = " && ".join([f"!k.startsWith('{p}')" for p in RESERVED_PREFIXES]
                             + [f"k != '{k}'" for k in RESERVED_KEYS])
RESERVED_KEYS_RULE = {
    "rule": f"self.all(k, {_reserved_rule})",
    "message": "keys under devns.io/ and pod-security.kubernetes.io/, app.kubernetes.io/managed-by and "
               "kubernetes.io/metadata.name are managed by devns and cannot be set here",
}
