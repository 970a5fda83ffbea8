"""Resilience on the real control plane: drift repair, the guardrail admission policy, zero writes when idle and
on restart, convergence after repeated kill -9 and an API server restart. (Two replicas with peering: see
test_manifests.py, which runs them with the installed RBAC on a control plane of their own.)"""

from __future__ import annotations

import concurrent.futures
import random
import threading
import time
from pathlib import Path

import kubernetes
import pytest

from support import (born_with_finalizer, error_of, gone, kubectl, resume_expectations, status_of, unique,
                     wait_resumed)
from testkit.audit import AuditLog, describe_writes
from testkit.clients import client
from testkit.operator_process import OPERATOR_USER
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")
FINALIZER_POLICY = Path(__file__).resolve().parents[2] / "manifests/base/finalizer-policy.yaml"


@pytest.fixture(scope="module")
def apis(api):
    return (kubernetes.client.NetworkingV1Api(api), kubernetes.client.RbacAuthorizationV1Api(api))


def repairs(operator, kind: str) -> float:
    return operator.metric("devns_drift_repairs_total", {"kind": kind}) or 0


# -- drift ------------------------------------------------------------------------------------------------------

def test_deleted_or_edited_guardrails_are_restored(dns, apis, operator):
    net, rbac = apis
    name = unique("drift")
    dns.create(name, clusterView=True, quota={"pods": 10})
    dns.wait_phase(name, "Ready")
    core = dns.core
    before = {k: repairs(operator, k) for k in ("NetworkPolicy", "ResourceQuota", "LimitRange", "RoleBinding",
                                                "ClusterRoleBinding", "Namespace")}

    net.delete_namespaced_network_policy("devns-default-deny", name)
    core.patch_namespaced_resource_quota("devns-quota", name, {"spec": {"hard": {"pods": "1000"}}})
    core.delete_namespaced_limit_range("devns-limits", name)
    rbac.delete_namespaced_role_binding("devns-owners-edit", name)
    rbac.delete_cluster_role_binding(f"devns-view-{name}")
    core.patch_namespace(name, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "privileged"},
                                             "annotations": {"devns.io/owner": None}}})

    wait_for(lambda: net.read_namespaced_network_policy("devns-default-deny", name), what="deny policy back")
    wait_for(lambda: core.read_namespaced_resource_quota("devns-quota", name).spec.hard["pods"] == "10",
             what="quota restored")
    wait_for(lambda: core.read_namespaced_limit_range("devns-limits", name), what="limit range back")
    wait_for(lambda: rbac.read_namespaced_role_binding("devns-owners-edit", name), what="role binding back")
    wait_for(lambda: rbac.read_cluster_role_binding(f"devns-view-{name}"), what="cluster view binding back")
    wait_for(lambda: core.read_namespace(name).metadata.labels["pod-security.kubernetes.io/enforce"]
             == "restricted" and "devns.io/owner" in core.read_namespace(name).metadata.annotations,
             what="namespace labels and annotations restored")
    for kind, count in before.items():
        assert repairs(operator, kind) >= count + 1, kind
    dns.wait_event(name, "DriftRepaired", "Warning")


def test_removing_the_managed_by_label_is_repaired(dns):
    name = unique("unlabel")
    dns.create(name)
    dns.wait_phase(name, "Ready")
    dns.core.patch_namespace(name, {"metadata": {"labels": {"app.kubernetes.io/managed-by": None}}})
    wait_for(lambda: dns.core.read_namespace(name).metadata.labels.get("app.kubernetes.io/managed-by") == "devns",
             what="managed-by label restored")


