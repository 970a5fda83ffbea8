"""The install a platform team gets: `kubectl apply -k manifests/base` on a real control plane, and the operator
running with exactly the RBAC it installs (a real ServiceAccount token, not an admin).

This module runs on its OWN control plane (started here, ~8 s): the session's admin operator may be running on the
shared one and would reconcile the same objects, hiding any missing permission.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import tempfile
import time
from pathlib import Path

import kubernetes
import pytest
import yaml

from localk8s.cluster import LocalCluster
from support import DevNamespaces, cron_job, deployment, gone, kubectl, token_kubeconfig, unique
from testkit.clients import client
from testkit.operator_process import OperatorProcess
from testkit.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
NS = "devns-system"
SA = "devns-operator"
RBAC = "rbac.authorization.k8s.io"


# -- fixtures -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def own_cluster(binaries):
    c = LocalCluster(state_dir=Path(tempfile.mkdtemp(prefix="devns-e2e-manifests-")), binaries=binaries)
    c.start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def admin(own_cluster) -> str:
    return str(own_cluster.kubeconfig)


@pytest.fixture(scope="module")
def k(binaries, admin):
    """kubectl as the cluster admin, on this module's control plane."""
    return lambda *args, check=True: kubectl(binaries, admin, *args, check=check)


@pytest.fixture(scope="module")
def installed(k):
    """`kubectl apply --server-side -k manifests/base`, exactly as documented, once for the module."""
    result = k("apply", "--server-side", "-k", str(ROOT / "manifests/base"), check=False)
    assert result.returncode == 0, result.stderr
    k("wait", "--for=condition=Established", "--timeout=30s", "crd/devnamespaces.devns.io",
      "crd/clusterkopfpeerings.kopf.dev")
    return result


@pytest.fixture(scope="module")
def dns(admin, installed):
    return DevNamespaces(client(admin))


@pytest.fixture(scope="module")
def settings_env(binaries) -> dict[str, str]:
    """The settings as installed (the devns-settings ConfigMap), minus the metrics port (each test process gets a
    free one) and with the operator namespace the Deployment gets from the downward API."""
    rendered = render(binaries, "manifests/base")
    (cm,) = [o for o in rendered if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "devns-settings"]
    env = {k: v for k, v in cm["data"].items() if k != "DEVNS_METRICS_PORT"}
    return {**env, "DEVNS_OPERATOR_NAMESPACE": NS}


def render(binaries, path: str) -> list[dict]:
    """`kubectl kustomize <path>` with the pinned kubectl (its built-in kustomize), as objects."""
    proc = subprocess.run([str(binaries.kubectl), "kustomize", str(ROOT / path)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, f"kubectl kustomize {path}:\n{proc.stderr}"
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


@pytest.fixture(scope="module")
def operator_kubeconfig(own_cluster, k, installed) -> str:
    return token_kubeconfig(own_cluster, k, SA)


@contextlib.contextmanager
def running(kubeconfig: str, log_path: Path, env: dict[str, str], *args: str):
    """An operator process for the duration of a block; on a failure inside it, its log tail is printed."""
    proc = OperatorProcess(kubeconfig, log_path, env=env, args=args)
    try:
        proc.start()
        yield proc
    except BaseException:
        print(f"--- operator log tail ({log_path}) ---\n{proc.log_tail(80) if log_path.exists() else ''}")
        raise
    finally:
        proc.stop()


def assert_no_rbac_errors(proc: OperatorProcess) -> None:
    log = proc.log_path.read_text(errors="replace")
    for needle in ("forbidden", "Forbidden", " 403 "):
        assert needle not in log, f"the operator hit an RBAC error:\n{proc.log_tail(80)}"


# -- (a) the install itself ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["manifests", "manifests/base", "manifests/overlays/ha",
                                  "manifests/overlays/dry-run"])
def test_every_kustomization_renders(binaries, path):
    objs = render(binaries, path)
    assert any(o["kind"] == "Deployment" for o in objs)
    assert any(o["kind"] == "CustomResourceDefinition" and o["metadata"]["name"] == "devnamespaces.devns.io"
               for o in objs)


