"""Watches outside Kopf: one thread per kind lists its objects (with a label selector), then watches from there,
and lists again after any failure (a 410 Gone, a dropped connection). Each watch event goes to ``deliver(kind,
type, object)``, each listing to ``on_list(items, resourceVersion)``. Used for the objects devns manages
(``handlers_drift``) and for devns's indexes of the DevNamespaces (``informer``).

Why not Kopf's watches: Kopf runs every event of every object through its per-object machinery (a worker task,
cause detection, handler invocation) and hands it every object again at every start: about 10 per DevNamespace,
100,000 at the cluster's limit of namespaces. Here an event costs a JSON parse; a start costs one LIST per kind.
``relist`` lists a kind once more now (a replica that becomes active looks for the orphans it left alone while it
stood by).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from .kube import Kube

log = logging.getLogger("devns")

Deliver = Callable[[str, str, dict[str, Any]], None]
OnList = Callable[[list[dict[str, Any]], str], None]


class KindWatch(threading.Thread):
    """List, then watch, one kind, for as long as the process runs; ``version``: a listing made already (the
    watch starts there)."""

    def __init__(self, kube: Kube, kind: str, deliver: Deliver, on_list: OnList, *, selector: str | None = None,
                 version: str = ""):
        super().__init__(name=f"devns-watch-{kind}", daemon=True)
        self.kube, self.kind, self.selector, self.deliver, self.on_list = kube, kind, selector, deliver, on_list
        self.version = version

    def run(self) -> None:
        backoff = 1.0
        while True:
            try:
                self.cycle()
                backoff = 1.0
            except Exception as exc:  # noqa: BLE001: the thread must outlive any failure
                log.warning(f"watching {self.kind} objects failed, listing again in {backoff:.0f} s: {exc}")
                self.version = ""
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)  # an API server back after a restart is seen within 5 s

    def cycle(self) -> None:
        """List if there is no version to watch from, then one watch request (until the server ends it)."""
        if not self.version:
            self._list()
        for type_, obj in self.kube.watch(self.kind, self.version, self.selector):
            self.version = obj["metadata"].get("resourceVersion", self.version)
            if type_ != "BOOKMARK":
                self.deliver(self.kind, type_, obj)

    def _list(self) -> None:
        items, version = self.kube.list_pages(self.kind, self.selector)
        self.on_list(items, version)
        self.version = self.version or version

    def relist(self) -> None:
        """List once more, now, in a thread of its own (the watch goes on)."""
        def once() -> None:
            try:
                self._list()
            except Exception as exc:  # noqa: BLE001
                log.warning(f"listing {self.kind} objects again failed: {exc}")
        threading.Thread(target=once, name=f"devns-relist-{self.kind}", daemon=True).start()
