"""DevNamespace on the real control plane, with the operator running: provisioning, tenant isolation, updates,
deletion, conflicts and bad input."""

from __future__ import annotations

import kubernetes
import pytest

from support import error_of, gone, kubectl, status_of, unique
from testkit.clients import client
from testkit.waiting import wait_for

RESTRICTED = {"runAsNonRoot": True, "runAsUser": 1000, "allowPrivilegeEscalation": False,
              "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}

pytestmark = pytest.mark.usefixtures("operator")


def as_user(kubeconfig: str, user: str):
    api = client(kubeconfig, user=user)
    return (kubernetes.client.CoreV1Api(api), kubernetes.client.AppsV1Api(api),
            kubernetes.client.RbacAuthorizationV1Api(api))


def restricted_pod(name: str, **resources) -> dict:
    container = {"name": "app", "image": "registry.example/app:1", "securityContext": RESTRICTED}
    if resources:
        container["resources"] = resources
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container]}}


def ready_for_pods(core, ns: str) -> None:
    """Pods are admitted once the `default` ServiceAccount exists and the quota's usage was first computed."""
    wait_for(lambda: core.read_namespaced_service_account("default", ns), what=f"{ns}/default ServiceAccount")
    wait_for(lambda: core.read_namespaced_resource_quota("devns-quota", ns).status.used is not None,
             what=f"{ns} quota usage")


# -- provisioning --------------------------------------------------------------------------------------------

def test_apply_makes_a_ready_namespace_with_every_guardrail(dns, api, binaries, kubeconfig):
    name = unique("alice")
    dns.create(name, owners=[{"kind": "User", "name": "alice@example.com"},
                             {"kind": "ServiceAccount", "name": "ci", "namespace": "ci-system"}],
               team="payments", purpose="payments API prototype", contact="#payments-dev", ttl="7d",
               quota={"requests.cpu": "2", "pods": 20})
    obj = dns.wait_phase(name, "Ready")
    ready = dns.condition(name)
    assert ready["status"] == "True" and ready["reason"] == "Provisioned"
    assert ready["observedGeneration"] == obj["metadata"]["generation"]
    assert obj["status"]["namespace"] == name and obj["status"]["expiresAt"].endswith("Z")

    ns = dns.core.read_namespace(name)
    labels, ann = ns.metadata.labels, ns.metadata.annotations
    assert labels["app.kubernetes.io/managed-by"] == "devns"
    assert labels["devns.io/owner"] == "alice_example.com" and labels["devns.io/team"] == "payments"
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert ann["devns.io/owner"] == "User:alice@example.com, ServiceAccount:ci-system/ci"
    assert ann["devns.io/purpose"] == "payments API prototype" and ann["devns.io/contact"] == "#payments-dev"
    assert ann["devns.io/ttl"] == "7d" and ann["devns.io/expires-at"] == obj["status"]["expiresAt"]
    assert ann["devns.io/created-by"] == f"{name}/{obj['metadata']['uid']}"
    assert ns.metadata.owner_references[0].uid == obj["metadata"]["uid"]

    net = kubernetes.client.NetworkingV1Api(api)
    policies = {p.metadata.name: p for p in net.list_namespaced_network_policy(name).items}
    assert set(policies) == {"devns-default-deny", "devns-allow-same-namespace", "devns-allow-dns"}
    deny = policies["devns-default-deny"].spec
    assert deny.pod_selector.match_labels is None and sorted(deny.policy_types) == ["Egress", "Ingress"]
    assert deny.ingress is None and deny.egress is None
    hard = dns.core.read_namespaced_resource_quota("devns-quota", name).spec.hard
    assert hard["requests.cpu"] == "2" and hard["pods"] == "20"
    assert hard["services.nodeports"] == "0" and hard["services.loadbalancers"] == "0"
    limits = dns.core.read_namespaced_limit_range("devns-limits", name).spec.limits[0]
    assert limits.type == "Container" and limits.default_request == {"cpu": "100m", "memory": "128Mi"}
    rb = kubernetes.client.RbacAuthorizationV1Api(api).read_namespaced_role_binding("devns-owners-edit", name)
    assert rb.role_ref.name == "edit"
    assert [(s.kind, s.name, s.namespace) for s in rb.subjects] == [
        ("User", "alice@example.com", None), ("ServiceAccount", "ci", "ci-system")]
    for child in [*policies.values(), rb]:
        assert child.metadata.labels["app.kubernetes.io/managed-by"] == "devns"
        assert child.metadata.owner_references[0].uid == obj["metadata"]["uid"]

    dns.wait_event(name, "Provisioned")
    table = kubectl(binaries, kubeconfig, "get", "devnamespaces", name).stdout.splitlines()
    assert table[0].split() == ["NAME", "NAMESPACE", "OWNER", "TEAM", "CLASS", "PHASE", "EXPIRES", "AGE"]
    assert table[1].split()[:6] == [name, name, "alice@example.com", "payments", "Ready",  # CLASS: empty, none
                                    obj["status"]["expiresAt"]]


