"""The watches outside Kopf: a kind is listed once (the listing goes to ``on_list``), then
watched from the listing's version (bookmarks move the version, nothing else); events reach ``guard`` only while
the replica is active, one at a time per object, the latest waiting one next."""

import asyncio
import threading

import kopf

from devns import handlers_drift
from devns.kube import ApiError
from devns.watches import KindWatch


def obj(name: str, rv: str, namespace: str = "ns") -> dict:
    return {"metadata": {"name": name, "namespace": namespace, "resourceVersion": rv}}


class FakeKube:
    def __init__(self, items, events):
        self.items, self.events, self.watched_from = items, events, []

    def list_pages(self, kind, selector=None):
        return self.items, "10"

    def watch(self, kind, version, selector=None):
        self.watched_from.append(version)
        yield from self.events
        raise ApiError(410, "Expired", "too old", "WATCH", "/x")


def test_a_kind_is_listed_once_then_watched_from_there():
    delivered = []
    kube = FakeKube([obj("kept", "5"), obj("skipped", "6")],
                    [("ADDED", obj("a", "11")), ("BOOKMARK", obj("", "12")), ("MODIFIED", obj("a", "13"))])
    watch = KindWatch(kube, "NetworkPolicy", lambda kind, t, o: delivered.append((t, o["metadata"]["name"])),
                      lambda items, version: delivered.extend((None, o["metadata"]["name"]) for o in items
                                                              if o["metadata"]["name"] == "kept"), selector="sel")
    try:
        watch.cycle()
    except ApiError as exc:
        assert exc.status == 410  # run() lists again after it
    assert delivered == [(None, "kept"), ("ADDED", "a"), ("MODIFIED", "a")]
    assert kube.watched_from == ["10"] and watch.version == "13"


def test_events_reach_guard_only_while_active_one_at_a_time_per_object(monkeypatch):
    handled, running = [], set()

    async def fake_guard(event, memo, logger, param):
        key = event["object"]["metadata"]["name"]
        assert key not in running  # never two at once for one object
        running.add(key)
        await asyncio.sleep(0.01)
        handled.append((key, event["object"]["metadata"]["resourceVersion"]))
        running.discard(key)
    monkeypatch.setattr(handlers_drift, "guard", fake_guard)

    async def main():
        memo = kopf.Memo(acting=threading.Event())
        g = handlers_drift.Guard(memo)
        g._dispatch({"type": "MODIFIED", "object": obj("x", "1")}, "NetworkPolicy")  # standby: dropped
        memo.acting.set()
        for rv in ("2", "3", "4"):  # 3 is superseded by 4 while 2 is handled
            g._dispatch({"type": "MODIFIED", "object": obj("x", rv)}, "NetworkPolicy")
        g._dispatch({"type": "MODIFIED", "object": obj("y", "5")}, "NetworkPolicy")
        while len(handled) < 3:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
    asyncio.run(main())
    assert sorted(handled) == [("x", "2"), ("x", "4"), ("y", "5")]