def test_tenant_objects_are_left_alone(dns, apis, kubeconfig):
    net, _ = apis
    name = unique("tenant")
    dns.create(name, owners=[{"kind": "User", "name": "erin@example.com"}], role="admin")
    dns.wait_phase(name, "Ready")
    erin = client(kubeconfig, user="erin@example.com")
    erin_net = kubernetes.client.NetworkingV1Api(erin)
    erin_rbac = kubernetes.client.RbacAuthorizationV1Api(erin)
    erin_net.create_namespaced_network_policy(name, {"metadata": {"name": "allow-web"}, "spec": {
        "podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": [{"podSelector": {}}]}]}})
    erin_rbac.create_namespaced_role(name, {"metadata": {"name": "reader"}, "rules": [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]})
    dns.patch(name, {"quota": {"pods": 7}})  # a full reconcile runs over the namespace
    dns.wait_phase(name, "Ready")
    wait_for(lambda: dns.core.read_namespaced_resource_quota("devns-quota", name).spec.hard["pods"] == "7",
             what="reconciled")
    assert net.read_namespaced_network_policy("allow-web", name).metadata.labels is None
    assert kubernetes.client.RbacAuthorizationV1Api(client(kubeconfig)).read_namespaced_role("reader", name)


# -- guardrail policy -------------------------------------------------------------------------------------------

def test_owner_cannot_remove_guardrails_but_can_add_policies(dns, kubeconfig):
    name = unique("vap")
    dns.create(name, owners=[{"kind": "User", "name": "frank@example.com"}])
    dns.wait_phase(name, "Ready")
    frank = kubernetes.client.NetworkingV1Api(client(kubeconfig, user="frank@example.com"))
    exc = error_of(lambda: frank.delete_namespaced_network_policy("devns-default-deny", name))
    assert exc.status == 403 and "ValidatingAdmissionPolicy 'devns-guardrails'" in exc.message
    assert "NetworkPolicy devns-default-deny is a devns guardrail" in exc.message
    exc = error_of(lambda: frank.patch_namespaced_network_policy("devns-allow-dns", name,
                                                                  {"spec": {"egress": [{}]}}))
    assert exc.status == 403 and "devns guardrail" in exc.message
    frank.create_namespaced_network_policy(name, {"metadata": {"name": "allow-metrics"}, "spec": {
        "podSelector": {}, "ingress": [{"ports": [{"port": 9090}]}]}})


def test_namespace_labels_are_protected_from_non_admins(dns, api, kubeconfig):
    name = unique("relabel")
    dns.create(name)
    dns.wait_phase(name, "Ready")
    rbac = kubernetes.client.RbacAuthorizationV1Api(api)
    role = unique("ns-editor")  # someone with RBAC rights on namespaces, but not a cluster admin
    rbac.create_cluster_role({"metadata": {"name": role}, "rules": [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "patch", "update", "delete"]}]})
    rbac.create_cluster_role_binding({"metadata": {"name": role}, "roleRef": {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "User", "name": "gina@example.com", "apiGroup": "rbac.authorization.k8s.io"}]})
    gina = kubernetes.client.CoreV1Api(client(kubeconfig, user="gina@example.com"))
    exc = wait_for(lambda: error_of(lambda: gina.patch_namespace(name, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "privileged"}}})), what="RBAC binding effective")
    assert exc.status == 403 and "can only be changed through its DevNamespace" in exc.message
    exc = error_of(lambda: gina.delete_namespace(name))
    assert exc.status == 403 and "delete its DevNamespace instead" in exc.message
    assert status_of(lambda: gina.patch_namespace(name, {"metadata": {"labels": {"cost-center": "42"}}})) == 200


# -- cost: one write per object, zero writes when idle and on restart ---------------------------------------------

def test_a_new_devnamespace_costs_one_write_per_object(dns, cluster):
    """The namespace and its children are POSTed once each, the namespace's proof (bound to the uid the API server
    gave it) is one patch right after its POST, and the outcome is one status write (Kopf's bookkeeping in it); the
    finalizer came with the create (finalizer-policy.yaml), so the DevNamespace itself is not patched."""
    audit = AuditLog(cluster.audit_log)
    mark = audit.mark()
    name = unique("cost")
    assert dns.create(name)["metadata"]["finalizers"] == ["devns.io/finalizer"]
    dns.wait_phase(name, "Ready")
    assert len(dns.wait_event(name, "Provisioned")) == 1
    audit.wait_logged(mark, OPERATOR_USER, "patch devnamespaces/status", name)
    requests = audit.writes(mark, OPERATOR_USER, touching={name})
    # the proof comes before anything in the namespace: a namespace devns made is never without one for long
    assert [r.action for r in requests[:2]] == ["create namespaces", "patch namespaces"], describe_writes(requests)
    writes = AuditLog.by_resource(requests)
    assert writes == {"create namespaces": 1, "patch namespaces": 1, "create networkpolicies": 3,
                      "create resourcequotas": 1, "create limitranges": 1, "create rolebindings": 1,
                      "patch devnamespaces/status": 1}


