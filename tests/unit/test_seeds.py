"""devns.seeds and the seed path of desired_for: what a class's spec.seed renders into a namespace, the cache key
that follows its sources, and the refusals that name the seed."""

import base64

import pytest
from pydantic import ValidationError

from devns.class_models import DevNamespaceClassSpec
from devns.classes import ClassRef
from devns.contract import ANN_SEED_ORIGIN, CHILD_KINDS, MANAGED_BY
from devns.desired import Desired, DesiredCache, desired_for
from devns.seeds import Source, SourceRegistry
from devns.settings import Settings

from samples import devnamespace

SETTINGS = Settings()
REGISTRY = Source("Secret", "registry", "41",
                  {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "e30="}})
ENDPOINTS = Source("ConfigMap", "endpoints", "42", {"data": {"API": "http://api"}})
MANIFEST = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "db", "labels": {"app": "db"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "db"}}, "template": {
                "metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "db:1"}]}}}}


def team(*seed, generation=1):
    return ClassRef.of({"metadata": {"name": "team", "generation": generation,
                                     "creationTimestamp": "2026-11-01T00:00:00Z",
                                     "annotations": {"devns.io/is-default-class": "true"}},
                        "spec": {"seed": list(seed)}})


def render(*seed, sources=(REGISTRY, ENDPOINTS), settings=SETTINGS):
    return desired_for(devnamespace(), settings, classes={"team": team(*seed)},
                       sources={(s.kind, s.name): s for s in sources})


def test_copies_take_the_source_content_and_devns_labels_and_owner():
    desired = render({"copyFrom": {"kind": "Secret", "name": "registry"}},
                     {"copyFrom": {"kind": "ConfigMap", "name": "endpoints", "namespace": "devns-seeds"}})
    secret = desired.objects.find("Secret", "registry")
    assert secret["type"] == "kubernetes.io/dockerconfigjson" and secret["data"] == {".dockerconfigjson": "e30="}
    assert secret["metadata"]["namespace"] == "alice" and secret["metadata"]["labels"][MANAGED_BY] == "devns"
    assert secret["metadata"]["ownerReferences"][0]["uid"] == desired.ref.uid
    assert secret["metadata"]["annotations"][ANN_SEED_ORIGIN] == "Secret devns-seeds/registry"
    assert desired.objects.find("ConfigMap", "endpoints")["data"] == {"API": "http://api"}
    assert desired.objects.seeds == [
        {"kind": "Secret", "name": "registry", "from": "Secret devns-seeds/registry", "revision": "41"},
        {"kind": "ConfigMap", "name": "endpoints", "from": "ConfigMap devns-seeds/endpoints"}]


def test_children_stay_in_apply_order_with_seeds_before_the_owners_binding():
    desired = render({"manifest": MANIFEST}, {"copyFrom": {"kind": "ConfigMap", "name": "endpoints"}},
                     {"manifest": {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                   "metadata": {"name": "ci"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                                           "kind": "ClusterRole", "name": "view"},
                                   "subjects": [{"kind": "Group", "name": "ci"}]}})
    kinds = [c["kind"] for c in desired.objects.children]
    assert kinds == sorted(kinds, key=CHILD_KINDS.index)
    assert kinds.index("Deployment") < kinds.index("RoleBinding")
    assert kinds.index("LimitRange") < kinds.index("ConfigMap")


def test_a_manifest_secret_string_data_is_stored_as_data():
    desired = render({"manifest": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                                   "stringData": {"token": "abc"}}})
    secret = desired.objects.find("Secret", "s")
    assert "stringData" not in secret and base64.b64decode(secret["data"]["token"]) == b"abc"
    assert desired.objects.seeds[0]["from"] == "class team" and len(desired.objects.seeds[0]["revision"]) == 16


def test_image_pull_secrets_amend_the_default_service_account_once_per_name():
    desired = render({"imagePullSecrets": ["registry"]}, {"imagePullSecrets": ["registry", "mirror"]})
    assert desired.objects.amendments == [{"apiVersion": "v1", "kind": "ServiceAccount",
                                           "metadata": {"name": "default", "namespace": "alice"},
                                           "imagePullSecrets": [{"name": "registry"}, {"name": "mirror"}]}]
    assert desired.objects.find("ServiceAccount", "default") is None  # not a child: never owned or guarded


