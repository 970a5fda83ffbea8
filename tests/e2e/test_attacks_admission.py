"""Attacks the API server's admission policies must stop (issue 13), each performed on the real control plane and
asserted to fail with the policy's own message (so a missing RBAC rule cannot make a test pass), next to the
legitimate action that must still work:

- manifests/base/guardrails-policy.yaml: devns's namespaces and guardrails, through every subresource, and devns's
  labels on any namespace or object, for everyone but the operator, admins and two named controllers;
- manifests/base/service-policy.yaml: no ExternalName or externalIPs Services in devns namespaces unless allowed;
- manifests/base/operator-policy.yaml: the operator's own ServiceAccount, with the RBAC it installs (rbac.yaml),
  is not cluster-admin. Impersonated with kubectl, which sends all its groups;
- manifests/optional/self-service: what a developer may ask for herself (installed with the self_service fixture,
  conftest.py, and removed again).

(Attacks the operator stops: test_attacks_operator.py. The other self-service limits: test_self_service.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import kubernetes
import pytest

from self_service_support import ALICE, BOB, As
from self_service_support import refused as refused_by_self_service
from support import cron_job, deployment, error_of, gone, kubectl, status_of, unique
from testkit.clients import client
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "manifests/base"
RBAC_GROUP = "rbac.authorization.k8s.io"
MANAGED = {"app.kubernetes.io/managed-by": "devns"}
PSS_ENFORCE = "pod-security.kubernetes.io/enforce"
GUARDRAILS, NAMESPACE_GUARDRAILS = "devns-guardrails", "devns-namespace-guardrails"
SERVICES, OPERATOR_LIMITS, OPERATOR_BINDINGS = "devns-services", "devns-operator-limits", "devns-operator-bindings"
OPERATOR_SA = "system:serviceaccount:devns-system:devns-operator"
OPERATOR_GROUPS = ("system:serviceaccounts", "system:serviceaccounts:devns-system", "system:authenticated")


def refused(call, policy: str, text: str) -> None:
    """The API call is refused (403) by ValidatingAdmissionPolicy ``policy`` with ``text`` in its message."""
    exc = error_of(call)
    assert exc.status == 403 and f"ValidatingAdmissionPolicy '{policy}'" in exc.message, (exc.status, exc.message)
    assert text in exc.message, exc.message


def dry(call) -> int:
    """HTTP status of a server-side dry run (``call`` takes the dry_run argument)."""
    return status_of(lambda: call(dry_run="All"))


@pytest.fixture(scope="module")
def rbac(api):
    return kubernetes.client.RbacAuthorizationV1Api(api)


@pytest.fixture(scope="module")
def grant(rbac):
    """grant(subject, rules): a ClusterRole with ``rules`` bound to ``subject`` (a User name, or a ServiceAccount
    as (namespace, name)), i.e. someone with exactly that RBAC; removed at the end of the module."""
    made = []

    def _grant(subject, rules: list[dict]) -> None:
        name = unique("attack-grant")
        rbac.create_cluster_role({"metadata": {"name": name}, "rules": rules})
        subj = ({"kind": "ServiceAccount", "namespace": subject[0], "name": subject[1]} if isinstance(subject, tuple)
                else {"kind": "User", "name": subject, "apiGroup": RBAC_GROUP})
        rbac.create_cluster_role_binding({"metadata": {"name": name}, "subjects": [subj], "roleRef": {
            "apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name}})
        made.append(name)

    yield _grant
    for name in made:
        rbac.delete_cluster_role_binding(name)
        rbac.delete_cluster_role(name)


def ready(dns, owner: str, **spec) -> str:
    """A Ready DevNamespace owned by User ``owner``; returns its (namespace) name."""
    name = unique("atk")
    dns.create(name, owners=[{"kind": "User", "name": owner}], **spec)
    dns.wait_phase(name, "Ready")
    return name


# -- namespaces: through every subresource, and nobody dresses one up as devns's -------------------------------------

NAMESPACE_WRITER = [{"apiGroups": [""], "resources": ["namespaces", "namespaces/status", "namespaces/finalize"],
                     "verbs": ["get", "create", "patch", "update", "delete"]}]


def test_pod_security_labels_cannot_be_changed_through_namespace_status_or_finalize(dns, kubeconfig, grant):
    """Someone allowed to write namespaces/status or namespaces/finalize (not a cluster admin) tries to switch a
    devns namespace to privileged Pod Security through those subresources, which carry metadata too."""
    name = ready(dns, "gina@example.com")
    grant("gina@example.com", NAMESPACE_WRITER)
    gina = kubernetes.client.CoreV1Api(client(kubeconfig, user="gina@example.com"))
    privileged = {"metadata": {"labels": {PSS_ENFORCE: "privileged"}}}
    wait_for(lambda: status_of(lambda: gina.read_namespace_status(name)) == 200, what="gina's RBAC in effect")

    text = f"namespace {name} is managed by devns: its devns.io/*, pod-security.kubernetes.io/*"
    refused(lambda: gina.patch_namespace_status(name, privileged), NAMESPACE_GUARDRAILS, text)
    body = dns.core.api_client.sanitize_for_serialization(dns.core.read_namespace(name))
    body["metadata"]["labels"][PSS_ENFORCE] = "privileged"
    refused(lambda: gina.replace_namespace_finalize(name, body), NAMESPACE_GUARDRAILS, text)
    refused(lambda: gina.patch_namespace_status(name, {"metadata": {"annotations": {"devns.io/ttl": "never"}}}),
            NAMESPACE_GUARDRAILS, text)
    assert dns.core.read_namespace(name).metadata.labels[PSS_ENFORCE] == "restricted"
    # labels of her own stay hers, whichever way she writes them
    assert status_of(lambda: gina.patch_namespace_status(name, {"metadata": {"labels": {"cost-center": "42"}}})) == 200


def test_nobody_but_the_operator_dresses_a_namespace_up_as_devns(dns, kubeconfig, grant):
    """With create and patch on namespaces, gina tries to make a namespace look like devns's: created with devns's
    label or annotations (only devns.io/* ones too, without the label), or labelled afterwards, in one or two
    steps. Plain namespaces and her own labels are fine; an admin may still create a look-alike."""
    grant("gina@example.com", NAMESPACE_WRITER)
    gina = kubernetes.client.CoreV1Api(client(kubeconfig, user="gina@example.com"))
    text = "only the devns operator sets app.kubernetes.io/managed-by=devns and devns.io/* labels and annotations"
    fake = unique("fake")
    wait_for(lambda: error_of(lambda: gina.create_namespace({"metadata": {"name": fake, "labels": MANAGED}},
                                                            dry_run="All")).status == 403 and
             dry(lambda **kw: gina.create_namespace({"metadata": {"name": fake}}, **kw)) == 200,
             what="gina's RBAC in effect")
    refused(lambda: gina.create_namespace({"metadata": {"name": fake, "labels": MANAGED}}), NAMESPACE_GUARDRAILS,
            f"namespace {fake} is not managed by devns: {text} (here: app.kubernetes.io/managed-by)")
    refused(lambda: gina.create_namespace({"metadata": {"name": fake, "annotations": {
        "devns.io/proof": "00" * 32, "devns.io/created-by": f"{fake}/0000"}}}), NAMESPACE_GUARDRAILS, text)
    refused(lambda: gina.create_namespace({"metadata": {"name": fake, "labels": {"devns.io/owner": "gina"}}}),
            NAMESPACE_GUARDRAILS, text)

    gina.create_namespace({"metadata": {"name": fake}})
    try:
        refused(lambda: gina.patch_namespace(fake, {"metadata": {"annotations": {"devns.io/proof": "00" * 32}}}),
                NAMESPACE_GUARDRAILS, "(here: devns.io/proof); create a DevNamespace instead")
        refused(lambda: gina.patch_namespace(fake, {"metadata": {"labels": MANAGED}}), NAMESPACE_GUARDRAILS, text)
        refused(lambda: gina.patch_namespace_status(fake, {"metadata": {"labels": MANAGED}}), NAMESPACE_GUARDRAILS,
                text)
        assert status_of(lambda: gina.patch_namespace(fake, {"metadata": {"labels": {
            "team": "payments", "app.kubernetes.io/managed-by": "helm"}}})) == 200
        assert dry(lambda **kw: dns.core.patch_namespace(fake, {"metadata": {"labels": MANAGED}}, **kw)) == 200
    finally:
        dns.core.delete_namespace(fake)


def test_tenant_cannot_create_objects_labelled_as_devns_guardrails(dns, kubeconfig):
    """An owner with the admin role creates a RoleBinding that looks like devns's own (devns-owners-*, labelled
    managed-by=devns) so that the guardrail policy protects it from the other owners, and labels a NetworkPolicy
    of hers the same way. Her unlabelled objects stay hers."""
    name = ready(dns, "hana@example.com", role="admin")
    hana = client(kubeconfig, user="hana@example.com")
    rbac, net = kubernetes.client.RbacAuthorizationV1Api(hana), kubernetes.client.NetworkingV1Api(hana)

    def binding(binding_name: str, labels: dict) -> dict:
        return {"metadata": {"name": binding_name, "labels": labels},
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "User", "name": "eve@example.com", "apiGroup": RBAC_GROUP}]}

    refused(lambda: rbac.create_namespaced_role_binding(name, binding("devns-owners-view", MANAGED)), GUARDRAILS,
            "RoleBinding devns-owners-view: only the devns operator creates objects labelled "
            "app.kubernetes.io/managed-by=devns")
    policy = {"metadata": {"name": "allow-all", "labels": MANAGED}, "spec": {"podSelector": {}, "ingress": [{}]}}
    refused(lambda: net.create_namespaced_network_policy(name, policy), GUARDRAILS,
            "NetworkPolicy allow-all: only the devns operator creates objects labelled")

    rbac.create_namespaced_role_binding(name, binding("team-view", {}))
    net.create_namespaced_network_policy(name, {**policy, "metadata": {"name": "allow-all"}})
    refused(lambda: net.patch_namespaced_network_policy("allow-all", name, {"metadata": {"labels": MANAGED}}),
            GUARDRAILS, "NetworkPolicy allow-all: only the devns operator creates objects labelled")
    assert status_of(lambda: rbac.delete_namespaced_role_binding("team-view", name)) == 200


def test_only_the_namespace_controller_and_garbage_collector_are_exempt_in_kube_system(dns, kubeconfig, grant):
    """A kube-system ServiceAccount or a system:kube-* user that was granted delete rights (a compromised add-on,
    a careless binding) is not the control plane: only the namespace controller and the garbage collector, which
    delete what devns made, pass the guardrails. (This control plane runs kube-controller-manager with
    --use-service-account-credentials, so those requests come from these two ServiceAccounts.)"""
    name = ready(dns, "ida@example.com")
    writer = [{"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["delete", "patch"]},
              {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["delete", "patch"]}]
    intruders = [("kube-system", "devns-attack-addon"), "system:kube-scheduler"]
    for intruder in intruders:
        grant(intruder, writer)
    for intruder in intruders:
        user = intruder if isinstance(intruder, str) else "system:serviceaccount:{}:{}".format(*intruder)
        api = client(kubeconfig, user=user)
        net, core = kubernetes.client.NetworkingV1Api(api), kubernetes.client.CoreV1Api(api)
        wait_for(lambda: "devns guardrail" in error_of(lambda: net.delete_namespaced_network_policy(
            "devns-default-deny", name, dry_run="All")).message, what=f"{user}'s RBAC in effect")
        refused(lambda: net.delete_namespaced_network_policy("devns-default-deny", name, dry_run="All"), GUARDRAILS,
                "NetworkPolicy devns-default-deny is a devns guardrail")
        refused(lambda: core.delete_namespace(name, dry_run="All"), NAMESPACE_GUARDRAILS,
                f"namespace {name} is managed by devns: delete its DevNamespace instead")
    for controller in ("namespace-controller", "generic-garbage-collector"):
        user = f"system:serviceaccount:kube-system:{controller}"
        net = kubernetes.client.NetworkingV1Api(client(kubeconfig, user=user))
        assert dry(lambda **kw: net.delete_namespaced_network_policy("devns-default-deny", name, **kw)) == 200


# -- Services that reach outside ----------------------------------------------------------------------------------

def external_name(name: str) -> dict:
    return {"metadata": {"name": name}, "spec": {"type": "ExternalName",
                                                 "externalName": "kubernetes.default.svc.cluster.local"}}


def external_ips(name: str, *ips: str) -> dict:
    return {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}], "externalIPs": list(ips)}}


@pytest.fixture
def service_settings(binaries, kubeconfig, core):
    """Change the service policy's settings (the devns-service-policy ConfigMap) for one test; re-applied as
    shipped afterwards."""
    def _set(data: dict | None) -> None:
        if data is None:
            core.delete_namespaced_config_map("devns-service-policy", "devns-system")
        else:
            core.patch_namespaced_config_map("devns-service-policy", "devns-system", {"data": data})

    yield _set
    kubectl(binaries, kubeconfig, "apply", "--server-side", "--force-conflicts", "-f",
            str(BASE / "service-policy.yaml"))


def test_external_name_and_external_ip_services_are_refused_in_devns_namespaces(dns, kubeconfig, api,
                                                                               service_settings):
    """An owner (edit) creates an ExternalName Service (an alias to any host, e.g. the cluster's API) and one with
    externalIPs (traffic to that IP, cluster-wide, would come to her pods: CVE-2020-8554). Plain Services work; an
    admin may create one for her; the platform team can allow them (the devns-service-policy ConfigMap)."""
    name = ready(dns, "ivy@example.com")
    ivy = kubernetes.client.CoreV1Api(client(kubeconfig, user="ivy@example.com"))
    refused(lambda: ivy.create_namespaced_service(name, external_name("alias")), SERVICES,
            "Service alias: type ExternalName is not allowed in devns namespaces")
    refused(lambda: ivy.create_namespaced_service(name, external_ips("grab", "10.0.0.1")), SERVICES,
            "Service grab: externalIPs 10.0.0.1 not allowed in devns namespaces (an external IP captures traffic "
            "to that address cluster-wide); allowed: none")
    ivy.create_namespaced_service(name, {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}})
    refused(lambda: ivy.patch_namespaced_service("web", name, {"spec": {"externalIPs": ["10.0.0.1"]}}), SERVICES,
            "Service web: externalIPs 10.0.0.1 not allowed")
    admin = kubernetes.client.CoreV1Api(api)
    assert dry(lambda **kw: admin.create_namespaced_service(name, external_name("alias"), **kw)) == 200

    service_settings({"allowExternalName": "true", "allowedExternalIPs": "192.0.2.0/24"})
    wait_for(lambda: dry(lambda **kw: ivy.create_namespaced_service(name, external_name("alias"), **kw)) == 200,
             what="the new service settings in effect")
    assert dry(lambda **kw: ivy.create_namespaced_service(name, external_ips("lb", "192.0.2.10"), **kw)) == 200
    refused(lambda: ivy.create_namespaced_service(name, external_ips("lb", "192.0.2.10", "203.0.113.5")), SERVICES,
            "externalIPs 203.0.113.5 not allowed in devns namespaces (an external IP captures traffic to that "
            "address cluster-wide); allowed: 192.0.2.0/24")


def test_without_its_settings_the_service_policy_fails_closed(dns, kubeconfig, service_settings):
    """Deleting the settings ConfigMap does not switch the policy off: Service writes in devns namespaces are
    refused until it is back."""
    name = ready(dns, "ivy@example.com")
    ivy = kubernetes.client.CoreV1Api(client(kubeconfig, user="ivy@example.com"))
    service_settings(None)
    wait_for(lambda: "no params found" in error_of(lambda: ivy.create_namespaced_service(
        name, external_name("alias"), dry_run="All")).message, what="the settings gone")
    exc = error_of(lambda: ivy.create_namespaced_service(name, external_name("alias")))
    assert f"ValidatingAdmissionPolicy '{SERVICES}'" in exc.message and "no params found" in exc.message


# -- a compromised operator is not cluster-admin -----------------------------------------------------------------

class Operator:
    """kubectl as the operator's ServiceAccount (all three of its groups, as a pod's token has them), with the
    RBAC manifests/base/rbac.yaml installs. Objects go through a file: ``create(obj)``."""

    def __init__(self, binaries, kubeconfig: str, tmp: Path):
        self.binaries, self.kubeconfig, self.tmp = binaries, kubeconfig, tmp

    def run(self, *args: str):
        who = ["--as", OPERATOR_SA, *(f"--as-group={g}" for g in OPERATOR_GROUPS)]
        return kubectl(self.binaries, self.kubeconfig, *who, *args, check=False)

    def create(self, obj: dict, dry_run: bool = True, verb: tuple[str, ...] = ("create",)):
        path = self.tmp / f"{unique('obj')}.json"
        path.write_text(json.dumps(obj))
        return self.run(*verb, "-f", str(path), *(["--dry-run=server"] if dry_run else []))

    def refused(self, proc, policy: str, text: str) -> None:
        assert proc.returncode != 0 and f"ValidatingAdmissionPolicy '{policy}'" in proc.stderr, proc.stderr
        assert text in proc.stderr, proc.stderr

    @staticmethod
    def allowed(proc) -> None:
        assert proc.returncode == 0, proc.stderr


def binding(kind: str, name: str, role: str, namespace: str | None = None, subject: dict | None = None,
            labels: dict | None = None) -> dict:
    meta = {"name": name, "labels": MANAGED if labels is None else labels}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": f"{RBAC_GROUP}/v1", "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
            "subjects": [subject or {"kind": "User", "name": "eve@example.com", "apiGroup": RBAC_GROUP}]}


OPERATOR_FILES = ("serviceaccount.yaml", "rbac.yaml", "rbac-seeds.yaml", "configmap.yaml", "operator-policy.yaml")


@pytest.fixture(scope="module")
def operator_sa(binaries, kubeconfig, tmp_path_factory):
    """The operator's ServiceAccount, its RBAC and settings and operator-policy.yaml, applied as manifests/base
    has them (devns-system comes with the session's install); removed again at the end of the module, the policy
    first (it reads the settings)."""
    files = [str(BASE / f) for f in OPERATOR_FILES]
    k = lambda *args: kubectl(binaries, kubeconfig, *args)  # noqa: E731
    k("apply", "--server-side", "--force-conflicts", *(a for f in files for a in ("-f", f)))
    op = Operator(binaries, kubeconfig, tmp_path_factory.mktemp("operator-sa"))
    probe = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": unique("probe")}}
    wait_for(lambda: f"ValidatingAdmissionPolicy '{OPERATOR_LIMITS}'" in op.create(probe).stderr,
             what="the operator policy in effect")
    yield op
    k("delete", "--ignore-not-found", "-f", str(BASE / "operator-policy.yaml"))
    wait_for(lambda: OPERATOR_LIMITS not in op.create(probe).stderr, what="the operator policy gone")
    # rbac-seeds.yaml stays: it holds the seed source namespace other modules use
    k("delete", "--ignore-not-found", *(a for f in files[:-1] if "seeds" not in f for a in ("-f", f)))


def test_compromised_operator_cannot_bind_beyond_cluster_view_cluster_wide(operator_sa):
    """Its RBAC may bind edit (for owners' RoleBindings) and create any ClusterRoleBinding: cluster-wide edit,
    which reads every Secret, would make it cluster-admin. Only devns-view-* -> the cluster-view role passes.
    (Each attempt breaks one rule, so that one policy's message is the answer.)"""
    op = operator_sa
    op.refused(op.create(binding("ClusterRoleBinding", "evil", "devns-cluster-view")), OPERATOR_LIMITS,
               "ClusterRoleBinding evil: the devns operator writes only ClusterRoleBindings named devns-view-*")
    op.refused(op.create(binding("ClusterRoleBinding", "devns-view-evil", "edit")), OPERATOR_BINDINGS,
               "ClusterRoleBinding devns-view-evil: the devns operator may bind only DEVNS_CLUSTER_VIEW_ROLE "
               "(devns-cluster-view, ConfigMap devns-system/devns-settings), not ClusterRole edit")
    op.refused(op.create(binding("ClusterRoleBinding", "devns-view-unlabelled", "devns-cluster-view", labels={})),
               OPERATOR_LIMITS, "the devns operator writes only bindings labelled app.kubernetes.io/managed-by=devns")
    op.refused(op.create(binding("ClusterRoleBinding", "devns-view-all", "devns-cluster-view",
                                 subject={"kind": "Group", "name": "system:authenticated", "apiGroup": RBAC_GROUP})),
               OPERATOR_LIMITS, "the devns operator never binds a system: user or group nor a ServiceAccount of "
                                "devns-system")
    op.allowed(op.create(binding("ClusterRoleBinding", unique("devns-view-ok"), "devns-cluster-view")))


def test_compromised_operator_binds_only_allowed_roles_and_only_in_devns_namespaces(operator_sa, dns):
    """RoleBindings: not in kube-system nor in its own devns-system (where edit would read its key and mint
    tokens), not to itself, not to a role outside DEVNS_ALLOWED_ROLES; an owner binding in a devns namespace
    still works."""
    op, name = operator_sa, ready(dns, "jon@example.com")
    for namespace in ("kube-system", "devns-system"):
        op.refused(op.create(binding("RoleBinding", "evil", "edit", namespace)), OPERATOR_LIMITS,
                   f"RoleBinding evil in namespace {namespace}: the devns operator writes these only in namespaces "
                   "it manages")
    op.refused(op.create(binding("RoleBinding", "devns-owners-x", "devns-cluster-view", name)), OPERATOR_BINDINGS,
               "RoleBinding devns-owners-x: the devns operator may bind only DEVNS_ALLOWED_ROLES (edit, view, "
               "ConfigMap devns-system/devns-settings), not ClusterRole devns-cluster-view")
    itself = {"kind": "ServiceAccount", "name": "devns-operator", "namespace": "devns-system"}
    op.refused(op.create(binding("RoleBinding", "devns-owners-edit2", "edit", name, subject=itself)),
               OPERATOR_LIMITS, "never binds a system: user or group nor a ServiceAccount of devns-system")
    op.refused(op.create(binding("RoleBinding", "sneaky", "edit", name, labels={})), OPERATOR_LIMITS,
               "RoleBinding sneaky: the devns operator writes only bindings labelled")
    op.allowed(op.create(binding("RoleBinding", "devns-owners-view", "view", name)))


def test_without_its_settings_the_operator_binds_nothing(operator_sa, dns, binaries, kubeconfig, core):
    """The allowed roles come from the operator's settings ConfigMap, which it cannot write; without it, no
    binding (fail closed), and a binding outside devns's is not affected. A DevNamespace created meanwhile waits
    (Pending, PolicySettingsMissing: the cluster's state, not its spec) and is Ready once the settings are back."""
    op, name = operator_sa, ready(dns, "jon@example.com")
    core.delete_namespaced_config_map("devns-settings", "devns-system")
    waiting = unique("atk-nosettings")
    try:
        wait_for(lambda: "no params found" in op.create(binding("RoleBinding", "devns-owners-edit2", "edit",
                                                                name)).stderr, what="the settings gone")
        proc = op.create(binding("RoleBinding", "devns-owners-edit2", "edit", name))
        assert f"ValidatingAdmissionPolicy '{OPERATOR_BINDINGS}'" in proc.stderr and proc.returncode != 0
        dns.create(waiting, owners=[{"kind": "User", "name": "jon@example.com"}])
        wait_for(lambda: dns.condition(waiting).get("reason") == "PolicySettingsMissing", timeout=30,
                 what="the DevNamespace waiting for the policy's settings")
        assert (dns.get(waiting).get("status") or {}).get("phase") == "Pending"
    finally:
        kubectl(binaries, kubeconfig, "apply", "--server-side", "-f", str(BASE / "configmap.yaml"))
    wait_for(lambda: op.create(binding("RoleBinding", "devns-owners-edit2", "edit", name)).returncode == 0,
             what="the settings back")
    dns.wait_phase(waiting, "Ready", timeout=60)
    dns.delete(waiting)
    wait_for(lambda: gone(lambda: dns.get(waiting)), timeout=60, what=f"{waiting} deleted")


def test_compromised_operator_cannot_change_or_delete_namespaces_it_does_not_manage(operator_sa, dns):
    """Its RBAC patches and deletes any namespace; only those labelled managed-by=devns pass (and never default,
    kube-* or devns-system), and it creates only such namespaces (or its own devns-system)."""
    op, name = operator_sa, ready(dns, "kim@example.com")
    payments = unique("payments-prod")  # a team's namespace that devns has nothing to do with
    dns.core.create_namespace({"metadata": {"name": payments}})
    for victim in (payments, "devns-system"):
        op.refused(op.run("delete", "namespace", victim, "--dry-run=server"), OPERATOR_LIMITS,
                   f"namespace {victim} is not managed by devns (no label app.kubernetes.io/managed-by=devns): the "
                   "devns operator may not change or delete it")
    for victim in (payments, "kube-system"):
        op.refused(op.run("label", "namespace", victim, "pod-security.kubernetes.io/enforce=privileged",
                          "--dry-run=server"), OPERATOR_LIMITS, f"namespace {victim} is not managed by devns")
    dns.core.delete_namespace(payments)
    plain = unique("plain")
    op.refused(op.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": plain}}), OPERATOR_LIMITS,
               f"namespace {plain}: the devns operator creates only namespaces labelled "
               "app.kubernetes.io/managed-by=devns (and its own devns-system)")
    op.allowed(op.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": plain, "labels": MANAGED}}))
    op.allowed(op.run("label", "namespace", name, "example.com/x=y", "--dry-run=server"))
    op.allowed(op.run("delete", "namespace", name, "--dry-run=server"))


def test_compromised_operator_writes_guardrails_only_in_devns_namespaces(operator_sa):
    """Its RBAC writes NetworkPolicies, ResourceQuotas and LimitRanges anywhere: a deny-all in kube-system, or
    deleting another team's NetworkPolicy, would pass RBAC."""
    op = operator_sa
    deny = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny-all", "namespace": "kube-system"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    op.refused(op.create(deny), OPERATOR_LIMITS, "NetworkPolicy deny-all in namespace kube-system: the devns "
                                                 "operator writes these only in namespaces it manages")
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "zero", "namespace": "default"},
             "spec": {"hard": {"pods": "0"}}}
    op.refused(op.create(quota), OPERATOR_LIMITS, "ResourceQuota zero in namespace default")


def test_compromised_operator_writes_no_secret_but_its_key(operator_sa, dns):
    """Its Role may create any Secret in devns-system (create cannot be limited by name): a second Secret, or a
    ServiceAccount token Secret under its key's name (a long-lived token), is refused; its Opaque key is not."""
    op = operator_sa
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "stolen", "namespace": "devns-system"}, "stringData": {"k": "v"}}
    op.refused(op.create(secret), OPERATOR_LIMITS,
               "Secret devns-system/stolen: the devns operator writes only its key Secret devns-system/devns-gc-key "
               "(type Opaque)")
    token = {**secret, "type": "kubernetes.io/service-account-token", "stringData": {},
             "metadata": {"name": "devns-gc-key", "namespace": "devns-system",
                          "annotations": {"kubernetes.io/service-account.name": "devns-operator"}}}
    op.refused(op.create(token), OPERATOR_LIMITS, "Secret devns-system/devns-gc-key: the devns operator writes only")
    key = op.create({**secret, "metadata": {"name": "devns-gc-key", "namespace": "devns-system"}})
    assert key.returncode == 0 or "already exists" in key.stderr, key.stderr  # the session's operator made it


def test_compromised_operator_seeds_only_its_own_objects_in_devns_namespaces(operator_sa, dns, core):
    """Its seed RBAC (rbac-seeds.yaml) writes ConfigMaps, Secrets, Deployments... anywhere and reads no Secret
    outside devns-system and the seed source namespace: it cannot overwrite or delete a tenant's own ConfigMap
    (even by adding devns's label), plant objects outside devns namespaces, write a ServiceAccount token Secret,
    or read Secrets elsewhere. What seeding needs passes: a labelled ConfigMap, the default ServiceAccount."""
    op, name = operator_sa, ready(dns, "sam@example.com")
    core.create_namespaced_config_map(name, {"metadata": {"name": "tenant-config"}, "data": {"k": "mine"}})
    managed = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tenant-config", "namespace": name,
                                                                      "labels": MANAGED}, "data": {"k": "evil"}}
    op.refused(op.create(managed, verb=("apply", "--server-side", "--force-conflicts")), OPERATOR_LIMITS,
               f"ConfigMap {name}/tenant-config: the devns operator writes only objects labelled")
    op.refused(op.run("delete", "configmap", "tenant-config", "-n", name, "--dry-run=server"), OPERATOR_LIMITS,
               f"ConfigMap {name}/tenant-config: the devns operator writes only objects labelled")
    op.refused(op.create({**managed, "metadata": {"name": "planted", "namespace": "kube-system", "labels": MANAGED}}),
               OPERATOR_LIMITS, "ConfigMap planted in namespace kube-system: the devns operator writes these only in "
                                "namespaces it manages")
    token = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
             "metadata": {"name": "tok", "namespace": name, "labels": MANAGED,
                          "annotations": {"kubernetes.io/service-account.name": "default"}}}
    op.refused(op.create(token), OPERATOR_LIMITS, "never ServiceAccount tokens")
    for where in ("kube-system", name):
        assert op.run("auth", "can-i", "get", "secrets", "-n", where).stdout.strip() == "no"
    assert op.run("auth", "can-i", "list", "secrets", "-n", "devns-seeds").stdout.strip() == "yes"
    op.allowed(op.create({**managed, "metadata": {"name": "seeded", "namespace": name, "labels": MANAGED}}))
    op.allowed(op.run("patch", "serviceaccount", "default", "-n", name, "--dry-run=server", "-p",
                      '{"imagePullSecrets": [{"name": "registry"}]}'))


def test_compromised_operator_only_scales_and_suspends_tenants_workloads(operator_sa, dns, api):
    """Idle sleep lets the operator patch the owners' own Deployments, StatefulSets and CronJobs: only their replicas
    and suspend (and annotations) in namespaces devns manages; not what runs (image, command, schedule), not a
    delete, not anywhere else."""
    op, name = operator_sa, ready(dns, "ned@example.com")
    apps, batch = kubernetes.client.AppsV1Api(api), kubernetes.client.BatchV1Api(api)
    apps.create_namespaced_deployment(name, deployment("web", 2))
    batch.create_namespaced_cron_job(name, cron_job("nightly"))
    sleep = '{"spec": {"replicas": 0}, "metadata": {"annotations": {"devns.io/replicas-before-sleep": "2"}}}'
    op.allowed(op.run("patch", "deployment", "web", "-n", name, "--dry-run=server", "-p", sleep))
    op.refused(op.run("set", "image", "deployment/web", "web=evil:1", "-n", name, "--dry-run=server"),
               OPERATOR_LIMITS, f"Deployment {name}/web: the devns operator writes only objects labelled")
    op.refused(op.run("delete", "deployment", "web", "-n", name, "--dry-run=server"), OPERATOR_LIMITS,
               f"Deployment {name}/web: the devns operator writes only objects labelled")
    op.allowed(op.run("patch", "cronjob", "nightly", "-n", name, "--dry-run=server", "-p",
                      '{"spec": {"suspend": true}}'))
    op.refused(op.run("patch", "cronjob", "nightly", "-n", name, "--dry-run=server", "-p",
                      '{"spec": {"schedule": "* * * * *"}}'), OPERATOR_LIMITS,
               f"CronJob {name}/nightly: the devns operator only suspends and resumes CronJobs")
    payments = unique("payments-prod")
    dns.core.create_namespace({"metadata": {"name": payments}})
    apps.create_namespaced_deployment(payments, deployment("web", 2))
    op.refused(op.run("patch", "deployment", "web", "-n", payments, "--dry-run=server", "-p",
                      '{"spec": {"replicas": 0}}'), OPERATOR_LIMITS,
               f"Deployment web in namespace {payments}: the devns operator writes these only in namespaces it "
               "manages")
    dns.core.delete_namespace(payments)


def test_compromised_operator_cannot_mint_tokens(operator_sa, grant):
    """Even with RBAC widened by mistake to create ServiceAccount tokens, the operator mints none."""
    op = operator_sa
    can_mint = lambda: op.run("auth", "can-i", "create", "serviceaccounts", "--subresource=token",  # noqa: E731
                              "-n", "kube-system").stdout.strip() == "yes"
    assert not can_mint()
    grant(("devns-system", "devns-operator"), [{"apiGroups": [""], "resources": ["serviceaccounts/token"],
                                                "verbs": ["create"]}])
    wait_for(can_mint, what="the widened RBAC in effect")
    op.refused(op.run("create", "token", "default", "-n", "kube-system"), OPERATOR_LIMITS,
               "the devns operator never mints ServiceAccount tokens")


# -- self-service: what a developer may ask for herself -----------------------------------------------------------

@pytest.fixture(scope="module")
def alice(self_service, kubeconfig, created) -> As:
    return As(kubeconfig, created, user=ALICE)


def test_self_service_developer_gets_no_cluster_view_but_may_share_her_namespace(alice):
    """clusterView (read access to every namespace) is off in the shipped limits; a co-owner she adds gets the
    namespace role only, like her."""
    refused_by_self_service(lambda: alice.create(unique("alice-cv"), clusterView=True),
                            "clusterView is not allowed in self-service")
    shared = alice.create(unique("alice-shared"), dry_run=True, owners=[
        {"kind": "User", "name": ALICE}, {"kind": "User", "name": BOB}])
    assert shared["spec"]["clusterView"] is False


def test_self_service_developer_cannot_pick_a_class_the_platform_did_not_list(alice):
    """A class's defaults are the platform's (a role, a Pod Security level, a quota, none checked against the
    self-service limits): a developer may name only the classes in allowedClasses (none by default: the default
    class applies)."""
    refused_by_self_service(lambda: alice.create(unique("alice-cls"), dry_run=True, **{"class": "admin-tier"}),
                            "class admin-tier is not allowed in self-service (allowed: none; leave spec.class out "
                            "for the default class)")


@pytest.mark.parametrize("field, key", [
    ("annotations", "scheduler.alpha.kubernetes.io/node-selector"),
    ("annotations", "field.cattle.io/projectId"),
    ("labels", "field.cattle.io/projectId"),
    ("annotations", "iam.amazonaws.com/permitted"),
    ("annotations", "openshift.io/node-selector"),
    ("labels", "istio-injection"),
    ("labels", "istio.io/rev"),
    ("annotations", "sidecar.istio.io/inject"),
    ("labels", "app.kubernetes.io/instance"),
])
def test_self_service_namespace_labels_and_annotations_are_an_allow_list(alice, field, key):
    """Keys other controllers trust (a node selector for every pod, a Rancher project, cloud IAM roles, mesh
    injection, Argo CD's tracking label) are refused unless an admin lists their prefix; the shipped allow-list is
    the placeholder example.com/."""
    refused_by_self_service(lambda: alice.create(unique("alice-keys"), **{field: {key: "x"}}),
                            f"{field} {key}: not allowed in self-service (allowed key prefixes: example.com/)")
    assert alice.create(unique("alice-keys"), dry_run=True, **{field: {"example.com/cost-center": "42"}})


def test_self_service_names_start_with_the_requesters_name_or_team(alice, kubeconfig, created):  # noqa: F811
    """A developer cannot take a name another team will want (or squat one a platform component installs later):
    by default hers start with her user name (alice@example.com: alice-) or one of her groups."""
    for name, spec in ((unique("bob"), {}), ("monitoring", {}), (unique("x"), {"namespace": unique("payments")})):
        refused_by_self_service(lambda: alice.create(name, **spec),
                                "does not follow the self-service naming rule: for you it must match alice-*")
    assert alice.create(unique("x"), dry_run=True, namespace=unique("alice-sandbox"))
    team = As(kubeconfig, created, user=ALICE, groups=("Team_Payments",))
    assert team.create(unique("team-payments"), dry_run=True)
    refused_by_self_service(lambda: team.create(unique("payments")),
                            "for you it must match alice-*, team-payments-*")