def test_overlays_change_only_what_they_say(binaries):
    base = render(binaries, "manifests/base")
    dry = render(binaries, "manifests/overlays/dry-run")
    cm = lambda objs: next(o for o in objs if o["kind"] == "ConfigMap"  # noqa: E731
                           and o["metadata"]["name"] == "devns-settings")["data"]
    assert cm(base)["DEVNS_DRY_RUN"] == "false" and cm(dry) == {**cm(base), "DEVNS_DRY_RUN": "true"}

    ha = render(binaries, "manifests/overlays/ha")
    deployments = {o["metadata"]["name"]: o for o in ha if o["kind"] == "Deployment"}
    assert set(deployments) == {"devns-operator", "devns-operator-standby"}
    args = {n: d["spec"]["template"]["spec"]["containers"][0]["args"] for n, d in deployments.items()}
    assert "--peering=default" in args["devns-operator"] and "--priority=100" in args["devns-operator"]
    assert "--peering=default" in args["devns-operator-standby"] and "--priority=50" in args["devns-operator-standby"]
    selectors = [d["spec"]["selector"]["matchLabels"] for d in deployments.values()]
    for d, other in ((deployments["devns-operator"], selectors[1]), (deployments["devns-operator-standby"],
                                                                     selectors[0])):
        assert not other.items() <= d["spec"]["template"]["metadata"]["labels"].items(), "overlapping selectors"
    assert any(o["kind"] == "ClusterKopfPeering" and o["metadata"]["name"] == "default"
               and "namespace" not in o["metadata"] for o in ha)


def test_base_applies_and_installs_everything(k, installed):
    for kind, name, namespace in [
        ("customresourcedefinition", "devnamespaces.devns.io", None),
        ("customresourcedefinition", "clusterkopfpeerings.kopf.dev", None),
        ("namespace", NS, None),
        ("serviceaccount", SA, NS),
        ("clusterrole", "devns-operator", None),
        ("clusterrolebinding", "devns-operator", None),
        ("clusterrole", "devns-cluster-view", None),
        ("validatingadmissionpolicy", "devns-guardrails", None),
        ("validatingadmissionpolicy", "devns-namespace-guardrails", None),
        ("validatingadmissionpolicy", "devns-services", None),
        ("configmap", "devns-service-policy", NS),
        ("validatingadmissionpolicy", "devns-operator-limits", None),
        ("validatingadmissionpolicy", "devns-operator-bindings", None),
        ("role", "devns-operator", NS),
        ("rolebinding", "devns-operator", NS),
        ("configmap", "devns-settings", NS),
        ("service", "devns-operator-metrics", NS),
        ("deployment", "devns-operator", NS),
    ]:
        args = ["get", kind, name, "-o", "name"] + (["-n", namespace] if namespace else [])
        assert k(*args).stdout.strip(), f"{kind}/{name} missing"
    # Applying again is a no-op, not a field-manager conflict.
    again = k("apply", "--server-side", "-k", str(ROOT / "manifests/base"), check=False)
    assert again.returncode == 0, again.stderr


def test_operator_pod_passes_pod_security_restricted(k, installed):
    """devns-system enforces Pod Security "restricted"; the ReplicaSet's pod is admitted (and stays Pending: this
    control plane has no scheduler and no nodes)."""
    labels = json.loads(k("get", "namespace", NS, "-o", "json").stdout)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"

    def pod():
        pods = json.loads(k("get", "pods", "-n", NS, "-l", "app.kubernetes.io/instance=devns-operator",
                            "-o", "json").stdout)["items"]
        return pods[0] if pods else None

    def replica_failure():
        rs = json.loads(k("get", "replicasets", "-n", NS, "-o", "json").stdout)["items"]
        return [c["message"] for r in rs for c in (r.get("status") or {}).get("conditions") or []
                if c["type"] == "ReplicaFailure"]

    wait_for(lambda: pod() or replica_failure(), timeout=30, what="the operator's pod (or a rejection)")
    assert not replica_failure(), f"the pod was rejected: {replica_failure()}"
    found = pod()
    assert found["status"]["phase"] == "Pending"
    assert found["spec"]["serviceAccountName"] == SA


