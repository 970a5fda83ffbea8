"""Start-up: the key that signs the namespaces devns creates (read from its Secret, created on first start)."""

from __future__ import annotations

import base64
import secrets

from ..contract import SELF_LABELS
from ..kube import ApiError, Kube
from ..settings import Settings


def ensure_gc_key(kube: Kube, settings: Settings) -> bytes:
    """Read the signing key from its Secret, creating the Secret (and the operator's namespace) on first start."""
    ns, name = settings.operator_namespace, settings.gc_key_secret
    secret = kube.get("Secret", name, ns)
    if secret is None:
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
            secret = kube.get("Secret", name, ns)
    return base64.b64decode(secret["data"]["key"])


def _create_once(kube: Kube, obj: dict) -> None:
    """Create ``obj`` unless it exists (a 409 is fine)."""
    try:
        kube.create(obj)
    except ApiError as exc:
        if exc.status != 409:
            raise
