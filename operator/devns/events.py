"""Events about DevNamespaces, posted where ``kubectl describe devnamespace NAME`` finds them.

A DevNamespace is cluster-scoped, so its Events live in the ``default`` namespace (the API server accepts only
that, or none, for an object without a namespace) and name it with an EMPTY ``involvedObject.namespace``: kubectl
describe, like every event lookup for Nodes and other cluster-scoped objects, selects on the object's own
(empty) namespace. Kopf's own poster fills in ``default`` there, which no lookup matches, so devns posts its
Events itself (``Poster``) and turns Kopf's posting off.

``event_for`` is pure; ``Poster`` posts from one background thread, so a handler never waits for an Event and a
failed post is logged, never a failed reconcile (as with Kopf's poster).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from typing import Any, Callable, Mapping

from .contract import KINDS
from .kube import ApiError, Kube
from .units import format_time

#: Where Events of cluster-scoped objects live (the API server refuses any other namespace for them).
EVENTS_NAMESPACE = "default"
COMPONENT = "devns"
#: The API server's limit on an Event's message is 1 KiB; longer ones are cut in the middle, as Kopf does.
MAX_MESSAGE = 1024


def _shorten(message: str) -> str:
    if len(message) <= MAX_MESSAGE:
        return message
    half = (MAX_MESSAGE - 3) // 2
    return f"{message[:half]}...{message[-half:]}"


def event_for(body: Mapping[str, Any], type_: str, reason: str, message: str, now: dt.datetime) -> dict[str, Any]:
    """The core/v1 Event about the DevNamespace ``body``, as describe looks it up."""
    meta = body["metadata"]
    stamp = format_time(now)
    return {"apiVersion": KINDS["Event"].api_version, "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": EVENTS_NAMESPACE},
            "involvedObject": {"apiVersion": body["apiVersion"], "kind": body["kind"], "name": meta["name"],
                               "uid": meta["uid"], "resourceVersion": meta.get("resourceVersion"), "namespace": ""},
            "type": type_, "reason": reason, "message": _shorten(message), "count": 1,
            "firstTimestamp": stamp, "lastTimestamp": stamp,
            "source": {"component": COMPONENT}, "reportingComponent": COMPONENT, "reportingInstance": COMPONENT}


class Poster:
    """Posts Events in the background, in the order they were asked for."""

    def __init__(self, kube: Kube, clock: Callable[[], dt.datetime], logger: logging.Logger) -> None:
        self.kube, self.clock, self.logger = kube, clock, logger
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def post(self, body: Mapping[str, Any], event: tuple[str, str, str]) -> None:
        """Queue ``event`` (type, reason, message) about ``body``; returns at once, from any thread."""
        self._queue.put(event_for(body, *event, now=self.clock()))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="devns-events", daemon=True)
                self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Post what is queued (within ``timeout``), then stop."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                self.kube.create(event, parse=False)
            except ApiError as exc:
                self.logger.warning(f"could not post Event {event['reason']} about "
                                    f"devnamespace/{event['involvedObject']['name']}: {exc}")
