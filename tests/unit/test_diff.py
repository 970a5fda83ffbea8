"""devns.diff: does a desired object need a server-side apply, or a replace (someone added fields devns keeps
exactly)?"""

import copy

import pytest

from devns.diff import (Change, change_needed, covers, exact_match, needs_apply, owned_paths, paths,
                        upgraded_managed_fields, with_server_defaults)

MANAGER = "devns"
OWNER_REF = {"apiVersion": "devns.io/v1alpha1", "kind": "DevNamespace", "name": "alice", "uid": "u1",
             "controller": True}


def quota(**hard):
    return {"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "devns-quota", "namespace": "alice",
                         "labels": {"app.kubernetes.io/managed-by": "devns", "devns.io/devnamespace": "alice"},
                         "ownerReferences": [OWNER_REF]},
            "spec": {"hard": {"pods": "10", "requests.cpu": "2", "requests.memory": "4Gi", **hard}}}


def netpol():
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "devns-allow-dns", "namespace": "alice",
                         "labels": {"app.kubernetes.io/managed-by": "devns"}, "ownerReferences": [OWNER_REF]},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                     "egress": [{"to": [{"namespaceSelector": {"matchLabels": {
                         "kubernetes.io/metadata.name": "kube-system"}}}],
                         "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}}


def served(desired, managed_fields=None):
    """What the API server returns: the desired object plus the fields it populates."""
    actual = copy.deepcopy(desired)
    meta = actual["metadata"]
    meta.update({"uid": "child-uid", "resourceVersion": "42", "generation": 1,
                 "creationTimestamp": "2026-11-21T10:00:00Z"})
    if managed_fields is not None:
        meta["managedFields"] = managed_fields
    return actual


def apply_entry(fields, manager=MANAGER, operation="Apply"):
    return {"manager": manager, "operation": operation, "apiVersion": "v1", "time": "2026-11-21T10:00:00Z",
            "fieldsType": "FieldsV1", "fieldsV1": fields}


QUOTA_FIELDS = {"f:metadata": {"f:labels": {".": {}, "f:app.kubernetes.io/managed-by": {},
                                            "f:devns.io/devnamespace": {}},
                               "f:ownerReferences": {".": {}, 'k:{"uid":"u1"}': {".": {}, "f:apiVersion": {},
                                                                                 "f:controller": {}, "f:kind": {},
                                                                                 "f:name": {}, "f:uid": {}}}},
                "f:spec": {"f:hard": {".": {}, "f:pods": {}, "f:requests.cpu": {}, "f:requests.memory": {}}}}


# -- basics ---------------------------------------------------------------------------------------------------------

def test_missing_object_needs_apply():
    assert needs_apply(quota(), None, MANAGER) is True


def test_identical_needs_nothing():
    assert needs_apply(quota(), quota(), MANAGER) is False


def test_server_populated_fields_ignored():
    actual = served(quota(), [apply_entry(QUOTA_FIELDS)])
    actual["status"] = {"hard": {"pods": "10"}, "used": {"pods": "3"}}
    assert needs_apply(quota(), actual, MANAGER) is False


def test_defaulted_fields_inside_list_items_ignored():
    actual = served(netpol())
    for port in actual["spec"]["egress"][0]["ports"]:
        port["endPort"] = None
    actual["spec"]["egress"][0]["to"][0]["podSelector"] = None
    assert needs_apply(netpol(), actual, MANAGER) is False


def test_api_version_and_kind_not_compared():
    actual = served(quota())
    del actual["apiVersion"], actual["kind"]
    assert needs_apply(quota(), actual, MANAGER) is False


# -- differences ----------------------------------------------------------------------------------------------------

def test_changed_label_needs_apply():
    actual = served(quota())
    actual["metadata"]["labels"]["devns.io/devnamespace"] = "bob"
    assert needs_apply(quota(), actual, MANAGER) is True


def test_missing_label_needs_apply():
    actual = served(quota())
    del actual["metadata"]["labels"]["devns.io/devnamespace"]
    assert needs_apply(quota(), actual, MANAGER) is True


def test_missing_spec_needs_apply():
    actual = served(quota())
    del actual["spec"]
    assert needs_apply(quota(), actual, MANAGER) is True


@pytest.mark.parametrize("desired_value, actual_value",
                         [("1", "1000m"), ("4Gi", "4096Mi"), ("10", 10), ("0.5", "500m")])
def test_equal_quantities_in_spec_hard_need_nothing(desired_value, actual_value):
    actual = served(quota())
    actual["spec"]["hard"]["requests.cpu"] = actual_value
    assert needs_apply(quota(**{"requests.cpu": desired_value}), actual, MANAGER) is False


@pytest.mark.parametrize("actual_value", ["2", "1001m", "1Gi", "lots"])
def test_different_quantity_needs_apply(actual_value):
    actual = served(quota())
    actual["spec"]["hard"]["requests.cpu"] = actual_value
    assert needs_apply(quota(**{"requests.cpu": "1"}), actual, MANAGER) is True


def test_equal_quantities_in_limit_range_need_nothing():
    desired = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "devns-limits"},
               "spec": {"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "512Mi"},
                                    "defaultRequest": {"cpu": "100m"}, "max": {"memory": "4Gi"}}]}}
    actual = served(desired)
    actual["spec"]["limits"][0].update({"default": {"cpu": "1000m", "memory": "536870912"},
                                        "max": {"memory": "4096Mi"}})
    assert needs_apply(desired, actual, MANAGER) is False


