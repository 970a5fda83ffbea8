"""Attacks on devns's garbage collector (issue 13, section 5), each performed on the real control plane and asserted
to fail: a namespace devns did not create itself is never deleted by devns, even when it carries a proof that was
valid on the namespace it was copied from, and losing the signing key neither fails nor deletes anything.

- a namespace restored from a backup (the exact labels and annotations of a real devns namespace whose DevNamespace
  is gone, on a new namespace: a new uid) survives and is reported once;
- a plain namespace dressed up in two steps by someone holding only get/patch on namespaces (the admission policy
  refuses the patch; the same patch made by an admin, as on a cluster without the policy, is survived too);
- the key Secret deleted and the operator restarted: no DevNamespace becomes Failed, nothing is deleted (not even
  at expiry), the metric says so, and with the same key restored and a restart everything is Ready again.

(Other attacks: test_attacks_admission.py, test_attacks_operator.py.)
"""

from __future__ import annotations

import base64
import time

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

from support import gone, reconciles, unique
from testkit.clients import client
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")

OPERATOR_NAMESPACE, KEY_SECRET = "devns-system", "devns-gc-key"
RBAC_GROUP = "rbac.authorization.k8s.io"
NAMESPACE_GUARDRAILS = "devns-namespace-guardrails"
MANAGED_BY = "app.kubernetes.io/managed-by"


def lookalike_reports(dns, ns: str) -> list:
    return [e for e in dns.core.list_namespaced_event(ns).items
            if e.reason == "NotManagedByDevns" and e.involved_object.name == ns]


def survives(dns, ns: str, uid: str) -> bool:
    meta = dns.core.read_namespace(ns).metadata
    return meta.uid == uid and meta.deletion_timestamp is None


def orphan_with_operator_down(dns, operator, name: str) -> dict:
    """Provision ``name``, then, with the operator stopped, delete its DevNamespace without its finalizer and
    without cascading (as when the operator is down): its namespace's labels and annotations, as a backup holds
    them. The operator stays stopped."""
    dns.create(name)
    dns.wait_phase(name, "Ready")
    real = dns.core.read_namespace(name).metadata
    assert real.annotations["devns.io/proof"].startswith("v2:")
    operator.stop()
    dns.custom.patch_cluster_custom_object("devns.io", "v1alpha1", "devnamespaces", name,
                                           {"metadata": {"finalizers": None}})
    dns.custom.delete_cluster_custom_object("devns.io", "v1alpha1", "devnamespaces", name,
                                            propagation_policy="Orphan")
    wait_for(lambda: gone(lambda: dns.get(name)), what="DevNamespace deleted")
    return {"labels": dict(real.labels), "annotations": dict(real.annotations)}


def restart_and_settle(dns, operator) -> None:
    """Restart the operator and wait until it has resumed every DevNamespace and had time for its initial
    listing of namespaces (where orphans are judged)."""
    live = len(dns.custom.list_cluster_custom_object("devns.io", "v1alpha1", "devnamespaces")["items"])
    operator.restart()
    wait_for(lambda: reconciles(operator, "unchanged", "updated", "created", "skipped", "failed", "retry",
                                "blocked") >= live, timeout=60, what="the resume")
    time.sleep(3)  # a measurement window: the initial namespace listing is judged meanwhile


def survives_reported_once(dns, operator, ns: str, uid: str) -> None:
    """The look-alike ``ns`` is reported (an Event in it), survives, and is not reported again after a restart;
    then it is removed."""
    reported = wait_for(lambda: lookalike_reports(dns, ns), timeout=30, what=f"look-alike {ns} reported")
    assert "no valid devns proof" in reported[0].message, reported[0].message
    assert survives(dns, ns, uid)
    restart_and_settle(dns, operator)
    assert survives(dns, ns, uid)
    assert len(lookalike_reports(dns, ns)) == 1, "reported more than once"
    dns.core.delete_namespace(ns)


def test_a_namespace_restored_from_a_backup_is_never_collected(dns, operator):
    """A DevNamespace is deleted while the operator is down, then its namespace too; a backup restores the namespace
    (same name, labels and annotations, proof included). devns started over it finds a namespace labelled as its own
    whose DevNamespace is gone: it must leave it alone (the proof names the uid of the namespace that was deleted)
    and say so once, also across a restart."""
    name = unique("restored")
    try:
        backup = orphan_with_operator_down(dns, operator, name)
        dns.core.delete_namespace(name)
        wait_for(lambda: gone(lambda: dns.core.read_namespace(name)), timeout=60, what="the namespace deleted")
        restored = dns.core.create_namespace({"metadata": {"name": name, **backup}}).metadata
        assert restored.annotations == backup["annotations"] and restored.labels[MANAGED_BY] == "devns"
    finally:
        operator.start()

    survives_reported_once(dns, operator, name, restored.uid)


