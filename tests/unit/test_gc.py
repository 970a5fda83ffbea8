"""devns.gc: the HMAC proof that devns created a namespace (bound to the namespace's own uid), its grades, the key
id, which namespaces are orphans or look-alikes, and how a key fares against the proofs found."""

import datetime as dt
import hashlib

import pytest

from devns.gc import (Proof, check_key, claimed_uid, created_unsigned, judge, key_id, legacy_proof_for, proof_for,
                      proof_of, signed, signer_of, with_proof)
from devns.settings import Settings

KEY = b"k" * 32
OTHER = b"x" * 32
UID = "0b6e-uid"  # the DevNamespace's
NS_UID = "ns-uid"  # the namespace's own
CREATED = dt.datetime(2026, 11, 14, 10, 0, 0, 250000, tzinfo=dt.timezone.utc)


def namespace(name="alice", created_by=f"alice/{UID}", proof=None, labels=None, uid=NS_UID, **meta):
    annotations = {}
    if created_by is not None:
        annotations["devns.io/created-by"] = created_by
    if proof is not None:
        annotations["devns.io/proof"] = proof
    return {"metadata": {"name": name, "uid": uid, "annotations": annotations,
                         "labels": {"app.kubernetes.io/managed-by": "devns"} if labels is None else labels, **meta}}


def bound(key=KEY, name="alice", ns_uid=NS_UID, uid=UID):
    return proof_for(key, name, ns_uid, uid)


def test_key_id_is_8_hex_digits_of_the_keys_sha256():
    assert key_id(KEY) == hashlib.sha256(KEY).hexdigest()[:8] != key_id(OTHER)


def test_v2_proof_names_its_version_and_key_and_is_bound_to_namespace_uid_devnamespace_and_key():
    p = bound()
    version, kid, mac = p.split(":")
    assert (version, kid, len(mac)) == ("v2", key_id(KEY), 64) and p == bound()
    assert len({p, bound(name="bob"), bound(ns_uid="other-ns-uid"), bound(uid="other-uid"), bound(key=OTHER)}) == 5


def test_a_v2_proof_is_valid_only_for_the_namespace_uid_it_was_made_for():
    assert proof_of(KEY, namespace(proof=bound())) is Proof.BOUND
    copy = namespace(proof=bound(), uid="restored-from-backup")  # same name and annotations, a new uid
    assert proof_of(KEY, copy) is Proof.INVALID


@pytest.mark.parametrize("ns", [
    namespace(proof="deadbeef"),  # forged
    namespace(proof="v2:00000000:" + "0" * 64),  # forged, v2-shaped
    namespace(proof=bound(key=OTHER)),  # someone else's key
    namespace(name="copy", proof=bound()),  # annotations copied onto another namespace
    namespace(created_by=None, proof=bound()),  # no created-by
    namespace(created_by="alice/other-uid", proof=bound()),  # claims another DevNamespace
    namespace(proof=bound(), uid=""),  # no uid to bind to
])
def test_invalid_proofs_are_refused(ns):
    assert proof_of(KEY, ns) is Proof.INVALID


def test_no_proof_is_absent():
    assert proof_of(KEY, namespace()) is Proof.ABSENT


def test_legacy_proof_is_recognised_but_only_under_its_key_and_name():
    legacy = legacy_proof_for(KEY, "alice", UID)
    assert len(legacy) == 64 and ":" not in legacy
    assert proof_of(KEY, namespace(proof=legacy)) is Proof.LEGACY
    assert proof_of(KEY, namespace(proof=legacy, uid="any-copy")) is Proof.LEGACY  # which is why GC never trusts it
    assert proof_of(OTHER, namespace(proof=legacy)) is Proof.INVALID
    assert proof_of(KEY, namespace(name="copy", proof=legacy)) is Proof.INVALID


def test_signer_of_names_the_key_of_a_v2_proof_only():
    assert signer_of(namespace(proof=bound(key=OTHER))) == key_id(OTHER)
    assert signer_of(namespace(proof=legacy_proof_for(KEY, "alice", UID))) is None
    assert signer_of(namespace()) is None


