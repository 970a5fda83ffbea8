"""Class seeds on the real control plane with the operator running: copies of the seed source namespace's
ConfigMaps and Secrets that follow their source, manifests, the default ServiceAccount's imagePullSecrets;
tenants kept off them; a missing source, a refused seed and a tenant's object of the seed's name each reported by
name, nothing taken over."""

from __future__ import annotations

import base64

import pytest
from kubernetes.client import AppsV1Api, CoreV1Api

from class_support import create
from support import error_of, status_of, unique
from testkit.clients import client
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")
SOURCES = "devns-seeds"


@pytest.fixture(scope="module")
def sources(core):
    """The seed source namespace (manifests/base/rbac-seeds.yaml makes it; the e2e install does not)."""
    if status_of(lambda: core.read_namespace(SOURCES)) == 404:
        core.create_namespace({"metadata": {"name": SOURCES}})
    wait_for(lambda: not core.read_namespace(SOURCES).metadata.deletion_timestamp, timeout=60,
             what="the seed source namespace usable")
    return core


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def data_of(core: CoreV1Api, kind: str, name: str, ns: str) -> dict | None:
    read = core.read_namespaced_secret if kind == "Secret" else core.read_namespaced_config_map
    return read(name, ns).data if status_of(lambda: read(name, ns)) == 200 else None


