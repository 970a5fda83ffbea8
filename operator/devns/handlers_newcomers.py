"""New DevNamespaces that Kopf has not got to: provisioned from devns's own DevNamespace watch (``informer``), so
that a new developer never waits behind Kopf.

Kopf can be behind in two ways. A start-up over 10,000 DevNamespaces keeps its event loop busy for most of a
minute (each listed object takes its turn), and the create handler of a DevNamespace made meanwhile waits among
them a step at a time. And a Kopf watch stream can stall after the API server went away and came back (Kopf
issues #996 and #1276: a stream that delivers nothing until its inactivity timeout, or ever again), while devns's
own watch, a thread of its own, still sees every DevNamespace. So a DevNamespace that appears with devns's
finalizer and no status is provisioned here, in the provisioning pool: at once while Kopf has not taken every
DevNamespace it listed at start (``Newcomers.starting``), otherwise when it is still untouched ``GRACE`` seconds
later. Kopf's own create handler comes later, reads it again (its copy predates the status) and finds it done.

One provisioning at a time per DevNamespace (``Newcomers.lock``): this path and Kopf's handler never overlap, and
this path takes only a DevNamespace never provisioned, read again under that lock. Only while this replica acts (a
standby provisions nothing).
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import threading
import time
from typing import Any, Callable, Iterable, Iterator, Mapping

import kopf

from .contract import FINALIZER, KIND
from .handlers import _provision, record
from .kube import ApiError

log = logging.getLogger("devns")
#: However long a start-up takes, new DevNamespaces wait their GRACE again after this long.
STARTUP_LIMIT = 900.0
#: Seconds a new DevNamespace is left to Kopf's create handler (which takes well under one) outside a start-up.
GRACE = 10.0


class Newcomers:
    """The DevNamespaces listed at start-up that Kopf has not handled yet (``starting`` while any is left, for at
    most STARTUP_LIMIT seconds), the new ones waiting out their grace, and a lock per DevNamespace provisioned."""

    def __init__(self, listed: Iterable[str], limit: float = STARTUP_LIMIT, grace: float = GRACE):
        self._pending = set(listed)
        self._until = time.monotonic() + limit
        self.grace = grace
        self._locks: dict[str, list[Any]] = {}  # uid -> [its lock, how many hold or want it]
        self._guard = threading.Lock()
        self._due: list[tuple[float, str, str]] = []  # (when, uid, name): the grace of each, earliest first
        self._wake = threading.Condition(self._guard)
        self._thread: threading.Thread | None = None
        self.provisioned: set[str] = set()  # uids provisioned here, that Kopf has not handled yet
        self.claimed: set[str] = set()  # uids taken here (an event repeated is not taken twice)

    @property
    def starting(self) -> bool:
        return bool(self.pending())

    def pending(self) -> int:
        """How many listed DevNamespaces Kopf has not handled yet (0 after STARTUP_LIMIT)."""
        if self._pending and time.monotonic() >= self._until:
            self._pending.clear()
        return len(self._pending)

    def handled(self, uid: str) -> None:
        """Kopf ran a handler for ``uid`` (or it is gone)."""
        self._pending.discard(uid)
        self.provisioned.discard(uid)
        self.claimed.discard(uid)

    @contextlib.contextmanager
    def lock(self, uid: str) -> Iterator[None]:
        with self._guard:
            entry = self._locks.setdefault(uid, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if not entry[1]:
                    self._locks.pop(uid, None)

    def later(self, uid: str, name: str, then: Callable[[str, str], None]) -> None:
        """Call ``then(uid, name)`` after the grace (from a thread of its own, started on first use)."""
        with self._wake:
            heapq.heappush(self._due, (time.monotonic() + self.grace, uid, name))
            self._wake.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, args=(then,), name="devns-newcomers", daemon=True)
                self._thread.start()

    def _run(self, then: Callable[[str, str], None]) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._wake.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, uid, name = heapq.heappop(self._due)
            try:
                then(uid, name)
            except Exception:  # noqa: BLE001 - the thread outlives any one DevNamespace
                log.exception(f"devnamespace/{name}: checking whether it was provisioned failed")


def unprovisioned(obj: Mapping[str, Any]) -> bool:
    """Born with devns's finalizer (the admission policy adds it), never provisioned, not being deleted."""
    meta = obj.get("metadata") or {}
    return (not (obj.get("status") or {}).get("phase") and not meta.get("deletionTimestamp")
            and FINALIZER in (meta.get("finalizers") or ()))


def watched(memo: kopf.Memo, event_type: str, obj: Mapping[str, Any]) -> None:
    """An event of the informer's own watch (its thread): a new DevNamespace is provisioned at once during a
    start-up, else looked at again after the grace."""
    newcomers: Newcomers = memo.newcomers
    uid, name = obj["metadata"]["uid"], obj["metadata"]["name"]
    if event_type == "DELETED":
        newcomers.handled(uid)
        return
    if event_type != "ADDED" or not unprovisioned(obj) or uid in newcomers.claimed:
        return
    newcomers.claimed.add(uid)
    if newcomers.starting:
        take(memo, uid, name)
    else:
        newcomers.later(uid, name, lambda uid, name: still_new(memo, uid, name))


def still_new(memo: kopf.Memo, uid: str, name: str) -> None:
    """After the grace: if the indexes still show it untouched (Kopf is behind), provision it."""
    if uid not in memo.newcomers.claimed:
        return  # Kopf handled it, or it is gone
    peer = next(iter(memo.indexes.devnamespace_peers.get(uid) or []), None)
    if peer is not None and not peer.phase and not peer.deleting:
        log.warning(f"devnamespace/{name} is still not provisioned {memo.newcomers.grace:g} s after it was created: "
                    "Kopf is behind; provisioning it from devns's own watch")
        take(memo, uid, name)


def take(memo: kopf.Memo, uid: str, name: str) -> None:
    if memo.acting.is_set():  # a standby provisions nothing
        memo.lanes.executor.submit(provision_now, memo, name, uid)


def provision_now(memo: kopf.Memo, name: str, uid: str) -> None:
    """Provision DevNamespace ``name`` (``uid``) as its create handler would, and write its status."""
    ctx, started = memo.ctx, time.monotonic()
    newcomers: Newcomers = memo.newcomers
    try:
        with newcomers.lock(uid):
            body = ctx.kube.get(KIND, name)
            if body is None or body["metadata"]["uid"] != uid or not unprovisioned(body):
                return  # gone, or Kopf got there first
            outcome = _provision(memo, body)
            if outcome.status:
                ctx.kube.patch_status(KIND, name, outcome.status)
            newcomers.provisioned.add(uid)
        record(memo, body, outcome, time.monotonic() - started, log, "create (ahead of Kopf)")
    except ApiError as exc:  # Kopf's create handler comes anyway and retries as it does
        log.warning(f"create (ahead of Kopf) devnamespace/{name} failed, left to its handler: {exc}")
    except Exception:  # noqa: BLE001 - a thread of the pool: log, and leave it to Kopf's handler
        log.exception(f"create (ahead of Kopf) devnamespace/{name} failed, left to its handler")
