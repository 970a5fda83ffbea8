"""Proof of authorship for namespaces devns created, and the choice of orphans to collect. Pure.

Labels and annotations can be copied by anyone who can create a namespace, so they prove nothing. Each namespace
devns creates carries ``devns.io/proof``: an HMAC-SHA256 of ``<namespace>/<DevNamespace UID>`` under a key only the
operator holds (a Secret in its own namespace). An orphan (a namespace whose DevNamespace is gone) is deleted only
when its proof verifies; a look-alike without a valid proof is reported and left alone.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Mapping

from .contract import ANN_CREATED_BY, ANN_PROOF, MANAGED_BY, MANAGER


def proof_for(key: bytes, namespace: str, uid: str) -> str:
    return hmac.new(key, f"{namespace}/{uid}".encode(), hashlib.sha256).hexdigest()


def proof_valid(key: bytes, namespace: Mapping[str, Any]) -> bool:
    meta = namespace.get("metadata", {})
    proof, uid = (meta.get("annotations") or {}).get(ANN_PROOF, ""), claimed_uid(namespace)
    return bool(uid and proof) and hmac.compare_digest(proof, proof_for(key, meta.get("name", ""), uid))


@dataclass(frozen=True)
class Verdict:
    namespace: str
    uid: str  # the namespace's own uid (delete precondition)
    claimed_by: str  # the DevNamespace name/uid it claims
    orphan: bool  # True: proof valid, delete; False: look-alike, report once and leave alone


def claimed_uid(namespace: Mapping[str, Any]) -> str:
    """The DevNamespace UID a namespace claims in ``devns.io/created-by`` (empty if none)."""
    meta = namespace.get("metadata", {})
    return (meta.get("annotations") or {}).get(ANN_CREATED_BY, "").rpartition("/")[2]


def judge(namespace: Mapping[str, Any], key: bytes, is_reserved) -> Verdict | None:
    """For a namespace labelled as devns's whose DevNamespace is gone: collect it, or report it, or neither
    (reserved, or already terminating)."""
    meta = namespace.get("metadata", {})
    if (meta.get("labels") or {}).get(MANAGED_BY) != MANAGER or meta.get("deletionTimestamp"):
        return None
    if is_reserved(meta["name"]):
        return None
    claimed = (meta.get("annotations") or {}).get(ANN_CREATED_BY, "")
    return Verdict(meta["name"], meta["uid"], claimed, proof_valid(key, namespace))
