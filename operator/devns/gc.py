"""Proof of authorship for namespaces devns created, and the choice of orphans to collect. Pure.

Labels and annotations can be copied by anyone who can create a namespace, so they prove nothing. Each namespace
devns creates carries ``devns.io/proof``, made with a key only the operator holds (a Secret in its own namespace):
``v2:<key id>:<HMAC-SHA256 of "<namespace>/<namespace UID>/<DevNamespace UID>">``. The namespace's own UID is
assigned by the API server at creation, so a copy (restored from a backup, re-applied by GitOps, dressed up by
hand) cannot carry a proof that verifies: devns writes the proof right after the POST (``Desired.namespace_for``).
The key id (``key_id``: the first 8 hex digits of the key's SHA-256) says which key signed, so a wrong or lost key
is told apart from forgeries.

``Proof`` grades what a namespace carries. ``BOUND`` (a v2 proof for this very namespace) is the only grade the
orphan collector deletes on (``judge``). ``LEGACY`` (the format before v2: an HMAC of ``<namespace>/<DevNamespace
UID>``, which a copy keeps) still proves ownership for the DevNamespace it names, so upgraded namespaces are
re-proved instead of disowned, but never enough to delete an orphan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Iterable, Mapping

from .contract import ANN_CREATED_BY, ANN_PROOF, FIELD_MANAGER, MANAGED_BY, MANAGER
from .units import parse_time

VERSION = "v2"


class Proof(StrEnum):
    """What ``devns.io/proof`` on a namespace proves under a key."""

    BOUND = "bound"  # a v2 proof made by this key for this namespace (its name and uid) and its DevNamespace
    LEGACY = "legacy"  # a proof in the format before v2, valid under this key (not bound to the namespace's uid)
    ABSENT = "absent"  # no proof at all
    INVALID = "invalid"  # a proof that does not verify: forged, copied from another namespace, or another key's


def key_id(key: bytes) -> str:
    """Which key signed a proof: the first 8 hex digits of its SHA-256 (reveals nothing usable about the key)."""
    return hashlib.sha256(key).hexdigest()[:8]


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def proof_for(key: bytes, namespace: str, namespace_uid: str, devnamespace_uid: str) -> str:
    """The proof of the namespace ``namespace`` (uid ``namespace_uid``) devns created for that DevNamespace."""
    return f"{VERSION}:{key_id(key)}:{_mac(key, f'{namespace}/{namespace_uid}/{devnamespace_uid}')}"


def legacy_proof_for(key: bytes, namespace: str, devnamespace_uid: str) -> str:
    """The proof devns wrote before v2 (kept to recognise, and re-prove, the namespaces it made then)."""
    return _mac(key, f"{namespace}/{devnamespace_uid}")


def claimed_uid(namespace: Mapping[str, Any]) -> str:
    """The DevNamespace UID a namespace claims in ``devns.io/created-by`` (empty if none)."""
    meta = namespace.get("metadata", {})
    return (meta.get("annotations") or {}).get(ANN_CREATED_BY, "").rpartition("/")[2]


def proof_of(key: bytes, namespace: Mapping[str, Any]) -> Proof:
    """Grade the proof ``namespace`` (as the API returns it: name and uid) carries under ``key``."""
    meta = namespace.get("metadata", {})
    proof, claimed = (meta.get("annotations") or {}).get(ANN_PROOF), claimed_uid(namespace)
    if proof is None:
        return Proof.ABSENT
    name = meta.get("name", "")
    if not claimed:
        return Proof.INVALID
    if proof.startswith(f"{VERSION}:"):
        bound = bool(meta.get("uid")) and hmac.compare_digest(proof, proof_for(key, name, meta["uid"], claimed))
        return Proof.BOUND if bound else Proof.INVALID
    return Proof.LEGACY if hmac.compare_digest(proof, legacy_proof_for(key, name, claimed)) else Proof.INVALID


def signer_of(namespace: Mapping[str, Any]) -> str | None:
    """The key id a v2 proof names (None: no proof, or one in the legacy format, which names none)."""
    proof = ((namespace.get("metadata", {}).get("annotations") or {}).get(ANN_PROOF)) or ""
    version, _, rest = proof.partition(":")
    return (rest.partition(":")[0] or None) if version == VERSION else None


def with_proof(obj: Mapping[str, Any], proof: str) -> dict[str, Any]:
    """A copy of the namespace ``obj`` carrying ``proof`` (the rest of it shared, not copied)."""
    meta = obj["metadata"]
    return {**obj, "metadata": {**meta, "annotations": {**(meta.get("annotations") or {}), ANN_PROOF: proof}}}


def created_unsigned(namespace: Mapping[str, Any], devnamespace_created: dt.datetime) -> bool:
    """The namespace carries no proof, devns's field manager set its ``created-by`` at creation (managedFields),
    and it is no older than the DevNamespace: what a crash between devns's POST and its proof leaves behind."""
    meta = namespace.get("metadata", {})
    if ANN_PROOF in (meta.get("annotations") or {}) or not meta.get("creationTimestamp"):
        return False
    if parse_time(meta["creationTimestamp"]) < devnamespace_created.replace(microsecond=0):
        return False
    return any(e.get("manager") == FIELD_MANAGER and e.get("operation") == "Update" and not e.get("subresource")
               and f"f:{ANN_CREATED_BY}" in ((e.get("fieldsV1") or {}).get("f:metadata", {}).get("f:annotations")
                                             or {})
               for e in meta.get("managedFields") or [])


