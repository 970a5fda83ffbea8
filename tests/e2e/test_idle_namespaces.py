"""Idle namespaces on the real control plane with second-scale settings: sleep after sleepAfter without activity
(replicas 0, CronJobs suspended, phase Sleeping, an Event), wake exactly as it was (kubectl devns wake, or the
owners' own use), activity postponing it (the owners' writes do, devns's and the controllers' do not), deletion
after deleteAfter with warnings (and activity cancelling it), dry-run, and a restart while asleep. No kubelet is
needed: replica counts are what sleep changes."""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes.client import AppsV1Api, BatchV1Api, CoreV1Api

from devns.contract import ANN_REPLICAS_BEFORE_SLEEP, ANN_SUSPENDED_FOR_SLEEP, ANN_WAKE, GROUP, PLURAL, VERSION
from devns.units import parse_time
from support import cron_job, deployment, devns_cli, events, gone, operator_with, stateful_set, unique
from testkit.clients import client
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")
OWNER = "ivy@example.com"


class Owner:
    """The namespace's owner (impersonated): the writes that are activity."""

    def __init__(self, kubeconfig: str):
        api = client(kubeconfig, user=OWNER)
        self.core, self.apps, self.batch = CoreV1Api(api), AppsV1Api(api), BatchV1Api(api)

    def workloads(self, ns: str, replicas: int = 3) -> None:
        self.apps.create_namespaced_deployment(ns, deployment("web", replicas))
        self.apps.create_namespaced_deployment(ns, deployment("off", 0))
        self.apps.create_namespaced_stateful_set(ns, stateful_set("db", 2))
        self.batch.create_namespaced_cron_job(ns, cron_job("nightly"))


def replicas(apps: AppsV1Api, ns: str) -> dict[str, int]:
    return {"web": apps.read_namespaced_deployment("web", ns).spec.replicas,
            "off": apps.read_namespaced_deployment("off", ns).spec.replicas,
            "db": apps.read_namespaced_stateful_set("db", ns).spec.replicas}


def suspended(batch: BatchV1Api, ns: str) -> bool:
    return bool(batch.read_namespaced_cron_job("nightly", ns).spec.suspend)


def phase(dns, name: str) -> str | None:
    return (dns.get(name).get("status") or {}).get("phase")


@pytest.fixture
def owner(kubeconfig) -> Owner:
    return Owner(kubeconfig)


@pytest.fixture
def apis(api):
    return AppsV1Api(api), BatchV1Api(api)


def idle_namespace(dns, owner: Owner, prefix: str, **idle) -> str:
    name = unique(prefix)
    dns.create(name, owners=[{"kind": "User", "name": OWNER}], idle=idle)
    dns.wait_phase(name, "Ready")
    owner.workloads(name)
    return name


def test_an_idle_namespace_sleeps_and_wakes_exactly_as_it_was(dns, owner, apis, binaries, kubeconfig):
    apps, batch = apis
    name = idle_namespace(dns, owner, "sleepy", sleepAfter="4s")
    dns.wait_phase(name, "Sleeping", timeout=30)
    assert replicas(apps, name) == {"web": 0, "off": 0, "db": 0}
    web = apps.read_namespaced_deployment("web", name).metadata.annotations
    assert web[ANN_REPLICAS_BEFORE_SLEEP] == "3"
    assert ANN_REPLICAS_BEFORE_SLEEP not in (apps.read_namespaced_deployment("off", name).metadata.annotations or {})
    assert suspended(batch, name)
    condition = dns.condition(name, "Sleeping")
    assert condition["status"] == "True" and f"kubectl devns wake {name}" in condition["message"]
    wait_for(lambda: events(dns, name, "Sleeping", namespace=name), what="the Sleeping Event in the namespace")

    woken = devns_cli(binaries, kubeconfig, "wake", name)
    assert woken.returncode == 0 and "woken" in woken.stdout, woken.stderr
    assert phase(dns, name) == "Ready"
    assert replicas(apps, name) == {"web": 3, "off": 0, "db": 2}
    assert not suspended(batch, name)
    assert ANN_REPLICAS_BEFORE_SLEEP not in (apps.read_namespaced_deployment("web", name).metadata.annotations or {})
    assert ANN_SUSPENDED_FOR_SLEEP not in (batch.read_namespaced_cron_job("nightly", name).metadata.annotations or {})
    assert dns.condition(name, "Sleeping")["reason"] == "Woken"
    dns.delete(name)


def test_owners_writes_postpone_sleep_and_the_controllers_writes_do_not(dns, owner, apis):
    apps, _ = apis
    name = idle_namespace(dns, owner, "busy", sleepAfter="6s")
    # the owner keeps using it for longer than sleepAfter (a write every 2 s for 10 s): it stays awake
    for i in range(5):
        owner.core.create_namespaced_config_map(name, {"metadata": {"name": f"work-{i}"}, "data": {"step": str(i)}})
        time.sleep(2)  # time passing while the owner works is the point, not a condition to wait for
        assert phase(dns, name) == "Ready"
    last = max(parse_time(e.time.isoformat()) for e in owner.core.read_namespaced_config_map(
        "work-4", name).metadata.managed_fields)
    dns.wait_phase(name, "Sleeping", timeout=30)
    status = dns.get(name)["status"]
    # the deployment and replicaset controllers wrote after the owner (a ReplicaSet, its scale); devns scaled
    # down: none of it is activity
    assert parse_time(status["lastActivity"]) == last.replace(microsecond=0)
    assert parse_time(status["sleepingSince"]) >= last
    dns.delete(name)


