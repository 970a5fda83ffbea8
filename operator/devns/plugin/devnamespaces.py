"""DevNamespaces as the plugin's commands use them: the name a user's namespace gets, the body to create, reading
one or all, and waiting until one is Ready (or saying why it is not)."""

from __future__ import annotations

import re
import time
from typing import Any, Callable

from kubernetes.client import ApiClient, CustomObjectsApi
from kubernetes.client.rest import ApiException

from ..contract import API_VERSION, GROUP, KIND, PLURAL, VERSION
from .errors import PluginError

#: How long create/onboard wait for Ready by default (the operator makes one in well under a second).
READY_TIMEOUT = 60.0


def slug(name: str) -> str:
    """A user or group name as the self-service namespaceNames pattern's {user}/{group} spells it: the part before
    '@', lower-cased, each run of characters other than [a-z0-9] turned into one '-' (alice.smith@example.com ->
    alice-smith)."""
    return re.sub(r"[^a-z0-9]+", "-", name.split("@", 1)[0].lower()).strip("-")


def default_name(user: str, team: str | None) -> str:
    """``<user>-<team>`` (alice-payments) or ``<user>-dev``: inside the self-service default pattern {user}-*."""
    base = slug(user) or "dev"
    suffix = slug(team) if team else "dev"
    return f"{base[:62 - len(suffix)].rstrip('-')}-{suffix}"


def body(name: str, owners: list[dict[str, str]], **spec: Any) -> dict[str, Any]:
    """A DevNamespace; spec fields that are None are left out (the server's defaults apply)."""
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name},
            "spec": {"owners": owners, **{k: v for k, v in spec.items() if v is not None}}}


def owners_include(obj: dict[str, Any], kind: str, name: str, namespace: str | None = None) -> bool:
    return any(o.get("kind") == kind and o.get("name") == name and o.get("namespace") == namespace
               for o in (obj.get("spec") or {}).get("owners") or [])


class DevNamespaceApi:
    """The DevNamespace calls of the plugin (cluster-scoped custom objects)."""

    def __init__(self, api: ApiClient) -> None:
        self.custom = CustomObjectsApi(api)

    def get(self, name: str) -> dict[str, Any] | None:
        try:
            return self.custom.get_cluster_custom_object(GROUP, VERSION, PLURAL, name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def list(self) -> list[dict[str, Any]]:
        return self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)["items"]

    def create(self, obj: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        return self.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, obj,
                                                        dry_run="All" if dry_run else None)

    def patch_spec(self, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        """A JSON merge patch of the spec (None deletes a field)."""
        return self.custom.patch_cluster_custom_object(GROUP, VERSION, PLURAL, name, {"spec": spec})

    def delete(self, name: str) -> None:
        self.custom.delete_cluster_custom_object(GROUP, VERSION, PLURAL, name)

    def wait_ready(self, name: str, timeout: float = READY_TIMEOUT,
                   clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
        """The DevNamespace once the operator has made it Ready for its current generation. A Failed condition
        (bad spec, over a limit, name taken) ends the wait at once with that condition's message."""
        deadline, delay = clock() + timeout, 0.05
        while True:
            obj = self.get(name)
            if obj is None:
                raise PluginError(f'DevNamespace "{name}" was deleted while waiting for it to become Ready')
            verdict = readiness(obj)
            if verdict is True:
                return obj
            if isinstance(verdict, str):
                raise PluginError(f'DevNamespace "{name}" is not Ready: {verdict}')
            if clock() >= deadline:
                phase = (obj.get("status") or {}).get("phase") or "no status yet"
                raise PluginError(f'DevNamespace "{name}" is not Ready after {timeout:.0f} s ({phase}); is the devns '
                                  f'operator running? See: kubectl describe devnamespace {name}')
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def readiness(obj: dict[str, Any]) -> bool | str | None:
    """True when Ready for the current generation; the message of a Failed phase (as a string); None while the
    operator has not got there yet."""
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"].get("generation"):
        return None
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    if ready.get("status") == "True":
        return True
    if status.get("phase") == "Failed":
        return f"{ready.get('reason', 'Failed')}: {ready.get('message', '')}".rstrip(": ")
    return None