def test_with_proof_copies_and_leaves_the_original_alone():
    ns = namespace()
    signed_ns = with_proof(ns, "v2:x:y")
    assert signed_ns["metadata"]["annotations"]["devns.io/proof"] == "v2:x:y"
    assert "devns.io/proof" not in ns["metadata"]["annotations"]


def test_claimed_uid():
    assert claimed_uid(namespace()) == UID
    assert claimed_uid(namespace(created_by=None)) == ""


def fields(*annotations):
    return {"f:metadata": {"f:annotations": {f"f:{a}": {} for a in annotations}}}


def created(manager="devns", operation="Update", when="2026-11-14T10:00:00Z", proof=None, **entry):
    return namespace(proof=proof, creationTimestamp=when, managedFields=[
        {"manager": manager, "operation": operation, "fieldsV1": fields("devns.io/created-by"), **entry}])


def test_created_unsigned_is_what_a_crash_after_the_post_leaves():
    assert created_unsigned(created(), CREATED)  # same second as the DevNamespace
    assert created_unsigned(created(when="2026-11-14T10:05:00Z"), CREATED)


@pytest.mark.parametrize("ns", [
    created(proof=bound()),  # has a proof: graded as such, not as unsigned
    created(manager="kubectl-create"),  # someone else created it
    created(operation="Apply"),  # not devns's POST
    created(subresource="status"),
    created(when="2026-11-14T09:59:59Z"),  # older than the DevNamespace: not made for it
    namespace(),  # no creationTimestamp, no managedFields
])
def test_created_unsigned_refuses_anything_else(ns):
    assert not created_unsigned(ns, CREATED)


def test_judge_collects_only_a_proof_bound_to_the_namespace():
    orphan = judge(namespace(proof=bound()), KEY, Settings().is_reserved)
    assert orphan is not None and orphan.orphan and orphan.claimed_by == f"alice/{UID}" and orphan.uid == NS_UID
    assert orphan.proof is Proof.BOUND


@pytest.mark.parametrize("ns, grade", [
    (namespace(proof=bound(), uid="restored-copy"), Proof.INVALID),  # a backup's copy: a new uid
    (namespace(proof="deadbeef"), Proof.INVALID),
    (namespace(proof=legacy_proof_for(KEY, "alice", UID)), Proof.LEGACY),  # valid for ownership, never for GC
    (namespace(), Proof.ABSENT),
])
def test_judge_reports_everything_else_as_a_lookalike(ns, grade):
    verdict = judge(ns, KEY, Settings().is_reserved)
    assert verdict is not None and not verdict.orphan and verdict.proof is grade


@pytest.mark.parametrize("ns", [
    namespace(labels={}),  # not labelled as devns's
    namespace(deletionTimestamp="2026-11-21T10:00:00Z"),  # already going
    namespace(name="kube-system", created_by=f"kube-system/{UID}", proof=bound(name="kube-system")),
    namespace(name="default", created_by=f"default/{UID}", proof=bound(name="default")),
])
def test_judge_ignores_unlabelled_terminating_and_reserved(ns):
    assert judge(ns, KEY, Settings().is_reserved) is None


def test_check_key_counts_proofs_made_by_it_and_by_other_keys():
    mine = [namespace(proof=bound()), namespace(name="b", created_by=f"b/{UID}",
                                                proof=legacy_proof_for(KEY, "b", UID))]
    copy = namespace(proof=bound(), uid="copy-uid")  # names this key but does not verify: a look-alike
    theirs = [namespace(name="c", created_by=f"c/{UID}", proof=bound(key=OTHER, name="c")),
              namespace(name="d", created_by=f"d/{UID}", proof=legacy_proof_for(OTHER, "d", UID))]
    check = check_key(KEY, [*mine, copy, *theirs, namespace(name="e")])
    assert (check.key_id, check.verified, check.foreign) == (key_id(KEY), 2, {key_id(OTHER): 1, "legacy": 1})
    assert not check.wrong_key
    assert check_key(OTHER, mine).wrong_key  # a key that made none of the proofs found
    assert not check_key(KEY, []).wrong_key  # a first install: nothing to compare with


def test_signed_keeps_namespaces_with_a_proof():
    assert [ns["metadata"]["name"] for ns in signed([namespace(proof="x"), namespace(name="b")])] == ["alice"]
