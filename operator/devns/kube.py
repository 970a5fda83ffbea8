"""A small typed wrapper over the official client's REST layer: get, list, create, server-side apply, delete.

Objects are plain dicts (what ``render.py`` produces and what the API returns), so comparing desired and actual
needs no model conversion. Paths come from ``contract.KINDS``. Only the ``reconcile`` package (and the CLI, which
builds the client) use this module; ``bench/`` uses it as a plain client.
"""

from __future__ import annotations

import json
from typing import Any, Iterator
from urllib.parse import quote

import kubernetes
import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from .contract import FIELD_MANAGER, KINDS
from .diff import upgraded_managed_fields

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
TIMEOUT = (5, 30)  # connect, read seconds: a dead API server is noticed, never waited on forever


class ApiError(Exception):
    """A failed API call: HTTP status, the Status reason and the server's message."""

    def __init__(self, status: int, reason: str, message: str, method: str, path: str):
        super().__init__(f"{method} {path}: {status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message

    @property
    def retriable(self) -> bool:
        """Conflicts, throttling, server errors and timeouts are worth retrying; the rest are not."""
        return self.status in (0, 409, 429) or self.status >= 500


def make_api_client(kubeconfig: str | None = None, pool_size: int = 32) -> ApiClient:
    """Client from ``kubeconfig``, else $KUBECONFIG / ~/.kube/config, else the in-cluster service account."""
    config = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_kube_config(config_file=kubeconfig, client_configuration=config)
    except kubernetes.config.ConfigException:
        if kubeconfig:
            raise
        kubernetes.config.load_incluster_config(client_configuration=config)
    config.connection_pool_maxsize = pool_size
    return ApiClient(config)


class Kube:
    """The API calls devns makes, with dict bodies. Raises ApiError; ``get`` returns None for 404."""

    def __init__(self, api: ApiClient):
        self.api = api

    # -- plumbing --------------------------------------------------------------------------------------------
    @staticmethod
    def path(kind: str, name: str | None = None, namespace: str | None = None, sub: str | None = None) -> str:
        k = KINDS[kind]
        parts = [k.path_prefix]
        if k.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace)}")
        parts.append(k.plural)
        if name:
            parts.append(quote(name, safe=""))
        if sub:
            parts.append(sub)
        return "/".join(parts)

    def request(self, method: str, path: str, *, query: list[tuple[str, str]] | None = None,
                body: Any = None, content_type: str = "application/json", parse: bool = True) -> Any:
        """One API call. ``parse=False``: the caller needs no response body (parsing the whole object the server
        returns, managedFields included, is a good part of a write's client-side CPU)."""
        headers = {"Accept": "application/json", "Content-Type": content_type}
        _, url, headers, body, _ = self.api.param_serialize(
            method=method, resource_path=path, query_params=query or [], header_params=headers, body=body,
            auth_settings=["BearerToken"])
        try:
            resp = self.api.call_api(method, url, headers, body, _request_timeout=TIMEOUT)
            data = resp.read()
        except ApiException as exc:  # raised by the client for transport-level failures
            raise ApiError(exc.status or 0, exc.reason or "Error", str(exc.body or exc), method, path) from exc
        except (OSError, urllib3.exceptions.HTTPError) as exc:  # connection refused or dropped, retries spent
            raise ApiError(0, "Unreachable", str(exc), method, path) from exc
        if not 200 <= resp.status < 300:
            try:
                status = json.loads(data)
                reason, message = status.get("reason", ""), status.get("message", "")
            except ValueError:
                reason, message = resp.reason or "", data.decode(errors="replace")[:500]
            raise ApiError(resp.status, reason, message, method, path)
        return json.loads(data) if data and parse else None

    # -- verbs -----------------------------------------------------------------------------------------------
    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return self.request("GET", self.path(kind, name, namespace))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None,
             fields: str | None = None) -> list[dict[str, Any]]:
        query = [("labelSelector", selector)] if selector else []
        if fields:
            query.append(("fieldSelector", fields))
        return self.request("GET", self.path(kind, namespace=namespace), query=query)["items"]

    def list_pages(self, kind: str, selector: str | None = None, page: int = 500) -> tuple[list[dict[str, Any]], str]:
        """Every object of ``kind`` (cluster-wide), fetched ``page`` at a time; and the listing's resourceVersion,
        where a watch continues."""
        items: list[dict[str, Any]] = []
        token = None
        while True:
            query = [("limit", str(page))] + ([("labelSelector", selector)] if selector else []) + (
                [("continue", token)] if token else [])
            found = self.request("GET", self.path(kind), query=query)
            items += found.get("items") or []
            token = (found.get("metadata") or {}).get("continue")
            if not token:
                return items, (found.get("metadata") or {}).get("resourceVersion", "")

    def watch(self, kind: str, version: str, selector: str | None = None,
              timeout: int = 300) -> Iterator[tuple[str, dict[str, Any]]]:
        """Watch ``kind`` cluster-wide from ``version``: (type, object) per event, bookmarks included (they carry
        only the resourceVersion to continue from). Ends after ``timeout`` seconds (the server closes it); an
        ERROR event raises ApiError (410: the version is too old, list again)."""
        path = self.path(kind)
        query = [("watch", "1"), ("allowWatchBookmarks", "true"), ("timeoutSeconds", str(timeout)),
                 ("resourceVersion", version)] + ([("labelSelector", selector)] if selector else [])
        _, url, headers, _, _ = self.api.param_serialize(method="GET", resource_path=path, query_params=query,
                                                         header_params={"Accept": "application/json"},
                                                         auth_settings=["BearerToken"])
        try:
            resp = self.api.call_api("GET", url, headers, None, _request_timeout=(TIMEOUT[0], timeout + 60))
        except (ApiException, OSError, urllib3.exceptions.HTTPError) as exc:
            raise ApiError(getattr(exc, "status", 0) or 0, "Unreachable", str(exc), "WATCH", path) from exc
        if not 200 <= resp.status < 300:
            raise ApiError(resp.status, resp.reason or "", resp.read().decode(errors="replace")[:500], "WATCH", path)
        try:
            for line in resp.response:
                if not line.strip():
                    continue
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    raise ApiError(status.get("code", 0), status.get("reason", ""), status.get("message", ""),
                                   "WATCH", path)
                yield event["type"], event["object"]
        except (OSError, urllib3.exceptions.HTTPError) as exc:  # dropped: the caller watches again
            raise ApiError(0, "Unreachable", str(exc), "WATCH", path) from exc
        finally:
            resp.response.release_conn()

    def create(self, obj: dict[str, Any], *, parse: bool = True) -> dict[str, Any] | None:
        """POST with devns's field manager; fails with 409 if the object exists. ``parse=False``: return None."""
        meta = obj["metadata"]
        return self.request("POST", self.path(obj["kind"], namespace=meta.get("namespace")), body=obj,
                            query=[("fieldManager", FIELD_MANAGER)], parse=parse)

    def apply(self, obj: dict[str, Any], live: dict[str, Any] | None = None, *, force: bool = True,
              parse: bool = False) -> dict[str, Any] | None:
        """Server-side apply with devns's field manager; ``force``: devns's fields are devns's (without it, a
        field another manager set to another value is a 409 conflict). ``parse``: return the object.

        ``live``: the object as last read. If devns created it with POST, its fields are first handed from the
        Update entry to an Apply entry (one patch, conditional on ``live``'s resourceVersion), so this apply can
        also remove fields devns no longer wants."""
        meta = obj["metadata"]
        path = self.path(obj["kind"], meta["name"], meta.get("namespace"))
        upgraded = upgraded_managed_fields(live, FIELD_MANAGER) if live else None
        if upgraded is not None:
            self.request("PATCH", path, content_type=MERGE, parse=False, body={"metadata": {
                "resourceVersion": live["metadata"]["resourceVersion"], "managedFields": upgraded}})
        return self.request("PATCH", path, body=obj, content_type=APPLY, parse=parse,
                            query=[("fieldManager", FIELD_MANAGER), ("force", "true" if force else "false")])

    def replace(self, obj: dict[str, Any], live: dict[str, Any]) -> None:
        """PUT ``obj`` over ``live`` (conditional on its resourceVersion): every field ``obj`` declares is set
        exactly, fields others added there are gone. ``live``'s metadata is kept, with ``obj``'s labels and
        ownerReferences on top."""
        meta = obj["metadata"]
        kept = {k: v for k, v in live["metadata"].items() if k != "managedFields"}
        kept["labels"] = {**(kept.get("labels") or {}), **(meta.get("labels") or {})}
        if "ownerReferences" in meta:
            kept["ownerReferences"] = meta["ownerReferences"]
        self.request("PUT", self.path(obj["kind"], meta["name"], meta.get("namespace")),
                     body={**obj, "metadata": kept}, query=[("fieldManager", FIELD_MANAGER)], parse=False)

    def patch_status(self, kind: str, name: str, status: dict[str, Any]) -> None:
        self.request("PATCH", self.path(kind, name, sub="status"), body={"status": status}, content_type=MERGE,
                     parse=False)

    def annotate(self, kind: str, name: str, annotations: dict[str, str | None], namespace: str | None = None,
                 *, uid: str | None = None) -> None:
        """Merge-patch annotations (None removes one); with ``uid``, only that exact object."""
        meta: dict[str, Any] = {"annotations": annotations}
        if uid:
            meta["uid"] = uid  # a merge patch whose uid differs from the object's fails with 409
        self.request("PATCH", self.path(kind, name, namespace), body={"metadata": meta}, content_type=MERGE,
                     parse=False, query=[("fieldManager", FIELD_MANAGER)])

    def delete(self, kind: str, name: str, namespace: str | None = None, *,
               uid: str | None = None) -> bool:
        """Delete (background propagation); with ``uid``, only that exact object. False if already gone."""
        body: dict[str, Any] = {"propagationPolicy": "Background"}
        if uid:
            body["preconditions"] = {"uid": uid}
        try:
            self.request("DELETE", self.path(kind, name, namespace), body=body, parse=False)
            return True
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