@pytest.fixture
def patcher(api, kubeconfig):
    """A user holding only get/list/watch/patch on namespaces (a ClusterRole), as an API client; removed after."""
    rbac = kubernetes.client.RbacAuthorizationV1Api(api)
    user, role = "mallory@example.com", unique("gc-attack-patcher")
    rbac.create_cluster_role({"metadata": {"name": role}, "rules": [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch", "patch"]}]})
    rbac.create_cluster_role_binding({"metadata": {"name": role}, "subjects": [
        {"kind": "User", "name": user, "apiGroup": RBAC_GROUP}], "roleRef": {
        "apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role}})
    mallory = kubernetes.client.CoreV1Api(client(kubeconfig, user=user))
    wait_for(lambda: mallory.read_namespace("default"), what="the patcher's RBAC in effect")
    yield mallory
    rbac.delete_cluster_role_binding(role)
    rbac.delete_cluster_role(role)


def test_a_namespace_dressed_up_with_patch_rights_is_never_collected(dns, operator, patcher):
    """Mallory, allowed only to patch namespaces, takes a plain namespace (created by an admin, with the name of a
    devns namespace that is gone) and patches in devns's labels and the annotations, proof included, that the real
    one carried: her way to have devns delete a namespace she cannot delete herself. The admission policy refuses
    the patch; where it is not installed (here: the same patch made by an admin), devns leaves the namespace alone
    and reports it once."""
    name = unique("dressed")
    try:
        copied = orphan_with_operator_down(dns, operator, name)
        dns.core.delete_namespace(name)
        wait_for(lambda: gone(lambda: dns.core.read_namespace(name)), timeout=60, what="the namespace deleted")
    finally:
        operator.start()
    plain = dns.core.create_namespace({"metadata": {"name": name}}).metadata
    labels = {k: v for k, v in copied["labels"].items() if k != "kubernetes.io/metadata.name"}
    dressing = {"metadata": {"labels": labels, "annotations": copied["annotations"]}}
    try:
        patcher.patch_namespace(name, dressing)
        refused = None
    except ApiException as exc:
        refused = exc
    if refused is not None:  # step two is refused by the admission policy: what happens here
        assert refused.status == 403 and NAMESPACE_GUARDRAILS in str(refused.body), (refused.status, refused.body)
        assert MANAGED_BY not in (dns.core.read_namespace(name).metadata.labels or {})
        dns.core.patch_namespace(name, dressing)  # as on a cluster without the policy: devns is the last line

    survives_reported_once(dns, operator, name, plain.uid)


# -- the signing key lost --------------------------------------------------------------------------------------------

def read_key(core) -> bytes | None:
    try:
        return base64.b64decode(core.read_namespaced_secret(KEY_SECRET, OPERATOR_NAMESPACE).data["key"])
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def restore_key(core, key: bytes) -> None:
    core.create_namespaced_secret(OPERATOR_NAMESPACE, {"metadata": {"name": KEY_SECRET}, "type": "Opaque",
                                                       "data": {"key": base64.b64encode(key).decode()}})


def test_losing_the_signing_key_stops_signing_and_deleting_without_failing(dns, operator):
    """The key Secret is deleted (an accident, a restore that missed it) and the operator restarts. A new key would
    disown every namespace; devns instead runs without one, loudly: no DevNamespace becomes Failed, nothing is
    deleted, not even at expiry (the warning still goes out), a new DevNamespace waits, the metric says 1. With the
    same key restored and a restart, everything is Ready again and the overdue expiry happens."""
    kept, expiring, waiting = unique("keyloss"), unique("keyloss-ttl"), unique("keyloss-new")
    dns.create(kept)
    dns.create(expiring, ttl="25s")
    for name in (kept, expiring):
        dns.wait_phase(name, "Ready")
    uids = {name: dns.core.read_namespace(name).metadata.uid for name in (kept, expiring)}
    key = read_key(dns.core)
    assert key is not None
    operator.stop()
    try:
        dns.core.delete_namespaced_secret(KEY_SECRET, OPERATOR_NAMESPACE)
        wait_for(lambda: read_key(dns.core) is None, what="the key Secret deleted")
        operator.start()
        wait_for(lambda: operator.metric("devns_signing_key_missing") == 1, what="the metric says the key is missing")
        assert "SigningKeyMissing" in operator.log_tail(200)
        for name in (kept, expiring):
            wait_for(lambda: dns.condition(name)["reason"] == "SigningKeyMissing", what=f"{name}: the condition")
            assert "restore Secret devns-gc-key in devns-system" in dns.condition(name)["message"]
            assert dns.get(name)["status"]["phase"] in ("Ready", "Expiring")  # never Failed
        dns.wait_event(kept, "SigningKeyMissing", type_="Warning")
        dns.create(waiting)  # nothing can be signed: nothing is created
        wait_for(lambda: dns.condition(waiting).get("reason") == "SigningKeyMissing", what="the new one waits")
        assert gone(lambda: dns.core.read_namespace(waiting))

        dns.wait_event(expiring, "ExpiringSoon", timeout=30)  # warnings still go out
        blocked = wait_for(lambda: dns.condition(expiring, "Expired").get("reason") == "SigningKeyMissing"
                           and dns.condition(expiring, "Expired"), timeout=40, what="the expiry blocked")
        assert blocked["status"] == "False" and "is not deleted" in blocked["message"]
        time.sleep(2)  # a measurement window: nothing may be deleted
        for name, uid in uids.items():
            assert survives(dns, name, uid), f"{name} was deleted without a key"
        assert dns.get(expiring)["status"]["phase"] != "Expired"
        assert read_key(dns.core) is None, "a new key was made"
    finally:
        if read_key(dns.core) is None:
            restore_key(dns.core, key)  # the same bytes, from "the backup"
        operator.restart()

    wait_for(lambda: operator.metric("devns_signing_key_missing") == 0, what="the metric back to 0")
    for name in (kept, waiting):
        wait_for(lambda: dns.condition(name).get("reason") == "Provisioned" and dns.condition(name)["status"] == "True",
                 what=f"{name} Ready again")
    assert survives(dns, kept, uids[kept])
    assert dns.core.read_namespace(waiting).metadata.annotations["devns.io/proof"].startswith("v2:")
    wait_for(lambda: gone(lambda: dns.core.read_namespace(expiring)), timeout=30, what="the overdue expiry")
    assert read_key(dns.core) == key
    for name in (kept, waiting):
        dns.delete(name)
