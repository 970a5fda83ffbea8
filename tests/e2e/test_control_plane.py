"""The local control plane is a real one: RBAC, admission (LimitRanger, PodSecurity, ResourceQuota) and the
controller manager (quota usage, namespace deletion) all behave as on any conformant cluster."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import kubernetes
import pytest
from kubernetes.client import V1Namespace, V1ObjectMeta

from localk8s.binaries import Binaries
from localk8s.cluster import ClusterError, LocalCluster, pid_alive
from support import error_of, gone
from testkit.clients import client
from testkit.waiting import wait_for


def make_namespace(core, labels: dict[str, str] | None = None) -> str:
    name = f"cp-{uuid.uuid4().hex[:8]}"
    core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=name, labels=labels)))
    # Pods are admitted only once the serviceaccount controller made the namespace's `default` ServiceAccount.
    wait_for(lambda: core.read_namespaced_service_account("default", name), what=f"{name}/default ServiceAccount")
    return name


def pod(name: str, **container) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "registry.example/app:1", **container}]}}


def test_rbac_is_enforced_for_a_user_without_bindings(kubeconfig):
    nobody = kubernetes.client.CoreV1Api(client(kubeconfig, user="nobody@example.com"))
    exc = error_of(lambda: nobody.list_namespace())
    assert exc.status == 403
    assert 'User "nobody@example.com" cannot list resource "namespaces"' in exc.message


def test_limitrange_admission_applies_container_defaults(core):
    ns = make_namespace(core)
    core.create_namespaced_limit_range(ns, {"metadata": {"name": "defaults"}, "spec": {"limits": [{
        "type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
        "defaultRequest": {"cpu": "100m", "memory": "64Mi"}}]}})
    created = core.create_namespaced_pod(ns, pod("no-resources"))
    resources = created.spec.containers[0].resources
    assert resources.requests == {"cpu": "100m", "memory": "64Mi"}
    assert resources.limits == {"cpu": "500m", "memory": "256Mi"}


def test_podsecurity_restricted_rejects_a_privileged_pod(core):
    ns = make_namespace(core, {"pod-security.kubernetes.io/enforce": "restricted"})
    exc = error_of(lambda: core.create_namespaced_pod(ns, pod("root", securityContext={"privileged": True})))
    assert exc.status == 403
    assert 'violates PodSecurity "restricted:latest"' in exc.message
    assert "privileged" in exc.message


def test_resourcequota_rejects_over_quota_and_controller_fills_usage(core):
    ns = make_namespace(core)
    core.create_namespaced_resource_quota(ns, {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "1"}}})
    # Admission refuses quota-tracked creates until the controller has computed the first usage.
    wait_for(lambda: (core.read_namespaced_resource_quota("q", ns).status.used or {}).get("pods") == "0",
             what="initial quota usage")
    core.create_namespaced_pod(ns, pod("first"))
    exc = error_of(lambda: core.create_namespaced_pod(ns, pod("second")))
    assert exc.status == 403
    assert "exceeded quota: q" in exc.message
    wait_for(lambda: core.read_namespaced_resource_quota("q", ns).status.used.get("pods") == "1",
             what="quota usage pods=1")


def test_deleting_a_namespace_with_contents_finishes(core):
    ns = make_namespace(core)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "cm"}, "data": {"k": "v"}})
    core.create_namespaced_pod(ns, pod("pending"))
    core.delete_namespace(ns)
    wait_for(lambda: gone(lambda: core.read_namespace(ns)), timeout=60, what=f"namespace {ns} to be gone")


def test_start_stop_leaves_no_processes_or_state(binaries):
    c = LocalCluster(state_dir=Path(tempfile.mkdtemp(prefix="devns-cp-test-")), binaries=binaries)
    c.start()
    pids = dict(c.pids)
    assert set(pids) == {"etcd", "kube-apiserver", "kube-controller-manager"}
    assert c.healthy()
    c.stop()
    assert not any(pid_alive(p) for p in pids.values())
    assert not c.state_dir.exists()


def test_a_dying_component_fails_fast_with_its_log(binaries, tmp_path):
    fake = tmp_path / "etcd"
    fake.write_text("#!/bin/sh\necho 'etcd: simulated crash' >&2\nexit 3\n")
    fake.chmod(0o755)
    broken = Binaries(binaries.kube_apiserver, binaries.kube_controller_manager, binaries.kubectl, fake, "test")
    c = LocalCluster(state_dir=tmp_path / "state", binaries=broken)
    with pytest.raises(ClusterError, match=r"(?s)etcd exited with code 3.*simulated crash"):
        c.start(timeout=20)


def test_a_taken_port_is_reported(binaries, cluster, tmp_path):
    c = LocalCluster(state_dir=tmp_path / "state", binaries=binaries, apiserver_port=cluster.ports["apiserver"])
    with pytest.raises(ClusterError, match=f"port {cluster.ports['apiserver']} on 127.0.0.1 is in use"):
        c.start()