def test_quantity_equality_not_applied_outside_quantity_maps():
    desired = netpol()
    actual = served(desired)
    actual["spec"]["egress"][0]["ports"][0]["port"] = "53.0"
    assert needs_apply(desired, actual, MANAGER) is True


def test_foreign_owner_reference_ignored():
    actual = served(quota())
    actual["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "other", "uid": "u9"}, OWNER_REF]
    assert needs_apply(quota(), actual, MANAGER) is False


def test_missing_owner_reference_needs_apply():
    actual = served(quota())
    actual["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "other", "uid": "u9"}]
    assert needs_apply(quota(), actual, MANAGER) is True


def test_atomic_list_order_change_needs_apply():
    desired = netpol()
    desired["spec"]["policyTypes"] = ["Ingress", "Egress"]
    actual = served(desired)
    actual["spec"]["policyTypes"] = ["Egress", "Ingress"]
    assert needs_apply(desired, actual, MANAGER) is True


def test_list_item_order_change_needs_apply():
    actual = served(netpol())
    actual["spec"]["egress"][0]["ports"].reverse()
    assert needs_apply(netpol(), actual, MANAGER) is True


def test_extra_list_item_needs_apply():
    actual = served(netpol())
    actual["spec"]["policyTypes"].append("Ingress")
    assert needs_apply(netpol(), actual, MANAGER) is True


# -- managedFields --------------------------------------------------------------------------------------------------

def test_owned_label_no_longer_desired_needs_apply():
    fields = copy.deepcopy(QUOTA_FIELDS)
    fields["f:metadata"]["f:labels"]["f:old"] = {}
    actual = served(quota(), [apply_entry(fields)])
    actual["metadata"]["labels"]["old"] = "x"
    assert needs_apply(quota(), actual, MANAGER) is True


def test_owned_label_minimal_entry_needs_apply():
    entry = {"manager": "devns", "operation": "Apply", "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:old": {}}}}}
    assert needs_apply(quota(), served(quota(), [entry]), MANAGER) is True


def test_owned_quota_key_no_longer_desired_needs_apply():
    fields = copy.deepcopy(QUOTA_FIELDS)
    fields["f:spec"]["f:hard"]["f:services"] = {}
    assert needs_apply(quota(), served(quota(), [apply_entry(fields)]), MANAGER) is True


def test_owned_fields_all_desired_need_nothing():
    assert needs_apply(quota(), served(quota(), [apply_entry(QUOTA_FIELDS)]), MANAGER) is False


def test_other_managers_extra_fields_ignored():
    other = {"f:metadata": {"f:labels": {"f:team-tool": {}}, "f:annotations": {"f:note": {}}},
             "f:spec": {"f:hard": {"f:services": {}}}}
    actual = served(quota(), [apply_entry(QUOTA_FIELDS), apply_entry(other, manager="kubectl"),
                              apply_entry(other, manager="kube-controller-manager", operation="Update")])
    actual["metadata"]["labels"]["team-tool"] = "x"
    actual["metadata"]["annotations"] = {"note": "y"}
    actual["spec"]["hard"]["services"] = "5"
    assert needs_apply(quota(), actual, MANAGER) is False


def test_fields_devns_created_with_post_count_as_ownership():
    entry = apply_entry({"f:metadata": {"f:labels": {"f:old": {}}}}, operation="Update")
    assert needs_apply(quota(), served(quota(), [entry]), MANAGER) is True
    assert needs_apply(quota(), served(quota(), [apply_entry(QUOTA_FIELDS, operation="Update")]), MANAGER) is False


