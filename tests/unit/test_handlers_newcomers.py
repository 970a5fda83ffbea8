"""Which DevNamespaces devns provisions from its own watch, ahead of Kopf (``handlers_newcomers``): new ones with
the finalizer and no status, at once while Kopf has not reached every one it listed at start, else if they are
still untouched after the grace; only on the acting replica; one provisioning at a time per DevNamespace."""

from __future__ import annotations

import threading
import time

import kopf

from devns.contract import FINALIZER
from devns.handlers_newcomers import Newcomers, still_new, unprovisioned, watched
from devns.requesters import peer_of


def devnamespace(uid: str = "u1", *, phase: str | None = None, finalizers: tuple[str, ...] = (FINALIZER,),
                 deleting: bool = False) -> dict:
    meta = {"name": f"dn-{uid}", "uid": uid, "finalizers": list(finalizers)}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-01T00:00:00Z"
    return {"metadata": meta, **({"status": {"phase": phase}} if phase else {})}


class Pool:
    """Records what would run in the provisioning pool."""

    def __init__(self) -> None:
        self.submitted: list[tuple] = []

    def submit(self, fn, *args) -> None:
        self.submitted.append(args[1:])


class Peers:
    """The peers index as ``still_new`` reads it: uid -> [Peer]."""

    def __init__(self, *bodies: dict) -> None:
        self._peers = {b["metadata"]["uid"]: [peer_of({**b, "metadata": {**b["metadata"], "creationTimestamp": ""}})]
                       for b in bodies}

    def get(self, uid, default=None):
        return self._peers.get(uid, default)


def memo_for(newcomers: Newcomers, acting: bool = True, *indexed: dict) -> kopf.Memo:
    memo = kopf.Memo(newcomers=newcomers, acting=threading.Event(), lanes=kopf.Memo(executor=Pool()),
                     indexes=kopf.Memo(devnamespace_peers=Peers(*indexed)))
    if acting:
        memo.acting.set()
    return memo


def test_starting_until_kopf_handled_every_listed_devnamespace():
    newcomers = Newcomers(["a", "b"])
    assert newcomers.starting
    newcomers.handled("a")
    assert newcomers.starting
    newcomers.handled("b")
    assert not newcomers.starting
    assert not Newcomers([]).starting  # nothing listed: nothing to wait behind


def test_a_start_up_that_never_ends_stops_counting_after_its_limit():
    newcomers = Newcomers(["never-handled"], limit=0.05)
    assert newcomers.starting
    time.sleep(0.1)  # the limit is wall-clock time itself
    assert not newcomers.starting


def test_only_a_devnamespace_never_provisioned_with_the_finalizer_is_taken():
    assert unprovisioned(devnamespace())
    assert not unprovisioned(devnamespace(phase="Ready"))
    assert not unprovisioned(devnamespace(phase="Failed"))
    assert not unprovisioned(devnamespace(finalizers=()))  # Kopf adds it first: deleted before, nothing leaks
    assert not unprovisioned(devnamespace(deleting=True))


def test_a_new_devnamespace_during_a_start_up_goes_to_the_pool_once():
    newcomers = Newcomers(["listed"])
    memo = memo_for(newcomers)
    watched(memo, "ADDED", devnamespace("new"))
    watched(memo, "ADDED", devnamespace("new"))  # the watch repeated it (a relist): not queued twice
    assert memo.lanes.executor.submitted == [("dn-new", "new")]


def test_after_the_start_up_a_new_devnamespace_is_left_to_kopf_for_the_grace():
    newcomers = Newcomers([], grace=0.05)
    memo = memo_for(newcomers)
    checked = threading.Event()
    newcomers.later = lambda uid, name, then: (then(uid, name), checked.set())  # the grace, without the wait
    memo.indexes.devnamespace_peers = Peers(devnamespace("new"))  # still untouched when the grace is over
    watched(memo, "ADDED", devnamespace("new"))
    assert checked.is_set() and memo.lanes.executor.submitted == [("dn-new", "new")]


def test_after_the_grace_only_a_devnamespace_kopf_has_not_touched_is_taken():
    newcomers = Newcomers([])
    memo = memo_for(newcomers, True, devnamespace("done", phase="Ready"), devnamespace("behind"))
    newcomers.claimed.update({"done", "behind", "handled"})
    newcomers.handled("handled")  # Kopf ran its handler meanwhile
    for uid in ("done", "behind", "handled", "gone"):
        still_new(memo, uid, f"dn-{uid}")
    assert memo.lanes.executor.submitted == [("dn-behind", "behind")]


def test_the_grace_is_waited_out_in_a_thread_of_its_own():
    newcomers = Newcomers([], grace=0.05)
    seen: list[tuple[str, float]] = []
    done = threading.Event()
    started = time.monotonic()
    newcomers.later("late", "dn-late", lambda uid, name: (seen.append((uid, time.monotonic() - started)),
                                                          done.set()))
    assert done.wait(5)
    assert seen[0][0] == "late" and seen[0][1] >= 0.05


def test_nothing_is_taken_on_a_standby_or_for_other_events():
    standby = memo_for(Newcomers(["listed"]), acting=False)
    watched(standby, "ADDED", devnamespace("new"))
    during = memo_for(Newcomers(["listed"]))
    watched(during, "MODIFIED", devnamespace("changed"))
    watched(during, "ADDED", devnamespace("ready", phase="Ready"))
    assert standby.lanes.executor.submitted == during.lanes.executor.submitted == []


def test_a_deleted_devnamespace_no_longer_holds_the_start_up():
    newcomers = Newcomers(["listed"])
    watched(memo_for(newcomers), "DELETED", devnamespace("listed"))
    assert not newcomers.starting


def test_provisionings_of_one_devnamespace_never_overlap():
    newcomers = Newcomers([])
    inside, overlaps = [], []

    def provision(uid: str) -> None:
        with newcomers.lock(uid):
            overlaps.append(len(inside))
            inside.append(uid)
            time.sleep(0.02)  # holds the lock while another thread asks for it
            inside.remove(uid)

    threads = [threading.Thread(target=provision, args=("same",)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == [0, 0, 0, 0]
    assert newcomers._locks == {}  # no lock kept once nobody provisions
