"""devns.gc: the HMAC proof that devns created a namespace, and which namespaces are orphans or look-alikes."""

import pytest

from devns.gc import claimed_uid, judge, proof_for, proof_valid
from devns.settings import Settings

KEY = b"k" * 32
UID = "0b6e-uid"


def namespace(name="alice", created_by=f"alice/{UID}", proof=None, labels=None, **meta):
    annotations = {}
    if created_by is not None:
        annotations["devns.io/created-by"] = created_by
    if proof is not None:
        annotations["devns.io/proof"] = proof
    return {"metadata": {"name": name, "uid": "ns-uid", "annotations": annotations,
                         "labels": {"app.kubernetes.io/managed-by": "devns"} if labels is None else labels, **meta}}


def test_proof_is_deterministic_and_bound_to_name_uid_and_key():
    p = proof_for(KEY, "alice", UID)
    assert len(p) == 64 and p == proof_for(KEY, "alice", UID)
    assert p != proof_for(KEY, "bob", UID)
    assert p != proof_for(KEY, "alice", "other-uid")
    assert p != proof_for(b"x" * 32, "alice", UID)


def test_a_valid_proof_verifies():
    assert proof_valid(KEY, namespace(proof=proof_for(KEY, "alice", UID)))


@pytest.mark.parametrize("ns", [
    namespace(proof=None),  # no proof
    namespace(proof="deadbeef"),  # forged
    namespace(proof=proof_for(b"x" * 32, "alice", UID)),  # someone else's key
    namespace(name="copy", proof=proof_for(KEY, "alice", UID)),  # annotations copied onto another namespace
    namespace(created_by=None, proof=proof_for(KEY, "alice", UID)),  # no created-by
])
def test_invalid_proofs_are_refused(ns):
    assert not proof_valid(KEY, ns)


def test_claimed_uid():
    assert claimed_uid(namespace()) == UID
    assert claimed_uid(namespace(created_by=None)) == ""


def test_judge_orphan_with_proof_and_lookalike_without():
    orphan = judge(namespace(proof=proof_for(KEY, "alice", UID)), KEY, Settings().is_reserved)
    assert orphan is not None and orphan.orphan and orphan.claimed_by == f"alice/{UID}" and orphan.uid == "ns-uid"
    lookalike = judge(namespace(proof="deadbeef"), KEY, Settings().is_reserved)
    assert lookalike is not None and not lookalike.orphan


@pytest.mark.parametrize("ns", [
    namespace(labels={}),  # not labelled as devns's
    namespace(deletionTimestamp="2026-11-21T10:00:00Z"),  # already going
    namespace(name="kube-system", created_by=f"kube-system/{UID}", proof=proof_for(KEY, "kube-system", UID)),
    namespace(name="default", created_by=f"default/{UID}", proof=proof_for(KEY, "default", UID)),
])
def test_judge_ignores_unlabelled_terminating_and_reserved(ns):
    assert judge(ns, KEY, Settings().is_reserved) is None