def test_overlays_are_accepted_by_the_api_server(k, installed):
    for overlay in ("manifests/overlays/ha", "manifests/overlays/dry-run"):
        result = k("apply", "--server-side", "--dry-run=server", "-k", str(ROOT / overlay), check=False)
        assert result.returncode == 0, f"{overlay}: {result.stderr}"


# -- (b) the operator with exactly the installed RBAC -------------------------------------------------------------

def test_the_operator_identity_is_the_serviceaccount_and_cannot_read_secrets(binaries, operator_kubeconfig):
    sa = lambda *args: kubectl(binaries, operator_kubeconfig, *args, check=False)  # noqa: E731
    who = json.loads(sa("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert who["username"] == f"system:serviceaccount:{NS}:{SA}"
    assert {"system:serviceaccounts", f"system:serviceaccounts:{NS}", "system:authenticated"} <= set(who["groups"])
    assert sa("auth", "can-i", "list", "secrets", "--all-namespaces").stdout.strip() == "no"
    assert sa("auth", "can-i", "get", "secrets", "-n", "kube-system").stdout.strip() == "no"
    assert sa("auth", "can-i", "get", "secrets/other", "-n", NS).stdout.strip() == "no"
    assert sa("auth", "can-i", "get", "secrets/devns-gc-key", "-n", NS).stdout.strip() == "yes"
    assert sa("auth", "can-i", "create", "clusterroles").stdout.strip() == "no"
    assert sa("auth", "can-i", "bind", "clusterroles/cluster-admin").stdout.strip() == "no"
    assert sa("auth", "can-i", "bind", "clusterroles/edit").stdout.strip() == "yes"


def test_create_update_delete_with_the_installed_rbac(own_cluster, operator_kubeconfig, settings_env, dns, admin):
    core = kubernetes.client.CoreV1Api(client(admin))
    net = kubernetes.client.NetworkingV1Api(client(admin))
    rbac = kubernetes.client.RbacAuthorizationV1Api(client(admin))
    name = unique("pkg")
    log = own_cluster.state_dir / "logs" / "operator-sa.log"
    with running(operator_kubeconfig, log, settings_env) as proc:
        # the operator created its key Secret with its own identity
        secret = core.read_namespaced_secret("devns-gc-key", NS)
        assert secret.data["key"]

        # create
        dns.create(name, owners=[{"kind": "User", "name": "x@example.com"}], clusterView=True)
        obj = dns.wait_phase(name, "Ready", timeout=30)
        assert obj["status"]["namespace"] == name
        namespace = core.read_namespace(name)
        assert namespace.metadata.labels["app.kubernetes.io/managed-by"] == "devns"
        assert core.read_namespaced_resource_quota("devns-quota", name).spec.hard["pods"] == "50"
        assert core.read_namespaced_limit_range("devns-limits", name)
        assert net.read_namespaced_network_policy("devns-default-deny", name)
        owners = rbac.read_namespaced_role_binding("devns-owners-edit", name)
        assert owners.role_ref.name == "edit" and owners.subjects[0].name == "x@example.com"
        assert rbac.read_cluster_role_binding(f"devns-view-{name}").role_ref.name == "devns-cluster-view"
        # Kopf's Events on the DevNamespace were posted (a failure to post would only be logged)
        wait_for(lambda: [e for e in dns.events(name) if e.reason == "Provisioned"], what="Provisioned event")

        # update
        dns.patch(name, {"quota": {"pods": "7"}})
        dns.wait_phase(name, "Ready", timeout=30)
        wait_for(lambda: core.read_namespaced_resource_quota("devns-quota", name).spec.hard["pods"] == "7",
                 what="ResourceQuota updated")

        # delete
        dns.delete(name)
        wait_for(lambda: gone(lambda: dns.get(name)), timeout=60, what="DevNamespace gone")
        wait_for(lambda: gone(lambda: core.read_namespace(name)), timeout=60, what="namespace gone")
        assert gone(lambda: rbac.read_cluster_role_binding(f"devns-view-{name}"))
        assert_no_rbac_errors(proc)


def test_expiry_warning_and_retention_with_the_installed_rbac(own_cluster, operator_kubeconfig, settings_env, dns,
                                                              admin):
    """The expiry path uses more verbs: an Event inside the developer's namespace, deleting the namespace, and
    deleting the expired DevNamespace itself once its retention is over (`delete` on devnamespaces)."""
    core = kubernetes.client.CoreV1Api(client(admin))
    env = {**settings_env, "DEVNS_WARN_BEFORE": '["3s"]', "DEVNS_EXPIRED_RETENTION": "1s"}
    name = unique("pkg-ttl")
    log = own_cluster.state_dir / "logs" / "operator-sa-expiry.log"
    with running(operator_kubeconfig, log, env) as proc:
        dns.create(name, ttl="6s")
        dns.wait_phase(name, "Ready", timeout=30)
        wait_for(lambda: [e for e in core.list_namespaced_event(name).items if e.reason == "ExpiringSoon"],
                 timeout=30, what="expiry warning Event in the namespace")
        wait_for(lambda: gone(lambda: dns.get(name)), timeout=60, what="expired DevNamespace removed")
        wait_for(lambda: gone(lambda: core.read_namespace(name)), timeout=60, what="expired namespace gone")
        assert_no_rbac_errors(proc)


def test_class_seeds_with_the_installed_rbac_and_operator_policy(own_cluster, operator_kubeconfig, settings_env,
                                                                  dns, admin):
    """Seeds use rbac-seeds.yaml and pass operator-policy.yaml: reading the seed source namespace (and no other
    Secrets), creating copies and a workload, patching the default ServiceAccount, a Secret copy following its
    source without being read, and a dropped Secret seed deleted by its uid."""
    api = client(admin)
    core, apps = kubernetes.client.CoreV1Api(api), kubernetes.client.AppsV1Api(api)
    custom = kubernetes.client.CustomObjectsApi(api)
    name, cls, source = unique("pkg-seeds"), unique("seeded"), unique("registry")
    b64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    core.create_namespaced_secret("devns-seeds", {"metadata": {"name": source}, "data": {"t": b64("one")}})
    seeds = [{"copyFrom": {"kind": "Secret", "name": source}}, {"imagePullSecrets": [source]},
             {"manifest": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "db"}, "spec": {
                 "replicas": 0, "selector": {"matchLabels": {"app": "db"}}, "template": {
                     "metadata": {"labels": {"app": "db"}},
                     "spec": {"containers": [{"name": "db", "image": "db:1"}]}}}}}]
    custom.create_cluster_custom_object("devns.io", "v1alpha1", "devnamespaceclasses", {
        "apiVersion": "devns.io/v1alpha1", "kind": "DevNamespaceClass", "metadata": {"name": cls},
        "spec": {"seed": seeds}})
    log = own_cluster.state_dir / "logs" / "operator-sa-seeds.log"
    with running(operator_kubeconfig, log, settings_env) as proc:
        dns.create(name, **{"class": cls})
        dns.wait_phase(name, "Ready", timeout=30)
        assert core.read_namespaced_secret(source, name).data == {"t": b64("one")}
        assert apps.read_namespaced_deployment("db", name).metadata.labels["app.kubernetes.io/managed-by"] == "devns"
        wait_for(lambda: [s.name for s in core.read_namespaced_service_account("default", name).image_pull_secrets
                          or []] == [source], what="the default ServiceAccount's imagePullSecrets")

        core.patch_namespaced_secret(source, "devns-seeds", {"data": {"t": b64("two")}})
        wait_for(lambda: core.read_namespaced_secret(source, name).data == {"t": b64("two")}, timeout=15,
                 what="the Secret copy rotated")
        custom.patch_cluster_custom_object("devns.io", "v1alpha1", "devnamespaceclasses", cls,
                                           {"spec": {"seed": seeds[2:]}})
        wait_for(lambda: gone(lambda: core.read_namespaced_secret(source, name)), timeout=15,
                 what="the dropped Secret seed deleted")
        assert dns.get(name)["status"]["phase"] == "Ready"
        assert_no_rbac_errors(proc)
        dns.delete(name)
        wait_for(lambda: gone(lambda: dns.get(name)), timeout=60, what="DevNamespace gone")
        custom.delete_cluster_custom_object("devns.io", "v1alpha1", "devnamespaceclasses", cls)


