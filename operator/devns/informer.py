"""devns's own indexes of the DevNamespaces, kept as a Kubernetes informer keeps its cache: one LIST before Kopf
starts (every handler sees every DevNamespace from the first event on), a watch from there in a thread of its
own, and Kopf's DevNamespace events on top (``observe``: the handlers of an event see that event indexed, as with
Kopf's own indexes). The newest resourceVersion of each DevNamespace wins, and a deleted one stays deleted.

Why not Kopf's indexes: until every indexed object is indexed, Kopf holds the worker of every object of every
watched resource (the ~10 children of each DevNamespace too) on one condition, and wakes all of them for each
object it indexes. That is quadratic at start-up: a restart over a few thousand DevNamespaces spent most of its
time there. Nothing here waits for anything; the first LIST makes the indexes complete before any handler runs.

An index maps keys to the values the DevNamespaces contribute (a function per index: body -> {key: value}), and
reads like a Kopf index: iterate the keys, ``index[key]`` / ``index.get(key, default)`` for the values. Safe to
read from any thread (a key iterated a moment ago may have no values left: ``index[key]`` is then empty).

Having both streams, it also tells whether Kopf's is still alive (``Hearing``: events seen here that Kopf does
not deliver while it delivers nothing at all), for the liveness probe.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable, Iterator, Mapping

from .contract import KIND
from .kube import Kube
from .watches import KindWatch

Contribution = Callable[[Mapping[str, Any]], dict[str, Any]]
#: Deleted uids remembered (so a late event cannot bring one back): far more than can be in flight.
TOMBSTONES = 10_000


class Index:
    """key -> the values DevNamespaces contribute to it; read-only for its users."""

    def __init__(self, lock: threading.RLock):
        self._lock = lock
        self._values: dict[str, dict[str, Any]] = {}  # key -> uid -> value

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __getitem__(self, key: str) -> list[Any]:
        """The values under ``key``; none (not KeyError) for a key that went since it was iterated: the watch
        thread changes the index while handlers read it."""
        with self._lock:
            return list(self._values.get(key, {}).values())

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            values = self._values.get(key)
            return default if values is None else list(values.values())

    def _set(self, uid: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        for key in before.keys() - after.keys():
            values = self._values.get(key, {})
            values.pop(uid, None)
            if not values:
                self._values.pop(key, None)
        for key, value in after.items():
            self._values.setdefault(key, {})[uid] = value


class Informer:
    """The indexes named in ``functions``, as attributes (``informer.devnamespace_peers``); ``on_change`` is
    called after any DevNamespace changed them."""

    def __init__(self, functions: Mapping[str, Contribution], on_change: Callable[[], None] = lambda: None):
        self._lock = threading.RLock()
        self._functions = dict(functions)
        self._indexes = {name: Index(self._lock) for name in functions}
        self._contributed: dict[str, dict[str, dict[str, Any]]] = {}  # uid -> index name -> its contribution
        self._versions: dict[str, int] = {}  # uid -> resourceVersion indexed
        self._gone: collections.OrderedDict[str, int] = collections.OrderedDict()  # deleted uid -> version
        self.on_change = on_change
        self.version = ""  # the resourceVersion the watch continues from
        self.hearing = Hearing()

    def __getattr__(self, name: str) -> Index:
        try:
            return self.__dict__["_indexes"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __len__(self) -> int:
        return len(self._versions)

    # -- keeping it current ---------------------------------------------------------------------------------------

    def observe(self, event: Mapping[str, Any]) -> bool:
        """A watch event (Kopf's or the informer's own): index the object, or forget it when deleted. False when
        it brought nothing new (an older version, or a deletion already seen)."""
        obj = event["object"]
        if event.get("type") == "DELETED":
            return self.remove(obj)
        return self.put(obj)

    def from_kopf(self, event: Mapping[str, Any]) -> None:
        """An event Kopf delivered (its handlers call this first): ``observe``, and Kopf is hearing (``hearing``)."""
        self.observe(event)
        meta = event["object"]["metadata"]
        self.hearing.kopf(meta["uid"], _version(meta))

    def from_own_watch(self, event: Mapping[str, Any]) -> None:
        """An event of the informer's own watch: ``observe``; if Kopf had not delivered it yet, it waits for Kopf
        to (``hearing``)."""
        if self.observe(event):
            meta = event["object"]["metadata"]
            self.hearing.own(meta["uid"], _version(meta))

    def put(self, body: Mapping[str, Any]) -> bool:
        meta = body["metadata"]
        uid, version = meta["uid"], _version(meta)
        with self._lock:
            if uid in self._gone or 0 <= version <= self._versions.get(uid, -1):
                return False  # deleted, or not newer than what is indexed
            self._versions[uid] = version
            contributed = self._contributed.setdefault(uid, {})
            for name, fn in self._functions.items():
                after = fn(body)
                self._indexes[name]._set(uid, contributed.get(name, {}), after)
                contributed[name] = after
        self.on_change()
        return True

    def remove(self, body: Mapping[str, Any]) -> bool:
        meta = body["metadata"]
        uid = meta["uid"]
        with self._lock:
            if uid in self._gone:
                return False
            self._gone[uid] = _version(meta)
            while len(self._gone) > TOMBSTONES:
                self._gone.popitem(last=False)
            self._versions.pop(uid, None)
            for name, contribution in self._contributed.pop(uid, {}).items():
                self._indexes[name]._set(uid, contribution, {})
        self.on_change()
        return True

    def replace(self, items: list[Mapping[str, Any]], version: str) -> None:
        """A full LIST: index every item; forget what it no longer has (deleted while nobody watched), unless
        what is indexed is newer than the listing (created since, seen in one of Kopf's events)."""
        present = {item["metadata"]["uid"] for item in items}
        for item in items:
            self.put(item)
        listed = _version({"resourceVersion": version})
        with self._lock:
            missing = [uid for uid, v in self._versions.items() if uid not in present and not v > listed >= 0]
        for uid in missing:
            self.remove({"metadata": {"uid": uid, "resourceVersion": version}})
        self.version = version

    # -- from the API ---------------------------------------------------------------------------------------------

    def prime(self, kube: Kube) -> None:
        """LIST every DevNamespace (in pages) and index them; where the watch starts."""
        items, version = kube.list_pages(KIND)
        self.replace(items, version)

    def uids(self) -> list[str]:
        """The DevNamespaces indexed now."""
        with self._lock:
            return list(self._versions)

    def follow(self, kube: Kube, then: Callable[[str, Mapping[str, Any]], None] = lambda *_: None) -> KindWatch:
        """Start the thread that watches DevNamespaces from the ``prime`` listing (LISTing again after any
        failure); ``then(type, object)`` after each of its events is indexed (in that thread)."""
        def deliver(_: str, type_: str, obj: Mapping[str, Any]) -> None:
            self.from_own_watch({"type": type_, "object": obj})
            then(type_, obj)

        watch = KindWatch(kube, KIND, deliver, self.replace, version=self.version)
        watch.start()
        return watch


class Hearing:
    """Whether Kopf still hears DevNamespace events: each event devns's own watch saw before Kopf delivered it
    waits here until Kopf delivers that version or a later one. ``deaf``: some waited ``after`` seconds and Kopf
    delivered nothing at all meanwhile (its watch stream is stuck: Kopf #996, #1276), so that the liveness probe
    can fail and the kubelet restart the operator."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        self._unheard: dict[str, tuple[int, float]] = {}  # uid -> (the first version Kopf has not delivered, when)
        self._heard = clock()  # when Kopf last delivered an event

    def own(self, uid: str, version: int) -> None:
        with self._lock:
            self._unheard.setdefault(uid, (version, self.clock()))

    def kopf(self, uid: str, version: int) -> None:
        with self._lock:
            self._heard = self.clock()
            waiting = self._unheard.get(uid)
            if waiting is not None and version >= waiting[0]:
                del self._unheard[uid]

    def reset(self) -> None:
        """Forget what waits (a replica that becomes active: Kopf lists everything again)."""
        with self._lock:
            self._unheard.clear()
            self._heard = self.clock()

    def deaf(self, after: float) -> str | None:
        """What is wrong when Kopf has been deaf for ``after`` seconds, else None."""
        now = self.clock()
        with self._lock:
            if not self._unheard or now - self._heard < after:
                return None
            oldest = min(t for _, t in self._unheard.values())
            if now - oldest < after:
                return None
            return (f"Kopf has delivered no DevNamespace event for {now - self._heard:.0f} s while devns's own watch "
                    f"saw {len(self._unheard)} it has not (the oldest {now - oldest:.0f} s ago): its watch stream is "
                    "stuck; a restart of the operator starts it again")


def _version(meta: Mapping[str, Any]) -> int:
    """resourceVersion as a number (etcd's revision: later writes have larger ones); -1 when not a number."""
    try:
        return int(meta.get("resourceVersion") or -1)
    except ValueError:
        return -1
