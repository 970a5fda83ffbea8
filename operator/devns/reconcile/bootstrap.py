"""Start-up: the key that signs the namespaces devns creates (read from its Secret, created on first start).

A new key is made only on a first install: when no namespace devns manages carries a proof. If the Secret is gone
while such namespaces exist, a new key would disown every one of them (and could never prove an orphan), so devns
runs without a key instead, and says so (``KeyProblem``): it signs and deletes nothing until the Secret is restored
and the operator restarted. The same holds for a key that made none of the proofs found (a Secret restored from
the wrong backup): proofs name their key (``gc.key_id``). Two replicas starting at once never end up with two keys:
the Secret is created with POST, and the one that gets 409 uses the other's.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass

from .. import gc
from ..contract import MANAGED_SELECTOR, SELF_LABELS
from ..kube import ApiError, Kube
from ..settings import Settings
from .context import KEY_MISMATCH, KEY_MISSING, KeyProblem


@dataclass(frozen=True)
class SigningKey:
    """The key to use (None exactly when ``problem`` is set) and how it fares against the proofs found."""

    key: bytes | None
    problem: KeyProblem | None = None
    check: gc.KeyCheck | None = None

    @property
    def foreign(self) -> int:
        return sum(self.check.foreign.values()) if self.check else 0


def load_signing_key(kube: Kube, settings: Settings) -> SigningKey:
    """Read the signing key; create it on a first install (and the operator's namespace with it)."""
    ns, name = settings.operator_namespace, settings.gc_key_secret
    secret = kube.get("Secret", name, ns)
    proofs = gc.signed(kube.list("Namespace", selector=MANAGED_SELECTOR))
    key = _key_of(secret)
    if key is None and proofs:
        what = "is missing" if secret is None else "holds no key"
        return SigningKey(None, KeyProblem(KEY_MISSING, (
            f"the signing key Secret {ns}/{name} {what} but {len(proofs)} namespaces carry devns proofs: restore "
            f"Secret {name} in {ns} from your backup and restart the operator; devns will not sign or delete "
            "anything until then")))
    if key is None:
        key = _create_key(kube, ns, name)
    check = gc.check_key(key, proofs)
    if check.wrong_key:
        signers = ", ".join(f"{k} ({n})" for k, n in sorted(check.foreign.items()))
        return SigningKey(None, KeyProblem(KEY_MISMATCH, (
            f"the signing key in Secret {ns}/{name} (key id {check.key_id}) made none of the {len(proofs)} devns "
            f"proofs found (signed by: {signers}): restore the right Secret {name} in {ns} from your backup and "
            "restart the operator; devns will not sign or delete anything until then")), check)
    return SigningKey(key, None, check)


def _key_of(secret: dict | None) -> bytes | None:
    try:
        key = base64.b64decode(((secret or {}).get("data") or {}).get("key") or "", validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def _create_key(kube: Kube, ns: str, name: str) -> bytes:
    """First install: a new random key in a new Secret (POST: if another replica made one first, use theirs)."""
    if kube.get("Namespace", ns) is None:
        _create_once(kube, {"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": ns, "labels": dict(SELF_LABELS)}})
    key = secrets.token_bytes(32)
    try:
        kube.create({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                     "metadata": {"name": name, "namespace": ns, "labels": dict(SELF_LABELS)},
                     "data": {"key": base64.b64encode(key).decode()}})
        return key
    except ApiError as exc:
        if exc.status != 409:  # another replica created it first: use theirs
            raise
    theirs = _key_of(kube.get("Secret", name, ns))
    if theirs is None:
        raise RuntimeError(f"Secret {ns}/{name} was created by someone else meanwhile and holds no key")
    return theirs


def _create_once(kube: Kube, obj: dict) -> None:
    """Create ``obj`` unless it exists (a 409 is fine)."""
    try:
        kube.create(obj)
    except ApiError as exc:
        if exc.status != 409:
            raise