def test_devns_status_writes_do_not_count_as_ownership():
    entry = {**apply_entry({"f:status": {"f:phase": {}}}, operation="Update"), "subresource": "status"}
    assert needs_apply(quota(), served(quota(), [entry]), MANAGER) is False


# -- upgrading what devns created with POST --------------------------------------------------------------------------

def test_upgrade_turns_the_update_entry_into_apply():
    other = apply_entry({"f:status": {"f:used": {}}}, manager="kube-controller-manager", operation="Update")
    created = apply_entry(QUOTA_FIELDS, operation="Update")
    upgraded = upgraded_managed_fields(served(quota(), [other, created]), MANAGER)
    assert upgraded == [other, {**created, "operation": "Apply"}]


def test_upgrade_folds_update_fields_into_an_existing_apply_entry():
    applied = apply_entry({"f:spec": {"f:hard": {".": {}, "f:pods": {}}}})
    created = apply_entry({"f:metadata": {"f:labels": {"f:old": {}}}, "f:spec": {"f:hard": {"f:services": {}}}},
                          operation="Update")
    (merged,) = upgraded_managed_fields(served(quota(), [applied, created]), MANAGER)
    assert merged["operation"] == "Apply"
    assert merged["fieldsV1"] == {"f:spec": {"f:hard": {".": {}, "f:pods": {}, "f:services": {}}},
                                  "f:metadata": {"f:labels": {"f:old": {}}}}


def test_no_upgrade_without_an_update_entry_of_ours():
    status = {**apply_entry({"f:status": {}}, operation="Update"), "subresource": "status"}
    assert upgraded_managed_fields(served(quota(), [apply_entry(QUOTA_FIELDS), status]), MANAGER) is None
    assert upgraded_managed_fields(served(quota()), MANAGER) is None


def test_owned_list_items_map_to_the_list():
    fields = {"f:spec": {"f:policyTypes": {}, "f:egress": {}, "f:podSelector": {}},
              "f:metadata": {"f:ownerReferences": {'k:{"uid":"u1"}': {".": {}, "f:uid": {}}}}}
    assert needs_apply(netpol(), served(netpol(), [apply_entry(fields)]), MANAGER) is False


def test_owned_paths_reads_fields_v1():
    actual = {"metadata": {"managedFields": [
        apply_entry({"f:metadata": {"f:labels": {".": {}, "f:a": {}}},
                     "f:spec": {"f:ports": {'k:{"port":53}': {".": {}, "f:port": {}}}}}),
        apply_entry({"f:metadata": {"f:labels": {"f:b": {}}}}, manager="other")]}}
    assert sorted(owned_paths(actual, MANAGER)) == [("metadata", "labels", "a"), ("spec", "ports")]


def test_owned_paths_without_managed_fields():
    assert list(owned_paths({}, MANAGER)) == []
    assert list(owned_paths({"metadata": {"managedFields": None}}, MANAGER)) == []


def test_paths_treat_lists_and_empty_maps_as_leaves():
    assert sorted(paths({"a": {"b": 1, "c": []}, "d": {}})) == [("a", "b"), ("a", "c"), ("d",)]


def test_covers_requires_equal_length_lists():
    assert covers([1, 2], [1, 2]) and not covers([1, 2, 3], [1, 2]) and not covers({"a": 1}, [1])


@pytest.mark.parametrize("field", ["labels", "annotations"])
def test_labels_named_like_quantity_maps_compare_as_text(field):
    desired = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "alice", field: {"max": "1"}}}
    actual = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "alice", field: {"max": "1000m"}}}
    assert needs_apply(desired, actual, MANAGER) is True


def test_owned_but_unwanted_matches_the_plain_definition():
    """needs_apply's prefix sets agree with the definition: an owned path is wanted when it is a wanted path, lies
    above one, or below one (seeded random trees, so the test is repeatable)."""
    import random
    rng = random.Random(7)

    def tree(depth):
        keys = rng.sample("abcd", rng.randint(1, 3))
        return {k: tree(depth - 1) if depth and rng.random() < 0.5 else "v" for k in keys}

    def fields(paths_):
        out = {}
        for p in paths_:
            node = out
            for k in p:
                node = node.setdefault(f"f:{k}", {})
        return out
    for _ in range(300):
        desired = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": tree(3)}
        actual = copy.deepcopy(desired)
        extra = {"data": tree(3)}
        owned = [p for p in paths(extra) if rng.random() < 0.7] + [p for p in paths(desired) if rng.random() < 0.5]
        actual["metadata"]["managedFields"] = [apply_entry(fields(owned))]
        wanted = set(paths(desired))
        got = {p for p in owned_paths(actual, MANAGER)}
        expected = any(not any(o[:len(w)] == w or w[:len(o)] == o for w in wanted) for o in got)
        assert needs_apply(desired, actual, MANAGER) is expected


