"""DevNamespaces as the plugin's commands use them: the name a user's namespace gets, the body to create, who owns
one, its namespace and expiry, reading one or all, and waiting until one is Ready (or saying why it is not) or gone.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any, Callable, Iterable, TypeVar

from kubernetes.client import ApiClient, CustomObjectsApi
from kubernetes.client.rest import ApiException

from ..contract import API_VERSION, GROUP, KIND, PLURAL, VERSION
from ..units import parse_duration, parse_time
from .errors import PluginError

T = TypeVar("T")

#: How the API server names a ServiceAccount: system:serviceaccount:<namespace>:<name>.
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"

#: How long create/onboard wait for Ready by default (the operator makes one in well under a second).
READY_TIMEOUT = 60.0


def slug(name: str) -> str:
    """A user or group name as the self-service namespaceNames pattern's {user}/{group} spells it: the part before
    '@' (a ServiceAccount's <namespace>:<name>), lower-cased, each run of characters other than [a-z0-9] turned into
    one '-' (alice.smith@example.com -> alice-smith, system:serviceaccount:ci:deployer -> ci-deployer)."""
    if name.startswith(SERVICE_ACCOUNT_PREFIX):
        name = name[len(SERVICE_ACCOUNT_PREFIX):]
    else:
        name = name.split("@", 1)[0]
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


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


def owner_for(username: str) -> dict[str, str]:
    """The owner entry that names a user: a ServiceAccount owner for system:serviceaccount:NS:NAME, else a User."""
    if username.startswith(SERVICE_ACCOUNT_PREFIX):
        namespace, _, name = username[len(SERVICE_ACCOUNT_PREFIX):].partition(":")
        return {"kind": "ServiceAccount", "name": name, "namespace": namespace}
    return {"kind": "User", "name": username}


def owned_by(obj: dict[str, Any], username: str, groups: Iterable[str] = ()) -> bool:
    """Whether the owners name this user (as a User, or as the ServiceAccount it is) or one of their groups."""
    me = owner_for(username)
    return (owners_include(obj, me["kind"], me["name"], me.get("namespace"))
            or any(owners_include(obj, "Group", group) for group in groups))


def owner_text(owner: dict[str, Any]) -> str:
    """``User alice@example.com``, ``Group team-a``, ``ServiceAccount ci/deployer``."""
    name = f"{owner['namespace']}/{owner['name']}" if owner.get("namespace") else owner.get("name", "")
    return f"{owner.get('kind', '?')} {name}"


def owner_ref(owner: dict[str, Any]) -> str:
    """The ``--owner`` spelling: ``User:alice@example.com``, ``Group:team-a``, ``ServiceAccount:ci:deployer``."""
    parts = [owner.get("kind", "?"), owner.get("namespace"), owner.get("name", "")]
    return ":".join(p for p in parts if p)


def namespace_of(obj: dict[str, Any]) -> str:
    """The namespace a DevNamespace manages: as its status says, else spec.namespace, else its own name."""
    return ((obj.get("status") or {}).get("namespace") or (obj.get("spec") or {}).get("namespace")
            or obj["metadata"]["name"])


def created_at(obj: dict[str, Any]) -> dt.datetime | None:
    stamp = obj["metadata"].get("creationTimestamp")
    return parse_time(stamp) if stamp else None


def expiry_of(obj: dict[str, Any]) -> dt.datetime | None:
    """When it expires (UTC): the operator's status.expiresAt, else what the spec says before the operator has
    looked (spec.expiresAt, or creation + spec.ttl); None for never, or while only the operator's default applies
    and it has not said yet."""
    status, spec = obj.get("status") or {}, obj.get("spec") or {}
    if status.get("expiresAt"):
        return parse_time(status["expiresAt"])
    if spec.get("expiresAt"):
        return parse_time(spec["expiresAt"])
    created = created_at(obj)
    if spec.get("ttl") and spec["ttl"] != "never" and created is not None:
        return created + parse_duration(spec["ttl"])
    return None


def poll(check: Callable[[], T | None], timeout: float, on_timeout: Callable[[], Exception],
         clock: Callable[[], float] = time.monotonic) -> T:
    """Call ``check`` (backing off from 50 ms to 0.5 s) until it returns something other than None, and return
    that; after ``timeout`` seconds raise what ``on_timeout`` makes."""
    deadline, delay = clock() + timeout, 0.05
    while True:
        result = check()
        if result is not None:
            return result
        if clock() >= deadline:
            raise on_timeout()
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


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

    def require(self, name: str) -> dict[str, Any]:
        """The DevNamespace, or a one-line error when there is none of that name."""
        obj = self.get(name)
        if obj is None:
            raise PluginError(f'DevNamespace "{name}" not found (kubectl devns list shows those you may see)')
        return obj

    def list(self) -> list[dict[str, Any]]:
        return self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)["items"]

    def create(self, obj: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        return self.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, obj,
                                                        dry_run="All" if dry_run else None)

    def patch_spec(self, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        """A JSON merge patch of the spec (None deletes a field)."""
        return self.custom.patch_cluster_custom_object(GROUP, VERSION, PLURAL, name, {"spec": spec})

    def annotate(self, name: str, annotations: dict[str, str | None]) -> dict[str, Any]:
        """A JSON merge patch of the annotations (None deletes one)."""
        return self.custom.patch_cluster_custom_object(GROUP, VERSION, PLURAL, name,
                                                       {"metadata": {"annotations": annotations}})

    def delete(self, name: str) -> None:
        self.custom.delete_cluster_custom_object(GROUP, VERSION, PLURAL, name)

    def wait_awake(self, name: str, timeout: float = READY_TIMEOUT,
                   clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
        """The DevNamespace once it is no longer Sleeping (the operator has restored its workloads)."""
        def check() -> dict[str, Any] | None:
            obj = self.require(name)
            return obj if (obj.get("status") or {}).get("phase") != "Sleeping" else None
        return poll(check, timeout, lambda: PluginError(
            f'DevNamespace "{name}" is still Sleeping after {timeout:.0f} s; is the devns operator running? See: '
            f"kubectl describe devnamespace {name}"), clock)

    def wait_ready(self, name: str, timeout: float = READY_TIMEOUT,
                   clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
        """The DevNamespace once the operator has made it Ready for its current generation. A Failed condition
        (bad spec, over a limit, name taken) ends the wait at once with that condition's message."""
        last: dict[str, Any] = {}

        def check() -> dict[str, Any] | None:
            obj = last["obj"] = self.get(name)
            if obj is None:
                raise PluginError(f'DevNamespace "{name}" was deleted while waiting for it to become Ready')
            verdict = readiness(obj)
            if isinstance(verdict, str):
                raise PluginError(f'DevNamespace "{name}" is not Ready: {verdict}')
            return obj if verdict is True else None

        def late() -> PluginError:
            phase = (last["obj"].get("status") or {}).get("phase") or "no status yet"
            return PluginError(f'DevNamespace "{name}" is not Ready after {timeout:.0f} s ({phase}); is the devns '
                               f'operator running? See: kubectl describe devnamespace {name}')
        return poll(check, timeout, late, clock)

    def wait_gone(self, name: str, timeout: float = READY_TIMEOUT,
                  clock: Callable[[], float] = time.monotonic) -> None:
        """Until the DevNamespace is gone (the operator deletes its namespace first, then lets it go)."""
        poll(lambda: True if self.get(name) is None else None, timeout,
             lambda: PluginError(f'DevNamespace "{name}" is still there after {timeout:.0f} s (deleting its namespace '
                                 f'takes until everything in it is gone); see: kubectl devns status {name}'), clock)


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