def test_without_the_finalizer_policy_the_operator_adds_the_finalizer(dns, binaries, kubeconfig):
    kubectl(binaries, kubeconfig, "delete", "mutatingadmissionpolicybinding", "devns-finalizer")
    try:
        wait_for(lambda: not born_with_finalizer(dns), what="the finalizer policy no longer applied")
        name = unique("nopolicy")
        assert not dns.create(name)["metadata"].get("finalizers")
        dns.wait_phase(name, "Ready")
        assert dns.get(name)["metadata"]["finalizers"] == ["devns.io/finalizer"]
        dns.delete(name)
        wait_for(lambda: gone(lambda: dns.core.read_namespace(name)), what="namespace deleted")
        wait_for(lambda: gone(lambda: dns.get(name)), what="DevNamespace released by its finalizer")
    finally:
        kubectl(binaries, kubeconfig, "apply", "--server-side", "-f", str(FINALIZER_POLICY))
        wait_for(lambda: born_with_finalizer(dns), what="the finalizer policy applied again")


def test_idle_and_restart_make_zero_writes(dns, operator, cluster):
    names = [unique("idle") for _ in range(5)]
    for name in names:
        dns.create(name, ttl="1h", clusterView=True)
    for name in names:
        dns.wait_phase(name, "Ready")
        # Kopf records the handled spec in the status write after the handler, and posts Events in the background
        wait_for(lambda: "last-handled-configuration" in (dns.get(name)["status"].get("kopf") or {}),
                 what="Kopf's bookkeeping written")
        dns.wait_event(name, "Provisioned")
    audit = AuditLog(cluster.audit_log)
    settled = audit.mark()
    time.sleep(10)  # a measurement window, not a wait: nothing is due, so nothing may be written
    assert audit.writes(settled, OPERATOR_USER, touching=set(names)) == []

    # Earlier tests leave DevNamespaces too: the restart resumes every one of them. The counter belongs to the
    # new process, so it counts exactly this start-up's resumes.
    live, expected, either = resume_expectations(dns)
    assert set(names) <= expected
    mark = audit.mark()
    operator.restart()
    wait_resumed(operator, live, expected, either)
    # Other tests may have left work that is really due (a dry-run expiry, a deletion in progress); the promise
    # is about Ready DevNamespaces: nothing written to them, their namespaces, or anything in those.
    writes = audit.writes(mark, OPERATOR_USER, touching=set(names))
    assert writes == [], describe_writes(writes)
    assert audit.requests(mark, OPERATOR_USER), "the audit log saw the operator's requests"


# -- crashes and restarts -----------------------------------------------------------------------------------------

def test_what_changed_while_the_operator_was_down_is_put_back_after_a_start(dns, apis, operator):
    """A start resumes a Ready DevNamespace from its status alone (``status.rendered`` proves what its namespace was
    made to match: no read), then the verification after the start reads it again and puts back what an admin
    deleted or changed while no operator ran."""
    net, _ = apis
    name = unique("down")
    dns.create(name, quota={"pods": 10})
    dns.wait_phase(name, "Ready")
    wait_for(lambda: dns.get(name)["status"].get("rendered"), what="the rendered digest recorded")
    operator.stop()
    net.delete_namespaced_network_policy("devns-default-deny", name)
    dns.core.patch_namespaced_resource_quota("devns-quota", name, {"spec": {"hard": {"pods": "1000"}}})
    operator.start()
    wait_for(lambda: net.read_namespaced_network_policy("devns-default-deny", name), timeout=90,
             what="the deny policy put back by the verification")
    wait_for(lambda: dns.core.read_namespaced_resource_quota("devns-quota", name).spec.hard["pods"] == "10",
             what="the quota put back")
    wait_for(lambda: f"verify devnamespace/{name}: updated" in operator.log_path.read_text(),
             what="the verification's log line")  # (written after the repair it reports)