# -- exactly as declared --------------------------------------------------------------------------------------------

def limitrange(**limits):
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "devns-limits", "namespace": "alice"},
            "spec": {"limits": [{"type": "Container", **limits}]}}


def rolebinding(*subjects):
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "devns-owners-edit", "namespace": "alice"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": list(subjects)}


def test_an_extra_field_in_a_declared_spec_needs_a_replace():
    """An admin (exempt from the guardrail policy) opening the default-deny policy to all ingress."""
    actual = served(netpol())
    actual["spec"]["ingress"] = [{}]
    assert not exact_match(netpol(), actual)
    assert change_needed(netpol(), actual, MANAGER) is Change.REPLACE


def test_an_extra_quota_entry_needs_a_replace_but_canonical_quantities_do_not():
    actual = served(quota())
    actual["spec"]["hard"].update({"requests.cpu": "2000m", "requests.memory": "4096Mi"})
    assert change_needed(quota(), actual, MANAGER) is Change.NONE
    actual["spec"]["hard"]["count/deployments.apps"] = "100"
    assert change_needed(quota(), actual, MANAGER) is Change.REPLACE


def test_a_missing_or_changed_field_is_still_an_apply():
    actual = served(quota())
    actual["spec"]["hard"]["pods"] = "11"
    assert not exact_match(quota(), actual)
    assert change_needed(quota(), actual, MANAGER) is Change.APPLY  # devns's apply sets its own fields back
    del actual["spec"]["hard"]["pods"]
    assert change_needed(quota(), actual, MANAGER) is Change.APPLY
    assert change_needed(quota(), None, MANAGER) is Change.APPLY


def test_limitrange_defaults_the_api_server_adds_are_not_drift():
    desired = limitrange(max={"cpu": "2", "ephemeral-storage": "1Gi"}, min={"memory": "64Mi"},
                         default={"cpu": "500m"})
    stored = with_server_defaults(desired)["spec"]["limits"][0]
    assert stored["default"] == {"cpu": "500m", "ephemeral-storage": "1Gi"}  # max -> default
    assert stored["defaultRequest"] == {"cpu": "500m", "ephemeral-storage": "1Gi", "memory": "64Mi"}
    actual = served(desired)
    actual["spec"]["limits"][0].update(default=stored["default"], defaultRequest=stored["defaultRequest"])
    assert exact_match(desired, actual)
    assert desired["spec"]["limits"][0]["default"] == {"cpu": "500m"}  # the desired object is not mutated


def test_rbac_api_groups_the_server_fills_in_are_not_drift():
    sa = {"kind": "ServiceAccount", "name": "ci", "namespace": "ci"}
    user = {"kind": "User", "name": "alice@example.com"}
    actual = served(rolebinding(sa, {**user, "apiGroup": "rbac.authorization.k8s.io"}))
    assert exact_match(rolebinding(sa, user), actual)
    actual["subjects"].append({"kind": "User", "name": "mallory", "apiGroup": "rbac.authorization.k8s.io"})
    assert not exact_match(rolebinding(sa, user), actual)


def test_network_policy_defaults_are_not_drift():
    desired = netpol()
    desired["spec"].pop("policyTypes")
    for port in desired["spec"]["egress"][0]["ports"]:
        port.pop("protocol")
    actual = served(netpol())
    actual["spec"]["egress"][0]["ports"][0]["protocol"] = "TCP"
    actual["spec"]["policyTypes"] = ["Ingress", "Egress"]
    assert exact_match(desired, actual)


def test_namespaces_are_compared_as_a_subset():
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "alice", "labels": {"a": "b"}}}
    actual = served(ns)
    actual["metadata"]["labels"]["someone-else"] = "x"
    actual["spec"] = {"finalizers": ["kubernetes"]}
    assert change_needed(ns, actual, MANAGER) is Change.NONE
