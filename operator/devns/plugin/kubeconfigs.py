"""The kubeconfig a developer or a CI job gets: built as a dict (the admin's cluster entry, one user, one context
pinned to the DevNamespace's namespace, set as current) and written atomically with mode 0600, since it holds a
private key or a token: a temporary file created 0600 in the target's directory, then renamed over the target, so
no reader ever sees a partial file or a wider mode. ``-`` writes to stdout instead. Pure, but for the file.
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

import yaml

from .errors import PluginError
from .session import ClusterInfo

STDOUT = "-"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def client_certificate(cert_pem: bytes, key_pem: bytes) -> dict[str, str]:
    """A kubeconfig user authenticating with a client certificate (both inlined: nothing else to hand over)."""
    return {"client-certificate-data": b64(cert_pem), "client-key-data": b64(key_pem)}


def bearer_token(token: str) -> dict[str, str]:
    return {"token": token}


def build(cluster: ClusterInfo, user: str, credentials: dict[str, str], context: str,
          namespace: str) -> dict[str, Any]:
    """One cluster (the admin's server and CA), one user, one context in ``namespace``, current."""
    entry: dict[str, Any] = {"server": cluster.server}
    if cluster.ca_data:
        entry["certificate-authority-data"] = cluster.ca_data
    if cluster.insecure:
        entry["insecure-skip-tls-verify"] = True
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": cluster.name, "cluster": entry}],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": context, "context": {"cluster": cluster.name, "user": user, "namespace": namespace}}],
        "current-context": context,
    }


def dump(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def check_destination(path: str) -> None:
    """Fail now, before anything is made, if ``path`` cannot be written later (a directory, a missing or read-only
    folder)."""
    if path == STDOUT:
        return
    target = Path(path)
    if target.is_dir():
        raise PluginError(f"cannot write the kubeconfig to {path}: it is a directory; pass a file name with -f")
    folder = target.parent
    if not folder.is_dir():
        raise PluginError(f"cannot write the kubeconfig to {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PluginError(f"cannot write the kubeconfig to {path}: folder {folder} is not writable")


def write(path: str, config: dict[str, Any]) -> None:
    """Write ``config`` to ``path`` (mode 0600, replacing any file there in one rename) or to stdout for ``-``."""
    text = dump(config)
    if path == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)  # mode 0600
    except OSError as exc:
        raise PluginError(f"cannot write the kubeconfig to {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise PluginError(f"cannot write the kubeconfig to {path}: {exc.strerror}") from exc
        raise
