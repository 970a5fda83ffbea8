"""devns.reconcile.context, its pure helpers: what counts as devns's own objects."""

import pytest

from devns.reconcile.context import is_cluster_view_binding
from devns.settings import Settings


def binding(name="devns-view-alice", role="devns-cluster-view", **labels):
    return {"metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "devns",
                                                  "devns.io/devnamespace": "alice", **labels}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}}


def test_the_binding_devns_creates_for_cluster_view():
    assert is_cluster_view_binding(binding(), Settings()) == "alice"


@pytest.mark.parametrize("obj", [
    binding(role="view"),  # copies the labels but grants another role
    binding(name="devns-view-bob"),  # the name does not match the DevNamespace it claims
    binding(**{"app.kubernetes.io/managed-by": "someone"}),
    binding(**{"devns.io/devnamespace": ""}),
], ids=["other-role", "other-name", "not-managed", "no-devnamespace"])
def test_look_alikes_are_not_devns_bindings(obj):
    assert is_cluster_view_binding(obj, Settings()) is None
