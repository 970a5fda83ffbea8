"""devns's indexes of the DevNamespaces: contributions per key, the newest resourceVersion wins, a deleted one
stays deleted, a full LIST forgets what it no longer has, and the reading side behaves like a Kopf index."""

from devns.informer import Informer


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