@dataclass(frozen=True)
class Verdict:
    namespace: str
    uid: str  # the namespace's own uid (delete precondition)
    claimed_by: str  # the DevNamespace name/uid it claims
    proof: Proof  # only BOUND makes an orphan: collect it; any other grade is a look-alike, reported once

    @property
    def orphan(self) -> bool:
        return self.proof is Proof.BOUND


def judge(namespace: Mapping[str, Any], key: bytes, is_reserved) -> Verdict | None:
    """For a namespace labelled as devns's whose DevNamespace is gone: collect it, or report it, or neither
    (reserved, or already terminating)."""
    meta = namespace.get("metadata", {})
    if (meta.get("labels") or {}).get(MANAGED_BY) != MANAGER or meta.get("deletionTimestamp"):
        return None
    if is_reserved(meta["name"]):
        return None
    claimed = (meta.get("annotations") or {}).get(ANN_CREATED_BY, "")
    return Verdict(meta["name"], meta["uid"], claimed, proof_of(key, namespace))


@dataclass(frozen=True)
class KeyCheck:
    """How a key fares against the proofs on the namespaces devns manages (at start-up)."""

    key_id: str
    verified: int  # proofs this key made (bound or legacy)
    foreign: dict[str, int]  # key id (or "legacy") -> proofs that name another key or do not verify

    @property
    def wrong_key(self) -> bool:
        """Proofs exist and this key made none of them: it is not the key that signed this cluster's namespaces."""
        return not self.verified and bool(self.foreign)


def check_key(key: bytes, namespaces: Iterable[Mapping[str, Any]]) -> KeyCheck:
    """Compare ``key`` with the proofs ``namespaces`` carry (those without a proof are not counted). A copy of a
    real namespace names this key but does not verify: it is a look-alike, not a sign of another key."""
    mine, verified, foreign = key_id(key), 0, {}
    for ns in namespaces:
        grade = proof_of(key, ns)
        if grade in (Proof.BOUND, Proof.LEGACY):
            verified += 1
        elif grade is Proof.INVALID and signer_of(ns) != mine:
            signer = signer_of(ns) or "legacy"
            foreign[signer] = foreign.get(signer, 0) + 1
    return KeyCheck(mine, verified, foreign)


def signed(namespaces: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The namespaces that carry a devns proof."""
    return [ns for ns in namespaces if ANN_PROOF in (ns.get("metadata", {}).get("annotations") or {})]
