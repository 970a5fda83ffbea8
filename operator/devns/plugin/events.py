"""The Events of a DevNamespace and of its namespace, found where ``kubectl describe`` looks for them.

A DevNamespace is cluster-scoped: its Events carry ``involvedObject.namespace: ""`` (the operator posts them in
the namespace ``default``), and ``kubectl describe devnamespace NAME`` finds them by listing Events in every
namespace with the field selector kind, name, empty namespace and uid. ``devnamespace_events`` does exactly that,
so what ``status`` shows is what ``describe`` shows. Reading them needs ``list`` on Events in that namespace,
which developers usually lack: the caller says so and shows the namespace's own Events instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from kubernetes.client import ApiClient, CoreV1Api, CoreV1Event

from ..contract import KIND
from ..units import format_time

#: How many Events status shows (the most recent).
RECENT = 15


def devnamespace_selector(obj: dict[str, Any]) -> str:
    """The field selector kubectl describe uses for a cluster-scoped object (kind, name, empty namespace, uid)."""
    meta = obj["metadata"]
    fields = [f"involvedObject.kind={KIND}", f"involvedObject.name={meta['name']}", "involvedObject.namespace="]
    if meta.get("uid"):
        fields.append(f"involvedObject.uid={meta['uid']}")
    return ",".join(fields)


def devnamespace_events(api: ApiClient, obj: dict[str, Any]) -> list[CoreV1Event]:
    """The Events about this DevNamespace, oldest first, from every namespace, as describe finds them. Raises the
    API's ApiException (403) when the reader may not list Events where they are."""
    found = CoreV1Api(api).list_event_for_all_namespaces(field_selector=devnamespace_selector(obj))
    return sorted(found.items, key=event_time)


def namespace_events(api: ApiClient, namespace: str) -> list[CoreV1Event]:
    """Every Event in the namespace (its pods', its own, devns's), oldest first."""
    return sorted(CoreV1Api(api).list_namespaced_event(namespace).items, key=event_time)


def event_time(event: CoreV1Event) -> dt.datetime:
    """When it last happened: lastTimestamp, else eventTime, firstTimestamp, creationTimestamp."""
    series = event.series.last_observed_time if event.series else None
    return (event.last_timestamp or series or event.event_time or event.first_timestamp
            or event.metadata.creation_timestamp or dt.datetime.min.replace(tzinfo=dt.timezone.utc))


def event_record(event: CoreV1Event) -> dict[str, Any]:
    """An Event as status prints it (and its -o yaml/json shows it)."""
    involved = event.involved_object
    return {"lastSeen": format_time(event_time(event)), "type": event.type or "", "reason": event.reason or "",
            "object": f"{involved.kind}/{involved.name}", "message": (event.message or "").strip(),
            "count": event.count or 1}


def recent(*lists: Iterable[CoreV1Event], limit: int = RECENT) -> list[dict[str, Any]]:
    """The latest ``limit`` Events of all ``lists`` (each counted once), oldest first, as records."""
    seen: dict[str, CoreV1Event] = {}
    for event in (e for events in lists for e in events):
        seen.setdefault(event.metadata.uid or event.metadata.name, event)
    return [event_record(e) for e in sorted(seen.values(), key=event_time)[-limit:]]