@pytest.mark.parametrize("seed, reason, words", [
    ({"copyFrom": {"kind": "Secret", "name": "nope"}}, "SeedSourceMissing", "Secret devns-seeds/nope does not exist"),
    ({"copyFrom": {"kind": "Secret", "name": "registry", "namespace": "kube-system"}}, "SeedSourceNotAllowed",
     "kube-system/registry is outside the seed source namespace devns-seeds"),
    ({"manifest": {**MANIFEST, "apiVersion": "apps/v1beta1"}}, "SeedInvalid", "devns seeds Deployment as apps/v1"),
    ({"manifest": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"}}},
     "SeedConflict", "ConfigMap/kube-root-ca.crt"),
    ({"manifest": {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}},
     "SeedConflict", "ServiceAccount/default"),
    ({"manifest": {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "devns-owners-edit"}, "roleRef": {}, "subjects": []}},
     "SeedConflict", "RoleBinding/devns-owners-edit"),
])
def test_refusals_name_the_seed_and_create_nothing(seed, reason, words):
    desired = render(seed)
    assert isinstance(desired, Desired) and desired.objects is None
    assert desired.problem.reason == reason and words in str(desired.problem) and "class team" in str(desired.problem)


def test_two_seeds_of_one_name_conflict():
    desired = render({"copyFrom": {"kind": "ConfigMap", "name": "endpoints"}},
                     {"manifest": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "endpoints"}}})
    assert desired.problem.reason == "SeedConflict"


def test_a_kind_the_settings_do_not_allow_is_refused():
    settings = Settings(seed_kinds=["ConfigMap"])
    desired = render({"manifest": MANIFEST}, settings=settings)
    assert desired.problem.reason == "SeedKindNotAllowed" and "only ConfigMap" in str(desired.problem)


def test_settings_refuse_a_kind_that_cannot_be_seeded():
    with pytest.raises(ValidationError, match="cannot seed Namespace"):
        Settings(seed_kinds=["Namespace"])


@pytest.mark.parametrize("seed, words", [
    ({}, "exactly one of"),
    ({"copyFrom": {"kind": "ConfigMap", "name": "a"}, "imagePullSecrets": ["b"]}, "exactly one of"),
    ({"manifest": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}}},
     "leave metadata.namespace out"),
])
def test_the_class_model_refuses_malformed_seeds(seed, words):
    with pytest.raises(ValidationError, match=words):
        DevNamespaceClassSpec.model_validate({"seed": [seed]})


def test_the_cache_renders_again_when_a_copied_source_changes_and_only_then():
    registry = SourceRegistry("devns-seeds", [ENDPOINTS])
    cache = DesiredCache(SETTINGS, sources=registry)
    cache.classes.put(team({"copyFrom": {"kind": "ConfigMap", "name": "endpoints"}}))
    first = cache.get(devnamespace())
    registry.put(Source("Secret", "unrelated", "50", {}))
    assert cache.get(devnamespace()) is first
    registry.put(Source("ConfigMap", "endpoints", "43", {"data": {"API": "http://api2"}}))
    second = cache.get(devnamespace())
    assert second is not first and second.objects.find("ConfigMap", "endpoints")["data"] == {"API": "http://api2"}
    registry.remove("ConfigMap", "endpoints")
    assert cache.get(devnamespace()).problem.reason == "SeedSourceMissing"


def test_without_a_class_nothing_is_seeded():
    desired = desired_for(devnamespace(), SETTINGS, sources={("Secret", "registry"): REGISTRY})
    assert desired.objects.seeds == [] and desired.objects.amendments == []


def test_source_changes_say_which_sources_changed_since_a_version():
    import asyncio

    from devns.handlers_seeds import SourceChanges

    async def scenario():
        changes = SourceChanges()
        changes.loop = asyncio.get_running_loop()
        start = changes.version
        changes.bump([("ConfigMap", "a")])
        changes.bump([])  # nothing changed: no new version
        await asyncio.sleep(0)
        middle = changes.version
        changes.bump([("Secret", "b"), ("ConfigMap", "a")])
        await asyncio.wait_for(changes.wait(middle, asyncio.Event()), 1)
        return changes.since(start), changes.since(middle), changes.since(changes.version)

    everything, later, nothing = asyncio.run(scenario())
    assert everything == {("ConfigMap", "a"), ("Secret", "b")} and later == everything and nothing == set()
