"""Attribution attacks (issue 13, section 1): who created a DevNamespace is recorded by the API server
(manifests/base/requester-policy.yaml), not claimed by the spec, and nobody rewrites it afterwards."""

from __future__ import annotations

import kubernetes
import pytest
from kubernetes.client import CustomObjectsApi

from support import GROUP, PLURAL, VERSION, error_of, gone, kubectl, unique
from testkit.clients import client
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")
EVE = "eve@example.com"
ADMIN = "localk8s-admin"  # the session kubeconfig's user (system:masters)
REQUESTER = "devns.io/requester"


@pytest.fixture(scope="module")
def eve(api, kubeconfig):
    """A user who may create and patch DevNamespaces (as a self-service developer can), nothing else."""
    rbac = kubernetes.client.RbacAuthorizationV1Api(api)
    name = unique("eve-devns")
    rbac.create_cluster_role({"metadata": {"name": name}, "rules": [{
        "apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get", "list", "create", "patch", "update",
                                                               "delete"]}]})
    rbac.create_cluster_role_binding({"metadata": {"name": name},
                                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                  "name": name},
                                      "subjects": [{"kind": "User", "name": EVE,
                                                    "apiGroup": "rbac.authorization.k8s.io"}]})
    custom = CustomObjectsApi(client(kubeconfig, user=EVE))
    wait_for(lambda: custom.list_cluster_custom_object(GROUP, VERSION, PLURAL, limit=1), what="eve's RBAC")
    yield custom
    rbac.delete_cluster_role_binding(name)
    rbac.delete_cluster_role(name)


def devnamespace(name: str, owner: str, **annotations: str) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DevNamespace",
            "metadata": {"name": name, "annotations": annotations},
            "spec": {"owners": [{"kind": "User", "name": owner}], "ttl": "1h"}}


def test_the_requester_is_recorded_by_the_api_server_not_claimed(dns, eve, binaries, kubeconfig):
    name = unique("claim")
    created = eve.create_cluster_custom_object(GROUP, VERSION, PLURAL,
                                               devnamespace(name, EVE, **{REQUESTER: "someone-else@example.com"}))
    try:
        assert created["metadata"]["annotations"][REQUESTER] == EVE
        dns.wait_phase(name, "Ready")
        wait_for(lambda: dns.core.read_namespace(name).metadata.annotations.get(REQUESTER) == EVE,
                 what="the requester copied to the namespace")
        table = kubectl(binaries, kubeconfig, "get", "devnamespace", name, "-o", "wide").stdout.splitlines()
        assert "REQUESTER" in table[0].split() and EVE in table[1].split(), table
        assert "REQUESTER" not in kubectl(binaries, kubeconfig, "get", "devnamespace", name).stdout
    finally:
        dns.delete(name)
        wait_for(lambda: gone(lambda: dns.get(name)), timeout=60, what="clean-up")


def test_an_admin_cannot_claim_someone_else_either(dns):
    name = unique("admin-claim")
    created = dns.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, devnamespace(
        name, "dana@example.com", **{REQUESTER: "dana@example.com"}), dry_run="All")
    assert created["metadata"]["annotations"][REQUESTER] == ADMIN


@pytest.mark.parametrize("change", [{REQUESTER: "someone-else@example.com"}, {REQUESTER: None},
                                    {"devns.io/max-per-requester": "1000"}],
                         ids=["rewrite", "remove", "add-a-limit"])
def test_the_requester_and_limit_cannot_be_rewritten(dns, eve, change):
    name = unique("rewrite")
    eve.create_cluster_custom_object(GROUP, VERSION, PLURAL, devnamespace(name, EVE))
    try:
        exc = error_of(lambda: eve.patch_cluster_custom_object(GROUP, VERSION, PLURAL, name,
                                                                {"metadata": {"annotations": change}}))
        assert exc.status == 403 and "recorded at creation and cannot be changed" in exc.message, exc.message
        assert eve.get_cluster_custom_object(GROUP, VERSION, PLURAL, name)["metadata"]["annotations"][REQUESTER] == EVE
        # the rest of the object stays editable
        eve.patch_cluster_custom_object(GROUP, VERSION, PLURAL, name, {"metadata": {"annotations": {"note": "x"}}})
    finally:
        dns.delete(name)
        wait_for(lambda: gone(lambda: dns.get(name)), timeout=60, what="clean-up")
