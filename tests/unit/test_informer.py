"""devns's indexes of the DevNamespaces: contributions per key, the newest resourceVersion wins, a deleted one
stays deleted, a full LIST forgets what it no longer has, and the reading side behaves like a Kopf index."""

from devns.informer import Hearing, Informer


def dn(uid: str, rv: int, namespace: str | None = None, team: str = "a") -> dict:
    return {"metadata": {"uid": uid, "name": uid, "resourceVersion": str(rv)},
            "spec": {"namespace": namespace or uid, "team": team}}


def informer(changes: list | None = None) -> Informer:
    return Informer({"by_uid": lambda b: {b["metadata"]["uid"]: b["spec"]["team"]},
                     "by_namespace": lambda b: {b["spec"]["namespace"]: b["metadata"]["uid"]}},
                    on_change=(lambda: changes.append(1)) if changes is not None else lambda: None)


def test_contributions_are_indexed_by_key_and_read_like_a_kopf_index():
    ix = informer()
    ix.put(dn("u1", 1, namespace="shared"))
    ix.put(dn("u2", 2, namespace="shared"))
    assert sorted(ix.by_namespace["shared"]) == ["u1", "u2"]
    assert list(ix.by_uid) == ["u1", "u2"] and ix.by_uid["u1"] == ["a"]
    assert ix.by_uid.get("nope", ()) == () and "u1" in ix.by_uid and len(ix) == 2


def test_a_newer_version_replaces_the_contribution_and_an_older_one_is_ignored():
    changes = []
    ix = informer(changes)
    ix.put(dn("u1", 5, namespace="one", team="a"))
    ix.put(dn("u1", 7, namespace="two", team="b"))
    ix.put(dn("u1", 6, namespace="three", team="c"))  # a late event from the other source
    assert ix.by_uid["u1"] == ["b"] and list(ix.by_namespace) == ["two"]
    ix.put(dn("u1", 7, namespace="two", team="b"))  # the same version again: nothing to do
    assert len(changes) == 2


def test_a_deleted_devnamespace_is_not_brought_back_by_a_late_event():
    ix = informer()
    ix.put(dn("u1", 1))
    ix.observe({"type": "DELETED", "object": dn("u1", 3)})
    ix.observe({"type": "MODIFIED", "object": dn("u1", 2)})
    assert "u1" not in ix.by_uid and list(ix.by_namespace) == [] and len(ix) == 0


def test_a_full_listing_forgets_what_it_no_longer_has():
    ix = informer()
    ix.put(dn("gone", 1))
    ix.put(dn("kept", 2))
    ix.put(dn("since", 12))  # created after the listing below was taken (seen in an event first)
    ix.replace([dn("kept", 2), dn("new", 4)], "9")
    assert sorted(ix.by_uid) == ["kept", "new", "since"] and ix.version == "9"


def test_a_key_that_went_while_iterating_reads_as_empty():
    ix = informer()
    ix.put(dn("u1", 1))
    keys = list(ix.by_uid)
    ix.remove(dn("u1", 2))  # the watch thread, meanwhile
    assert [value for key in keys for value in ix.by_uid[key]] == []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_kopf_is_deaf_only_when_it_heard_nothing_while_an_event_waited_for_it():
    clock = Clock()
    ix = informer()
    ix.hearing = Hearing(clock)
    ix.from_own_watch({"type": "ADDED", "object": dn("u1", 5)})  # devns's watch first
    clock.now += 200
    assert "stuck" in ix.hearing.deaf(180)
    ix.from_kopf({"type": "MODIFIED", "object": dn("u1", 6)})  # Kopf delivers it (a later version counts)
    assert ix.hearing.deaf(180) is None


def test_an_event_kopf_delivered_first_waits_for_nothing():
    clock = Clock()
    ix = informer()
    ix.hearing = Hearing(clock)
    ix.from_kopf({"type": "ADDED", "object": dn("u1", 5)})
    ix.from_own_watch({"type": "ADDED", "object": dn("u1", 5)})  # nothing new: indexed already
    ix.from_own_watch({"type": "DELETED", "object": dn("u2", 7)})
    ix.from_kopf({"type": "DELETED", "object": dn("u2", 7)})  # a deletion Kopf delivers second
    clock.now += 1000
    assert ix.hearing.deaf(180) is None


def test_a_busy_kopf_that_still_delivers_other_events_is_not_deaf():
    clock = Clock()
    hearing = Hearing(clock)
    hearing.own("slow", 5)
    for _ in range(10):  # Kopf behind on this one, but its stream delivers others
        clock.now += 30
        hearing.kopf("other", 9)
    assert hearing.deaf(180) is None
    clock.now += 170
    assert hearing.deaf(180) is None  # 170 s of silence: not yet
    clock.now += 20
    assert hearing.deaf(180) is not None
    hearing.reset()  # a replica that becomes active: Kopf lists everything again
    assert hearing.deaf(180) is None