def test_idle_sleep_and_wake_with_the_installed_rbac_and_operator_policy(own_cluster, operator_kubeconfig,
                                                                         settings_env, dns, admin):
    """Idle reclamation lists the namespace's objects and scales and suspends the owners' own workloads: with the
    installed RBAC, and within operator-policy.yaml (replicas and suspend only)."""
    api = client(admin)
    apps, batch = kubernetes.client.AppsV1Api(api), kubernetes.client.BatchV1Api(api)
    name = unique("pkg-idle")
    log = own_cluster.state_dir / "logs" / "operator-sa-idle.log"
    with running(operator_kubeconfig, log, settings_env) as proc:
        dns.create(name, idle={"sleepAfter": "3s"})
        dns.wait_phase(name, "Ready", timeout=30)
        apps.create_namespaced_deployment(name, deployment("web", 2))
        batch.create_namespaced_cron_job(name, cron_job("nightly"))
        dns.wait_phase(name, "Sleeping", timeout=30)
        assert apps.read_namespaced_deployment("web", name).spec.replicas == 0
        assert batch.read_namespaced_cron_job("nightly", name).spec.suspend is True
        dns.custom.patch_cluster_custom_object("devns.io", "v1alpha1", "devnamespaces", name, {
            "metadata": {"annotations": {"devns.io/wake": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}})
        dns.wait_phase(name, "Ready", timeout=30)
        assert apps.read_namespaced_deployment("web", name).spec.replicas == 2
        assert not batch.read_namespaced_cron_job("nightly", name).spec.suspend
        assert_no_rbac_errors(proc)
        dns.delete(name)
        wait_for(lambda: gone(lambda: dns.get(name)), timeout=60, what="DevNamespace gone")


# -- (c) a missing permission is reported, not a hang -------------------------------------------------------------

def can_i(binaries, kubeconfig: str, *args: str) -> bool:
    return kubectl(binaries, kubeconfig, "auth", "can-i", *args, check=False).stdout.strip() == "yes"


@pytest.fixture
def without_networkpolicy_create(binaries, k, installed, operator_kubeconfig, own_cluster):
    """The installed ClusterRole with `create` on networkpolicies removed (a plausible mistake in a hand-edited
    role), applied like the install itself; the install is re-applied afterwards."""
    role = json.loads(k("get", "clusterrole", "devns-operator", "-o", "json").stdout)
    for rule in role["rules"]:
        if "networkpolicies" in rule["resources"]:
            rule["verbs"] = [v for v in rule["verbs"] if v != "create"]
    broken = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
              "metadata": {"name": "devns-operator", "labels": role["metadata"]["labels"]}, "rules": role["rules"]}
    manifest = own_cluster.state_dir / "clusterrole-without-netpol-create.json"
    manifest.write_text(json.dumps(broken))
    k("apply", "--server-side", "-f", str(manifest))
    wait_for(lambda: not can_i(binaries, operator_kubeconfig, "create", "networkpolicies", "-n", "x"),
             what="the narrowed ClusterRole to take effect")
    try:
        yield
    finally:
        k("apply", "--server-side", "-k", str(ROOT / "manifests/base"))
        wait_for(lambda: can_i(binaries, operator_kubeconfig, "create", "networkpolicies", "-n", "x"),
                 what="the installed ClusterRole to be restored")