def test_a_class_seeds_copies_that_follow_their_source_manifests_and_pull_secrets(dns, classes, sources, kubeconfig):
    core, apps = sources, AppsV1Api(client(kubeconfig))
    secret, config, cls = unique("registry"), unique("endpoints"), unique("seeded")
    core.create_namespaced_secret(SOURCES, {"metadata": {"name": secret}, "data": {"token": b64("one")}})
    core.create_namespaced_config_map(SOURCES, {"metadata": {"name": config}, "data": {"API": "http://one"}})
    classes.create(cls, {"seed": [
        {"copyFrom": {"kind": "Secret", "name": secret}},
        {"copyFrom": {"kind": "ConfigMap", "name": config, "namespace": SOURCES}},
        {"imagePullSecrets": [secret]},
        {"manifest": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dev-settings"},
                      "data": {"LOG_LEVEL": "debug"}}},
        {"manifest": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "db"}, "spec": {
            "replicas": 0, "selector": {"matchLabels": {"app": "db"}}, "template": {
                "metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "db:1"}]}}}}},
    ]})
    ns = create(dns, classes, "seeds", **{"class": cls})
    status = dns.wait_phase(ns, "Ready")["status"]
    assert {(s["kind"], s["name"]) for s in status["seeds"]} == {
        ("Secret", secret), ("ConfigMap", config), ("ConfigMap", "dev-settings"), ("Deployment", "db")}
    assert data_of(core, "Secret", secret, ns) == {"token": b64("one")}
    assert data_of(core, "ConfigMap", config, ns) == {"API": "http://one"}
    assert data_of(core, "ConfigMap", "dev-settings", ns) == {"LOG_LEVEL": "debug"}
    deployment = apps.read_namespaced_deployment("db", ns)
    assert deployment.metadata.labels["app.kubernetes.io/managed-by"] == "devns"
    assert deployment.metadata.owner_references[0].name == ns
    wait_for(lambda: [s.name for s in core.read_namespaced_service_account("default", ns).image_pull_secrets or []]
             == [secret], timeout=10, what="the default ServiceAccount's imagePullSecrets")

    # rotated at the source: the copies follow
    core.patch_namespaced_secret(secret, SOURCES, {"data": {"token": b64("two")}})
    core.patch_namespaced_config_map(config, SOURCES, {"data": {"API": "http://two"}})
    wait_for(lambda: data_of(core, "Secret", secret, ns) == {"token": b64("two")}, timeout=10,
             what="the Secret copy rotated")
    wait_for(lambda: data_of(core, "ConfigMap", config, ns) == {"API": "http://two"}, timeout=10,
             what="the ConfigMap copy updated")

    # drift: an admin (exempt from the guardrails) deletes a copy, devns puts it back
    core.delete_namespaced_config_map(config, ns)
    wait_for(lambda: data_of(core, "ConfigMap", config, ns) == {"API": "http://two"}, timeout=10,
             what="the deleted copy re-created")

    # a seed dropped from the class goes from the namespace, the Secret too (by the uid devns recorded)
    classes.patch(cls, {"spec": {"seed": [{"manifest": {"apiVersion": "v1", "kind": "ConfigMap",
                                                        "metadata": {"name": "dev-settings"},
                                                        "data": {"LOG_LEVEL": "info"}}}]}})
    wait_for(lambda: data_of(core, "Secret", secret, ns) is None and data_of(core, "ConfigMap", config, ns) is None
             and status_of(lambda: apps.read_namespaced_deployment("db", ns)) == 404, timeout=15,
             what="the dropped seeds deleted")
    assert data_of(core, "ConfigMap", "dev-settings", ns) == {"LOG_LEVEL": "info"}
    core.delete_namespaced_secret(secret, SOURCES)
    core.delete_namespaced_config_map(config, SOURCES)


def test_tenants_cannot_change_or_delete_seeds_but_keep_their_own_objects(dns, classes, sources, kubeconfig):
    cls, owner = unique("guarded"), "tess@example.com"
    classes.create(cls, {"seed": [{"manifest": {"apiVersion": "v1", "kind": "ConfigMap",
                                                "metadata": {"name": "dev-settings"}, "data": {"A": "1"}}}]})
    ns = create(dns, classes, "guard", owners=[{"kind": "User", "name": owner}], **{"class": cls})
    dns.wait_phase(ns, "Ready")
    tenant = CoreV1Api(client(kubeconfig, user=owner))
    # the session installed the guardrails policy moments ago when this module runs first: wait until it is in
    # effect (a server-side dry run, nothing changes)
    wait_for(lambda: status_of(lambda: tenant.patch_namespaced_config_map(
        "dev-settings", ns, {"data": {"A": "probe"}}, dry_run="All")) == 403, timeout=30,
        what="the guardrails policy covering ConfigMaps")
    for attack in (lambda: tenant.patch_namespaced_config_map("dev-settings", ns, {"data": {"A": "evil"}}),
                   lambda: tenant.delete_namespaced_config_map("dev-settings", ns),
                   lambda: tenant.patch_namespaced_config_map("dev-settings", ns, {"metadata": {"labels": {
                       "app.kubernetes.io/managed-by": None}}})):
        err = error_of(attack)
        assert err.status == 403 and "devns guardrail" in err.body, err.body
    tenant.create_namespaced_config_map(ns, {"metadata": {"name": "mine"}, "data": {"B": "2"}})
    tenant.patch_namespaced_config_map("mine", ns, {"data": {"B": "3"}})
    assert data_of(sources, "ConfigMap", "dev-settings", ns) == {"A": "1"}


def test_a_missing_source_is_a_condition_and_its_creation_provisions(dns, classes, sources):
    core, name, cls = sources, unique("later"), unique("waits")
    classes.create(cls, {"seed": [{"copyFrom": {"kind": "ConfigMap", "name": name}}]})
    ns = create(dns, classes, "missing", **{"class": cls})
    obj = dns.wait_phase(ns, "Failed")
    condition = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert condition["reason"] == "SeedSourceMissing"
    assert f"ConfigMap {SOURCES}/{name} does not exist" in condition["message"]
    assert status_of(lambda: core.read_namespace(ns)) == 404  # nothing half-built
    core.create_namespaced_config_map(SOURCES, {"metadata": {"name": name}, "data": {"X": "1"}})
    dns.wait_phase(ns, "Ready", timeout=20)
    assert data_of(core, "ConfigMap", name, ns) == {"X": "1"}
    core.delete_namespaced_config_map(name, SOURCES)


def test_a_refused_seed_and_a_tenant_object_of_its_name_are_named_and_left_alone(dns, classes, sources, kubeconfig):
    core, cls, owner = sources, unique("strict"), "tom@example.com"
    classes.create(cls, {"seed": []})
    ns = create(dns, classes, "refused", owners=[{"kind": "User", "name": owner}], **{"class": cls})
    dns.wait_phase(ns, "Ready")
    CoreV1Api(client(kubeconfig, user=owner)).create_namespaced_config_map(
        ns, {"metadata": {"name": "app-config"}, "data": {"mine": "yes"}})

    classes.patch(cls, {"spec": {"seed": [{"manifest": {"apiVersion": "v1", "kind": "ConfigMap",
                                                        "metadata": {"name": "app-config"}, "data": {"x": "y"}}}]}})
    wait_for(lambda: dns.condition(ns)["reason"] == "SeedConflict", timeout=15, what="the conflict reported")
    assert "ConfigMap/app-config cannot be created" in dns.condition(ns)["message"]
    mine = core.read_namespaced_config_map("app-config", ns)
    assert mine.data == {"mine": "yes"} and "app.kubernetes.io/managed-by" not in (mine.metadata.labels or {})

    classes.patch(cls, {"spec": {"seed": [{"manifest": {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "bad"}, "spec": {"type": "Bogus", "ports": [{"port": 80}]}}}]}})
    wait_for(lambda: dns.condition(ns)["reason"] == "SeedRefused", timeout=15, what="the refusal reported")
    message = dns.condition(ns)["message"]
    assert "seed Service/bad" in message and "Unsupported value" in message and f"class {cls}" in message