def test_the_owners_scaling_up_wakes_everything(dns, owner, apis):
    apps, batch = apis
    name = idle_namespace(dns, owner, "scaled", sleepAfter="4s")
    dns.wait_phase(name, "Sleeping", timeout=30)
    owner.apps.patch_namespaced_deployment_scale("off", name, {"spec": {"replicas": 1}})
    dns.wait_phase(name, "Ready", timeout=30)
    assert replicas(apps, name) == {"web": 3, "off": 1, "db": 2}
    assert not suspended(batch, name)
    dns.delete(name)


def test_delete_after_inactivity_warns_then_deletes_and_activity_cancels_it(dns, owner, binaries, kubeconfig):
    unused, used = unique("unused"), unique("used")
    for name in (unused, used):
        dns.create(name, owners=[{"kind": "User", "name": OWNER}], idle={"deleteAfter": "14s"})
    dns.wait_phase(unused, "Ready")
    assert dns.get(unused)["status"]["expiresBecause"] == "inactivity"
    done = threading.Event()

    def use() -> None:  # the owner of the other one keeps using it: `kubectl devns wake` every 2 s
        while not done.wait(2):
            assert devns_cli(binaries, kubeconfig, "wake", used).returncode == 0
    worker = threading.Thread(target=use, daemon=True)
    worker.start()
    try:
        warning = dns.wait_event(unused, "ExpiringSoon", "Warning")[0].message
        assert "no activity since" in warning and f"kubectl devns wake {unused}" in warning
        wait_for(lambda: dns.condition(unused)["reason"] == "Inactive", timeout=30, what="expired for inactivity")
        assert "expired for inactivity" in dns.condition(unused)["message"]
        wait_for(lambda: gone(lambda: dns.core.read_namespace(unused)), timeout=60, what="the unused one deleted")
        assert phase(dns, used) == "Ready" and not events(dns, used, "ExpiringSoon")
    finally:
        done.set()
        worker.join()
    assert dns.core.read_namespace(used).status.phase == "Active"
    dns.delete(used)


def test_dry_run_sleeps_nothing_deletes_nothing_and_says_what_it_would(dns, owner, apis, operator):
    apps, batch = apis
    with operator_with(operator, DEVNS_DRY_RUN="true"):
        name = idle_namespace(dns, owner, "dryidle", sleepAfter="3s", deleteAfter="8s")
        wait_for(lambda: dns.condition(name, "Sleeping").get("reason") == "DryRun", timeout=30,
                 what="the dry-run sleep")
        assert "would scale down or suspend: Deployment/web (3 replicas)" in dns.condition(name, "Sleeping")["message"]
        wait_for(lambda: dns.condition(name, "Expired").get("reason") == "DryRun", timeout=30,
                 what="the dry-run deletion")
        assert "expired for inactivity" in dns.condition(name, "Expired")["message"]
        assert "dry-run: would delete namespace" in dns.condition(name, "Expired")["message"]
        assert replicas(apps, name) == {"web": 3, "off": 0, "db": 2} and not suspended(batch, name)
        assert dns.core.read_namespace(name).status.phase == "Active"
        assert operator.metric("devns_sleeps_total", {"dry_run": "true"}) >= 1
        assert operator.metric("devns_inactivity_deletions_total", {"dry_run": "true"}) >= 1
    dns.delete(name)


def test_a_restart_while_asleep_keeps_the_replicas_and_wakes_correctly(dns, owner, apis, operator, binaries,
                                                                       kubeconfig):
    apps, _ = apis
    name = idle_namespace(dns, owner, "nap", sleepAfter="3s")
    dns.wait_phase(name, "Sleeping", timeout=30)
    operator.restart()
    assert phase(dns, name) == "Sleeping" and replicas(apps, name)["web"] == 0
    assert devns_cli(binaries, kubeconfig, "wake", name).returncode == 0
    assert replicas(apps, name) == {"web": 3, "off": 0, "db": 2}
    assert operator.metric("devns_wakes_total") >= 1
    dns.delete(name)


def test_a_wake_dated_in_the_future_keeps_nothing_awake(dns, owner):
    """The wake annotation's value is the writer's; devns counts only the time the API server stamped on the
    write. A DevNamespace 'woken' until 2099 still sleeps sleepAfter after that write."""
    name = idle_namespace(dns, owner, "forged", sleepAfter="4s")
    dns.custom.patch_cluster_custom_object(GROUP, VERSION, PLURAL, name, {
        "metadata": {"annotations": {ANN_WAKE: "2099-01-01T00:00:00Z"}}})
    dns.wait_phase(name, "Sleeping", timeout=30)
    assert parse_time(dns.get(name)["status"]["lastActivity"]).year < 2099
    dns.delete(name)
