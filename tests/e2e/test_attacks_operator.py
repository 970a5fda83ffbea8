"""Attacks the operator itself must stop (issue 13): each test performs the attack on the real control plane with
the operator running and asserts it fails. (Attacks stopped at admission: test_attacks_admission.py and
test_attacks_input.py.)"""

from __future__ import annotations

import time

import kubernetes
import pytest

from support import GROUP, PLURAL, VERSION, gone, unique
from testkit.audit import AuditLog, describe_writes
from testkit.operator_process import OPERATOR_USER
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")


@pytest.fixture(scope="module")
def net(api):
    return kubernetes.client.NetworkingV1Api(api)


@pytest.fixture(scope="module")
def rbac(api):
    return kubernetes.client.RbacAuthorizationV1Api(api)


# -- guardrails are restored exactly ------------------------------------------------------------------------------

def test_drift_repair_removes_fields_an_exempt_admin_added(dns, net, rbac, core):
    """Someone exempt from the guardrail policy (a cluster admin) opens the default-deny policy to all ingress,
    adds a quota entry of their own and a subject to the owners' binding: devns puts each back exactly."""
    name = unique("exact")
    dns.create(name)
    dns.wait_phase(name, "Ready")

    net.patch_namespaced_network_policy("devns-default-deny", name, {"spec": {"ingress": [{}]}})
    core.patch_namespaced_resource_quota("devns-quota", name, {"spec": {"hard": {"count/deployments.apps": "99"}}})
    owners = [{"kind": s.kind, "name": s.name, "apiGroup": s.api_group}
              for s in rbac.read_namespaced_role_binding("devns-owners-edit", name).subjects]
    rbac.patch_namespaced_role_binding("devns-owners-edit", name, {"subjects": [
        *owners, {"kind": "User", "name": "mallory@example.com", "apiGroup": "rbac.authorization.k8s.io"}]})

    wait_for(lambda: not net.read_namespaced_network_policy("devns-default-deny", name).spec.ingress,
             timeout=10, what="the added ingress rule removed")
    wait_for(lambda: "count/deployments.apps" not in core.read_namespaced_resource_quota("devns-quota", name).spec.hard,
             timeout=10, what="the added quota entry removed")
    wait_for(lambda: [s.name for s in rbac.read_namespaced_role_binding("devns-owners-edit", name).subjects]
             == [f"{name}@example.com"], timeout=10, what="the added subject removed")
    deny = net.read_namespaced_network_policy("devns-default-deny", name).spec
    assert deny.policy_types == ["Ingress", "Egress"] and deny.egress is None
    dns.wait_event(name, "DriftRepaired", "Warning")


def test_server_defaults_in_declared_specs_cause_no_repair_loop(dns, cluster):
    """Limits that the API server completes itself (a max without default: default = max, defaultRequest =
    default) and a ServiceAccount subject (apiGroup "") are what devns declared: no write once Ready."""
    name = unique("defaults")
    dns.create(name, limits={"max": {"ephemeral-storage": "2Gi"}, "min": {"memory": "32Mi"}},
               owners=[{"kind": "ServiceAccount", "name": "ci", "namespace": "ci"}])
    dns.wait_phase(name, "Ready")
    audit = AuditLog(cluster.audit_log)
    mark = audit.mark()
    time.sleep(5)  # a measurement window, not a wait: nothing is due, so nothing may be written
    writes = audit.writes(mark, OPERATOR_USER, touching={name})
    assert writes == [], describe_writes(writes)


# -- nothing keeps access after its DevNamespace ------------------------------------------------------------------

def view_binding_gone(rbac, name: str) -> bool:
    return gone(lambda: rbac.read_cluster_role_binding(f"devns-view-{name}"))


def test_cluster_view_does_not_survive_delete_with_cascade_orphan(dns, rbac):
    """`kubectl delete devnamespace --cascade=orphan`: the garbage collector strips the ownerReference of the
    cluster-view binding before devns's finalizer runs; the binding must still go, with the namespace."""
    name = unique("orphan-view")
    dns.create(name, clusterView=True)
    dns.wait_phase(name, "Ready")
    dns.custom.delete_cluster_custom_object(GROUP, VERSION, PLURAL, name, propagation_policy="Orphan")
    wait_for(lambda: gone(lambda: dns.get(name)), timeout=60, what="DevNamespace deleted")
    wait_for(lambda: view_binding_gone(rbac, name), what="cluster-view binding deleted")
    wait_for(lambda: gone(lambda: dns.core.read_namespace(name)), timeout=60, what="namespace deleted")


def test_cluster_view_orphaned_while_the_operator_was_down_is_collected(dns, rbac, operator):
    name = unique("orphan-view")
    dns.create(name, clusterView=True)
    dns.wait_phase(name, "Ready")
    operator.stop()  # while the operator is down, the DevNamespace goes away without its finalizer
    try:
        dns.custom.patch_cluster_custom_object(GROUP, VERSION, PLURAL, name, {"metadata": {"finalizers": None}})
        dns.custom.delete_cluster_custom_object(GROUP, VERSION, PLURAL, name, propagation_policy="Orphan")
        wait_for(lambda: gone(lambda: dns.get(name)), what="DevNamespace deleted")
        wait_for(lambda: not rbac.read_cluster_role_binding(f"devns-view-{name}").metadata.owner_references,
                 what="ownerReference stripped by the garbage collector")
    finally:
        operator.start()
    wait_for(lambda: view_binding_gone(rbac, name), timeout=60, what="orphaned cluster-view binding collected")
    wait_for(lambda: gone(lambda: dns.core.read_namespace(name)), timeout=60, what="orphaned namespace collected")