def test_a_devnamespace_created_while_the_operator_starts_is_provisioned_once(dns, operator, cluster):
    """While Kopf takes every existing DevNamespace in turn, a new one is provisioned from devns's own watch
    (handlers_newcomers) or by its create handler, whichever comes first, never by both: each object is POSTed once."""
    audit = AuditLog(cluster.audit_log)
    operator.stop()
    start = len(operator.log_path.read_bytes())
    operator.spawn()
    wait_for(lambda: b"DevNamespaces; watching them from here" in operator.log_path.read_bytes()[start:],
             what="the operator's DevNamespaces indexed")
    mark = audit.mark()
    name = unique("newcomer")
    dns.create(name, quota={"pods": 10})
    dns.wait_phase(name, "Ready")
    operator.wait_healthy()
    audit.wait_logged(mark, OPERATOR_USER, "patch devnamespaces/status", name)
    writes = AuditLog.by_resource(audit.writes(mark, OPERATOR_USER, touching={name}))
    creates = {action: n for action, n in writes.items() if action.startswith("create ")}
    assert creates == {"create namespaces": 1, "create networkpolicies": 3, "create resourcequotas": 1,
                       "create limitranges": 1, "create rolebindings": 1}, writes
    assert not [action for action in writes if action.startswith(("delete ", "update "))], writes
    assert dns.core.read_namespaced_resource_quota("devns-quota", name).spec.hard["pods"] == "10"
    wait_for(lambda: operator.metric_sum("devns_startup_pending_devnamespaces") == 0,
             what="every DevNamespace listed at start resumed")
    dns.delete(name)


def test_converges_after_repeated_kill_9_under_load(dns, operator):
    names = [unique("crash") for _ in range(100)]
    stop = threading.Event()
    kills = []

    def killer():
        while not stop.is_set() and len(kills) < 10:
            time.sleep(random.uniform(1.5, 3.0))  # chaos timing, not a wait for a condition
            operator.kill()
            kills.append(time.monotonic())
            operator.start()

    chaos = threading.Thread(target=killer)
    chaos.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda n: dns.create(n, quota={"pods": 5}), names))
            list(pool.map(lambda n: dns.patch(n, {"quota": {"pods": 9}}), names[:50]))
            list(pool.map(dns.delete, names[75:]))
        chaos.join(timeout=120)
    finally:
        stop.set()
        chaos.join()
    if operator.proc.poll() is not None:
        operator.start()
    assert len(kills) >= 5

    kept, deleted = names[:75], names[75:]
    for name in kept:
        dns.wait_phase(name, "Ready", timeout=120)
    for name in deleted:
        wait_for(lambda: gone(lambda: dns.get(name)), timeout=120, what=f"{name} deleted")
        wait_for(lambda: gone(lambda: dns.core.read_namespace(name)), timeout=120, what=f"namespace {name} gone")
    net = kubernetes.client.NetworkingV1Api(dns.core.api_client)
    rbac = kubernetes.client.RbacAuthorizationV1Api(dns.core.api_client)
    for i, name in enumerate(kept):
        wanted = "9" if i < 50 else "5"
        assert dns.core.read_namespaced_resource_quota("devns-quota", name).spec.hard["pods"] == wanted, name
        assert len(dns.core.list_namespaced_resource_quota(name).items) == 1
        assert len(net.list_namespaced_network_policy(name).items) == 3
        assert [b.metadata.name for b in rbac.list_namespaced_role_binding(name).items] == ["devns-owners-edit"]
    for name in kept:
        dns.delete(name)


def test_operator_survives_an_api_server_restart(dns, cluster):
    before = unique("pre-restart")
    dns.create(before)
    dns.wait_phase(before, "Ready")
    cluster.restart_apiserver()
    after = unique("post-restart")
    wait_for(lambda: dns.create(after), timeout=30, what="API server accepting writes")
    dns.wait_phase(after, "Ready", timeout=90)
    dns.core.delete_namespaced_limit_range("devns-limits", after)  # watches were re-established too
    wait_for(lambda: dns.core.read_namespaced_limit_range("devns-limits", after), timeout=30,
             what="drift repaired after reconnect")