def test_a_missing_permission_is_reported_as_forbidden(own_cluster, without_networkpolicy_create,
                                                       operator_kubeconfig, settings_env, dns, admin):
    core = kubernetes.client.CoreV1Api(client(admin))
    rbac = kubernetes.client.RbacAuthorizationV1Api(client(admin))
    name = unique("pkg-denied")
    log = own_cluster.state_dir / "logs" / "operator-denied.log"
    with running(operator_kubeconfig, log, settings_env):
        dns.create(name, owners=[{"kind": "User", "name": "x@example.com"}])

        def not_ready_forbidden():
            cond = dns.condition(name)
            return cond if cond.get("status") == "False" and "forbidden" in cond.get("message", "") else None

        cond = wait_for(not_ready_forbidden, timeout=30, what="Ready=False with a 'forbidden' message")
        assert "networkpolicies" in cond["message"] and "create" in cond["message"], cond
        assert dns.get(name)["status"]["phase"] != "Ready"
        # guardrails come first: owners got no access to a namespace without its NetworkPolicy
        assert gone(lambda: rbac.read_namespaced_role_binding("devns-owners-edit", name))
        wait_for(lambda: [e for e in dns.events(name) if e.type == "Warning" and "forbidden" in e.message],
                 what="a Warning event saying forbidden")

        # deleting still works with what the role does grant
        dns.delete(name)
        wait_for(lambda: gone(lambda: dns.get(name)), timeout=60, what="DevNamespace gone")
        wait_for(lambda: gone(lambda: core.read_namespace(name)), timeout=60, what="namespace gone")


