"""The reconcile paths and the proof: which namespaces are devns's (``is_ours``: a v2 proof bound to the namespace,
a legacy one, or none at all only in the crash window after a POST), the one write that re-proves a namespace, and
what devns does without a key (nothing signed, nothing deleted, never Failed). Against a recording fake API."""

import copy

from devns import gc
from devns.reconcile import Context, KeyProblem, expiry_step, is_ours, reconcile
from devns.reconcile.context import write
from devns.settings import Settings
from samples import CREATED, D, KEY, UID, ctx, devnamespace

NS_UID = "ns-uid"
PROBLEM = KeyProblem("SigningKeyMissing", "restore Secret devns-gc-key in devns-system from your backup")


class Recorder:
    """Records writes; reads answer from ``objects``."""

    def __init__(self, **objects):
        self.objects, self.calls = objects, []

    def get(self, kind, name, namespace=None):
        self.calls.append(("get", kind, name))
        return copy.deepcopy(self.objects.get(name))

    def __getattr__(self, verb):
        return lambda *args, **kwargs: self.calls.append((verb, *args))


def keyless(kube=None) -> Context:
    return Context(kube=kube, settings=Settings(), key=None, key_problem=PROBLEM)


def live_namespace(proof=None, created_by=f"alice/{UID}", uid=NS_UID, **meta) -> dict:
    """The namespace devns renders for ``devnamespace()``, as the API returns it."""
    d = ctx().desired.get(devnamespace())
    ns = copy.deepcopy(d.objects.namespace)
    ns["metadata"].update(uid=uid, creationTimestamp="2026-11-14T10:00:01Z", resourceVersion="1", **meta)
    ns["metadata"]["annotations"]["devns.io/created-by"] = created_by
    if proof is not None:
        ns["metadata"]["annotations"]["devns.io/proof"] = proof
    return ns


def ref():
    return ctx().desired.get(devnamespace()).ref


POSTED = [{"manager": "devns", "operation": "Update",
           "fieldsV1": {"f:metadata": {"f:annotations": {"f:devns.io/created-by": {}}}}}]


def test_is_ours_with_a_bound_or_legacy_proof():
    assert is_ours(live_namespace(gc.proof_for(KEY, "alice", NS_UID, UID)), ref(), KEY)
    assert is_ours(live_namespace(gc.legacy_proof_for(KEY, "alice", UID)), ref(), KEY)


def test_a_copy_another_devnamespace_or_no_key_is_not_ours():
    assert not is_ours(live_namespace(gc.proof_for(KEY, "alice", NS_UID, UID), uid="copy"), ref(), KEY)
    assert not is_ours(live_namespace(gc.proof_for(KEY, "alice", NS_UID, UID), created_by="alice/other"), ref(), KEY)
    assert not is_ours(live_namespace(gc.proof_for(KEY, "alice", NS_UID, UID)), ref(), None)


def test_no_proof_is_ours_only_in_the_crash_window_of_a_devnamespace_never_provisioned():
    crashed = live_namespace(managedFields=POSTED)
    assert is_ours(crashed, ref(), KEY, unsigned_ok=True)
    assert not is_ours(crashed, ref(), KEY)  # later: a namespace without proof is not devns's
    assert not is_ours(live_namespace(), ref(), KEY, unsigned_ok=True)  # not created by devns


def test_a_namespace_that_lacks_only_its_proof_gets_it_with_one_merge_patch():
    want = ctx().desired.get(devnamespace()).namespace_for(NS_UID, KEY)
    proof = gc.proof_for(KEY, "alice", NS_UID, UID)
    kube = Recorder()
    assert write(kube, want, live_namespace(gc.legacy_proof_for(KEY, "alice", UID), managedFields=POSTED))
    assert kube.calls == [("annotate", "Namespace", "alice", {"devns.io/proof": proof}, None)]
    older = live_namespace(gc.legacy_proof_for(KEY, "alice", UID))  # a release that wrote fewer annotations
    del older["metadata"]["annotations"]["devns.io/owner"]
    kube = Recorder()
    assert write(kube, want, older)
    assert kube.calls == [("annotate", "Namespace", "alice", {"devns.io/owner": "User:alice@example.com",
                                                              "devns.io/proof": proof}, None)]
    kube = Recorder()
    assert not write(kube, want, live_namespace(want["metadata"]["annotations"]["devns.io/proof"]))
    assert kube.calls == []


def test_a_namespace_that_lacks_more_is_applied_with_its_proof():
    want = ctx().desired.get(devnamespace()).namespace_for(NS_UID, KEY)
    stale = live_namespace(gc.legacy_proof_for(KEY, "alice", UID))
    stale["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "privileged"
    kube = Recorder()
    assert write(kube, want, stale)
    assert [c[0] for c in kube.calls] == ["apply"] and kube.calls[0][1] is want


def test_without_a_key_provisioning_writes_nothing_and_never_fails():
    ready = devnamespace(status={"phase": "Ready", "expiresAt": None})
    outcome = reconcile(keyless(), ready, CREATED + D)  # no client: any API call would fail
    assert (outcome.result.value, outcome.phase, outcome.reason) == ("blocked", "Ready", "SigningKeyMissing")
    ready_condition = next(c for c in outcome.status["conditions"] if c["type"] == "Ready")
    assert ready_condition["status"] == "False" and "restore Secret" in ready_condition["message"]
    new = reconcile(keyless(), devnamespace(), CREATED)
    assert (new.result.value, new.phase) == ("blocked", "Pending")


def test_without_a_key_expiry_deletes_nothing_and_says_so_once():
    body = devnamespace(ttl="1d", status={"phase": "Expiring", "warningsSent": ["24h", "1h"]})
    kube = Recorder()
    step = expiry_step(keyless(kube), body, CREATED + 2 * D)
    assert [c[0] for c in kube.calls] == ["patch_status"] and step.next_wake is None
    assert step.outcome.result.value == "blocked" and "is not deleted" in step.outcome.message
    condition = next(c for c in kube.calls[0][3]["conditions"] if c["type"] == "Expired")
    assert (condition["status"], condition["reason"]) == ("False", "SigningKeyMissing")
    said = devnamespace(ttl="1d", status={**body["status"], "conditions": kube.calls[0][3]["conditions"]})
    kube = Recorder()
    assert expiry_step(keyless(kube), said, CREATED + 2 * D).outcome is None and kube.calls == []