def test_owner_can_work_in_their_namespace_but_not_escape_it(dns, kubeconfig):
    alice_ns, bob_ns = unique("alice-work"), unique("bob-work")
    dns.create(alice_ns, owners=[{"kind": "User", "name": "alice@example.com"}],
               quota={"pods": 2, "limits.cpu": "1"})
    dns.create(bob_ns, owners=[{"kind": "User", "name": "bob@example.com"}])
    dns.wait_phase(alice_ns, "Ready")
    dns.wait_phase(bob_ns, "Ready")
    core, apps, rbac = as_user(kubeconfig, "alice@example.com")

    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": restricted_pod("x")["spec"]}}}
    apps.create_namespaced_deployment(alice_ns, deployment)
    core.create_namespaced_config_map(alice_ns, {"metadata": {"name": "cfg"}, "data": {"a": "b"}})
    core.create_namespaced_service(alice_ns, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"port": 80}]}})

    assert error_of(lambda: core.create_namespaced_config_map(
        bob_ns, {"metadata": {"name": "cfg"}})).status == 403
    assert error_of(lambda: core.list_namespaced_pod(bob_ns)).status == 403

    assert status_of(lambda: core.create_namespaced_resource_quota(
        alice_ns, {"metadata": {"name": "mine"}, "spec": {"hard": {"pods": "100"}}})) == 403
    assert status_of(lambda: core.patch_namespaced_resource_quota(
        "devns-quota", alice_ns, {"spec": {"hard": {"pods": "100"}}})) == 403
    assert status_of(lambda: core.delete_namespaced_resource_quota("devns-quota", alice_ns)) == 403
    assert status_of(lambda: core.delete_namespaced_limit_range("devns-limits", alice_ns)) == 403
    assert status_of(lambda: core.patch_namespaced_limit_range(
        "devns-limits", alice_ns, {"spec": {"limits": []}})) == 403
    assert status_of(lambda: rbac.delete_namespaced_role_binding("devns-owners-edit", alice_ns)) == 403
    assert status_of(lambda: rbac.create_namespaced_role_binding(alice_ns, {
        "metadata": {"name": "mine"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                  "name": "admin"},
        "subjects": [{"kind": "User", "name": "alice@example.com", "apiGroup": "rbac.authorization.k8s.io"}]})) == 403

    nodeport = error_of(lambda: core.create_namespaced_service(alice_ns, {"metadata": {"name": "np"}, "spec": {
        "type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}}))
    assert nodeport.status == 403 and "exceeded quota: devns-quota" in nodeport.message
    assert "services.nodeports" in nodeport.message

    ready_for_pods(dns.core, alice_ns)
    created = core.create_namespaced_pod(alice_ns, restricted_pod("defaults"))
    assert created.spec.containers[0].resources.requests == {"cpu": "100m", "memory": "128Mi"}
    assert created.spec.containers[0].resources.limits == {"cpu": "500m", "memory": "512Mi"}
    over = error_of(lambda: core.create_namespaced_pod(
        alice_ns, restricted_pod("big", limits={"cpu": "800m"}, requests={"cpu": "100m"})))
    assert over.status == 403 and "exceeded quota: devns-quota" in over.message and "limits.cpu" in over.message

    privileged = restricted_pod("root")
    privileged["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    refused = error_of(lambda: core.create_namespaced_pod(alice_ns, privileged))
    assert refused.status == 403 and 'violates PodSecurity "restricted:latest"' in refused.message


# -- updates -------------------------------------------------------------------------------------------------

def test_spec_changes_propagate(dns, api, kubeconfig):
    name = unique("upd")
    dns.create(name, owners=[{"kind": "User", "name": "carol@example.com"}], quota={"requests.cpu": "2"})
    dns.wait_phase(name, "Ready")
    rbac = kubernetes.client.RbacAuthorizationV1Api(api)
    carol, _, _ = as_user(kubeconfig, "carol@example.com")
    dave, _, _ = as_user(kubeconfig, "dave@example.com")
    assert status_of(lambda: carol.list_namespaced_config_map(name)) == 200

    dns.patch(name, {"quota": {"requests.cpu": "4"}, "owners": [{"kind": "User", "name": "dave@example.com"}],
                     "clusterView": True, "podSecurity": "baseline", "labels": {"cost-center": "cc-42"}})
    dns.wait_phase(name, "Ready")
    assert dns.core.read_namespaced_resource_quota("devns-quota", name).spec.hard["requests.cpu"] == "4"
    wait_for(lambda: status_of(lambda: dave.list_namespaced_config_map(name)) == 200, what="dave's access")
    wait_for(lambda: status_of(lambda: carol.list_namespaced_config_map(name)) == 403, what="carol's access gone")
    labels = dns.core.read_namespace(name).metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline" and labels["cost-center"] == "cc-42"
    assert labels["devns.io/owner"] == "dave_example.com"
    crb = rbac.read_cluster_role_binding(f"devns-view-{name}")
    assert crb.role_ref.name == "devns-cluster-view" and crb.subjects[0].name == "dave@example.com"
    # cluster view: other namespaces' pods are visible, Secrets are not
    assert status_of(lambda: dave.list_namespaced_pod("kube-system")) == 200
    assert status_of(lambda: dave.list_namespaced_secret("kube-system")) == 403

    dns.patch(name, {"clusterView": False, "role": "view", "labels": None})
    dns.wait_phase(name, "Ready")
    assert gone(lambda: rbac.read_cluster_role_binding(f"devns-view-{name}"))
    bindings = [b.metadata.name for b in rbac.list_namespaced_role_binding(name).items]
    assert bindings == ["devns-owners-view"]
    assert "cost-center" not in dns.core.read_namespace(name).metadata.labels
    assert status_of(lambda: dave.create_namespaced_config_map(name, {"metadata": {"name": "x"}})) == 403
    dns.wait_event(name, "Updated")


def test_network_allows_follow_the_spec(dns, api):
    """Ingress from other namespaces: from those of DevNamespaces sharing an owner (test_attacks_network.py has
    the rule); a listed name devns cannot trust (a reserved one here) is left out."""
    name, owner = unique("net"), {"kind": "User", "name": "net-owner@example.com"}
    sources = sorted(unique("net-src") for _ in range(2))
    for source in sources:
        dns.create(source, owners=[owner])
    for source in sources:
        dns.wait_phase(source, "Ready")
    dns.create(name, owners=[owner], network={"allowSameNamespace": False, "allowDNS": True,
                                              "allowFromNamespaces": [*sources, "monitoring"]})
    dns.wait_phase(name, "Ready")
    net = kubernetes.client.NetworkingV1Api(api)
    policies = {p.metadata.name: p for p in net.list_namespaced_network_policy(name).items}
    assert set(policies) == {"devns-default-deny", "devns-allow-dns", "devns-allow-from-namespaces"}
    expr = policies["devns-allow-from-namespaces"].spec.ingress[0]._from[0].namespace_selector.match_expressions[0]
    assert (expr.key, expr.operator, expr.values) == ("kubernetes.io/metadata.name", "In", sources)
    assert dns.get(name)["status"]["trustedSources"] == sources
    cond = dns.condition(name, "SourcesTrusted")
    assert (cond["status"], cond["reason"]) == ("False", "UntrustedSources") and "monitoring: " in cond["message"]
    dns.patch(name, {"network": {"allowSameNamespace": True, "allowFromNamespaces": []}})
    dns.wait_phase(name, "Ready")
    wait_for(lambda: {p.metadata.name for p in net.list_namespaced_network_policy(name).items} == {
        "devns-default-deny", "devns-allow-dns", "devns-allow-same-namespace"}, what="policies updated")
    assert "trustedSources" not in dns.get(name)["status"] and not dns.condition(name, "SourcesTrusted")


# -- deletion ------------------------------------------------------------------------------------------------

def test_deleting_a_devnamespace_deletes_its_namespace_and_contents(dns):
    name = unique("del")
    dns.create(name)
    dns.wait_phase(name, "Ready")
    dns.core.create_namespaced_config_map(name, {"metadata": {"name": "data"}, "data": {"k": "v"}})
    dns.delete(name)
    wait_for(lambda: gone(lambda: dns.core.read_namespace(name)), timeout=60, what="namespace gone")
    wait_for(lambda: gone(lambda: dns.get(name)), timeout=30, what="DevNamespace gone")


# -- safety and bad input --------------------------------------------------------------------------------------

def test_an_existing_namespace_is_never_adopted(dns):
    name = unique("handmade")
    dns.core.create_namespace({"metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "devns",
                                                                     "team": "theirs"}}})
    before = dns.core.read_namespace(name).metadata
    dns.create(name)
    dns.wait_phase(name, "Failed")
    ready = dns.condition(name)
    assert ready["status"] == "False" and ready["reason"] == "NamespaceConflict"
    assert "already exists and was not created by devns" in ready["message"]
    after = dns.core.read_namespace(name).metadata
    assert after.labels == before.labels and after.annotations == before.annotations
    assert after.resource_version == before.resource_version
    assert dns.core.list_namespaced_resource_quota(name).items == []
    dns.wait_event(name, "NamespaceConflict", "Warning")
    dns.delete(name)  # deleting the DevNamespace must not delete someone else's namespace
    wait_for(lambda: gone(lambda: dns.get(name)), what="DevNamespace gone")
    assert dns.core.read_namespace(name).status.phase == "Active"


def test_two_devnamespaces_claiming_one_namespace(dns):
    first, second, ns = unique("first"), unique("second"), unique("shared")
    dns.create(first, namespace=ns)
    dns.wait_phase(first, "Ready")
    dns.create(second, namespace=ns)
    dns.wait_phase(second, "Failed")
    assert f"is managed by DevNamespace {first}" in dns.condition(second)["message"]
    assert dns.core.read_namespace(ns).metadata.annotations["devns.io/created-by"].startswith(f"{first}/")
    dns.delete(second)
    wait_for(lambda: gone(lambda: dns.get(second)), what="second DevNamespace gone")
    assert dns.get(first)["status"]["phase"] == "Ready"
    assert dns.core.read_namespace(ns).status.phase == "Active"


@pytest.mark.parametrize("namespace", ["default", "kube-system", "kube-public", "protected-payments"])
def test_reserved_namespaces_are_refused(dns, namespace):
    name = unique("reserved")
    before = dns.core.read_namespace(namespace).metadata if namespace != "protected-payments" else None
    dns.create(name, namespace=namespace)
    dns.wait_phase(name, "Failed")
    ready = dns.condition(name)
    assert ready["reason"] == "ReservedNamespace" and f"namespace {namespace!r} is reserved" in ready["message"]
    if before is not None:
        assert dns.core.read_namespace(namespace).metadata.resource_version == before.resource_version
    else:
        assert gone(lambda: dns.core.read_namespace(namespace))


@pytest.mark.parametrize("spec, reason, text", [
    ({"role": "cluster-admin"}, "RoleNotAllowed", "role 'cluster-admin' is not allowed"),
    ({"podSecurity": "privileged"}, "PrivilegedNotAllowed", "podSecurity 'privileged' is not allowed"),
    ({"limits": {"defaultRequest": {"cpu": "2"}, "default": {"cpu": "1"}}}, "InvalidLimits",
     "defaultRequest 2 is greater than default 1"),
])
def test_policy_violations_fail_without_creating_anything(dns, spec, reason, text):
    name = unique("bad")
    dns.create(name, **spec)
    dns.wait_phase(name, "Failed")
    ready = dns.condition(name)
    assert ready["status"] == "False" and ready["reason"] == reason and text in ready["message"]
    assert gone(lambda: dns.core.read_namespace(name))
    dns.wait_event(name, reason, "Warning")
    # fixing the spec recovers: the operator never gave up on the object for good
    dns.patch(name, {"role": None, "podSecurity": "restricted", "limits": None})
    dns.wait_phase(name, "Ready")


@pytest.mark.parametrize("spec, message", [
    ({"owners": [{"kind": "ServiceAccount", "name": "ci"}]}, "a ServiceAccount owner needs namespace"),
    ({"owners": [{"kind": "Robot", "name": "r2"}]}, 'Unsupported value: "Robot"'),
    ({"owners": []}, "should have at least 1 items"),
    ({"owners": [{"kind": "User", "name": "a"}], "quota": {"requests.cpu": "lots"}}, "spec.quota.requests.cpu"),
    ({"owners": [{"kind": "User", "name": "a"}], "labels": {"devns.io/owner": "me"}}, "managed by devns"),
    ({"owners": [{"kind": "User", "name": "a"}], "namespace": "Not_A_Label"}, "spec.namespace"),
])
def test_admission_refuses_bad_specs(dns, spec, message):
    exc = error_of(lambda: dns.create(unique("refused"), **spec))
    assert exc.status == 422 and message in exc.message


def test_namespace_is_immutable(dns):
    name = unique("immut")
    dns.create(name)
    exc = error_of(lambda: dns.patch(name, {"namespace": "elsewhere"}))
    assert exc.status == 422 and "spec.namespace is immutable" in exc.message