# -- overlays/ha: peering with the installed RBAC -----------------------------------------------------------------

def test_ha_standby_pauses_while_the_primary_runs_and_takes_over(own_cluster, k, operator_kubeconfig, settings_env,
                                                                 dns, admin):
    result = k("apply", "--server-side", "-k", str(ROOT / "manifests/overlays/ha"), check=False)
    assert result.returncode == 0, result.stderr
    custom = kubernetes.client.CustomObjectsApi(client(admin))
    peers = lambda: custom.get_cluster_custom_object("kopf.dev", "v1", "clusterkopfpeerings",  # noqa: E731
                                                     "default").get("status") or {}
    logs = own_cluster.state_dir / "logs"
    env = {**settings_env, "DEVNS_PEERING_LIFETIME": "5"}
    with running(operator_kubeconfig, logs / "operator-primary.log", env,
                 "--peering=default", "--priority=100") as primary, \
            running(operator_kubeconfig, logs / "operator-standby.log", env,
                    "--peering=default", "--priority=50") as standby:
        wait_for(lambda: sorted(p["priority"] for p in peers().values()) == [50, 100], timeout=30,
                 what="both operators in the peering")
        # Kopf starts a peering member paused; only the highest priority resumes.
        wait_for(lambda: "Resuming operations" in primary.log_path.read_text(), timeout=30,
                 what="the primary to act")
        first, expiring = unique("pkg-ha"), unique("pkg-ha-expiring")
        dns.create(first, owners=[{"kind": "User", "name": "x@example.com"}])
        dns.wait_phase(first, "Ready", timeout=30)
        # the lifecycle's scheduler runs only where Kopf lets handlers run: the primary expires it, not the standby
        dns.create(expiring, owners=[{"kind": "User", "name": "x@example.com"}], ttl="5s")
        dns.wait_phase(expiring, "Expired", timeout=30)
        assert f"expiry devnamespace/{expiring}: expired" in primary.log_path.read_text()
        for name in (first, expiring):
            assert name not in standby.log_path.read_text()
        assert "Resuming operations" not in standby.log_path.read_text()
        assert "lifecycle scheduler: acting" not in standby.log_path.read_text()

        primary.kill()  # a crash: no goodbye in the peering, the standby waits for the keep-alive to expire
        killed = time.monotonic()
        wait_for(lambda: "Resuming operations" in standby.log_path.read_text(), timeout=30,
                 what="the standby to take over")
        takeover = time.monotonic() - killed
        print(f"HA takeover after kill -9 of the active replica: {takeover:.1f} s (peering lifetime 5 s)")
        assert takeover <= 5 + 10
        second, later = unique("pkg-ha"), unique("pkg-ha-expiring")
        dns.create(second, owners=[{"kind": "User", "name": "x@example.com"}])
        dns.wait_phase(second, "Ready", timeout=30)
        dns.create(later, owners=[{"kind": "User", "name": "x@example.com"}], ttl="5s")
        dns.wait_phase(later, "Expired", timeout=30)  # the new active replica's scheduler acts
        assert f"expiry devnamespace/{later}: expired" in standby.log_path.read_text()
        assert_no_rbac_errors(primary)
        assert_no_rbac_errors(standby)
