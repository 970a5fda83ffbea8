"""devns.render: spec -> the namespace and its children, as plain dicts for server-side apply."""

import datetime as dt
import re

import pytest

from devns.models import DevNamespaceSpec
from devns.contract import CHILD_KINDS
from devns.render import DevNamespaceRef, SpecProblem, merged_limits, render, sanitize_label_value, subjects
from devns.settings import Settings

UTC = dt.timezone.utc
CREATED = dt.datetime(2026, 11, 14, 10, tzinfo=UTC)
EXPIRES = dt.datetime(2026, 11, 21, 10, tzinfo=UTC)
REF = DevNamespaceRef("alice-payments", "0b6e-uid", CREATED)
ALICE = {"kind": "User", "name": "alice@example.com"}
OWNER_REF = {"apiVersion": "devns.io/v1alpha1", "kind": "DevNamespace", "name": "alice-payments",
             "uid": "0b6e-uid", "controller": True}


def make_spec(**fields):
    return DevNamespaceSpec.model_validate({"owners": [ALICE], **fields})


def rendered(settings=None, expires_at=EXPIRES, ref=REF, **fields):
    return render(ref, make_spec(**fields), settings or Settings(), namespace=fields.get("namespace", ref.name),
                  expires_at=expires_at)


def child(desired, kind, name=None):
    found = [c for c in desired.children if c["kind"] == kind and (name is None or c["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def names(desired, kind):
    return [c["metadata"]["name"] for c in desired.children if c["kind"] == kind]


def problem(settings=None, **fields) -> SpecProblem:
    with pytest.raises(SpecProblem) as info:
        rendered(settings=settings, **fields)
    return info.value


# -- the namespace ------------------------------------------------------------------------------------------------

def test_namespace_named_after_devnamespace_by_default():
    d = rendered()
    assert d.namespace["apiVersion"] == "v1" and d.namespace["kind"] == "Namespace"
    assert d.namespace_name == "alice-payments"


def test_spec_namespace_overrides_name():
    assert rendered(namespace="alice-sandbox").namespace_name == "alice-sandbox"


def test_namespace_managed_labels():
    labels = rendered(team="payments").namespace["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "devns"
    assert labels["devns.io/devnamespace"] == "alice-payments"
    assert labels["devns.io/owner"] == "alice_example.com"
    assert labels["devns.io/team"] == "payments"


@pytest.mark.parametrize("fields, name", [({}, "alice-payments"), ({"namespace": "alice-sandbox"}, "alice-sandbox")])
def test_namespace_declares_the_name_label_the_api_server_sets(fields, name):
    # created with POST, devns owns every label present at creation: this one is declared so it stays wanted
    assert rendered(**fields).namespace["metadata"]["labels"]["kubernetes.io/metadata.name"] == name


def test_no_team_label_without_team():
    d = rendered()
    assert "devns.io/team" not in d.namespace["metadata"]["labels"]
    assert "devns.io/team" not in d.namespace["metadata"]["annotations"]


@pytest.mark.parametrize("level", ["restricted", "baseline"])
def test_pod_security_labels(level):
    labels = rendered(podSecurity=level).namespace["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == level
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest"


def test_user_labels_added():
    labels = rendered(labels={"cost-center": "cc-42"}).namespace["metadata"]["labels"]
    assert labels["cost-center"] == "cc-42"
    assert labels["app.kubernetes.io/managed-by"] == "devns"


@pytest.mark.parametrize("owner, label", [
    ({"kind": "User", "name": "alice@example.com"}, "alice_example.com"),
    ({"kind": "Group", "name": "payments-devs"}, "payments-devs"),
    ({"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}, "ci.deployer"),
    ({"kind": "User", "name": "https://issuer.example.com#1234"}, "https_..issuer.example.com_1234"),
])
def test_owner_label_is_first_owner_sanitised(owner, label):
    d = rendered(owners=[owner, {"kind": "Group", "name": "other"}])
    assert d.namespace["metadata"]["labels"]["devns.io/owner"] == label


def test_namespace_annotations():
    d = rendered(team="payments", purpose="prototype", contact="#payments-dev", ttl="7d",
                 owners=[ALICE, {"kind": "Group", "name": "payments-devs"},
                         {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}],
                 annotations={"example.com/ticket": "PAY-1"})
    ann = d.namespace["metadata"]["annotations"]
    assert ann == {
        "example.com/ticket": "PAY-1",
        "devns.io/owner": "User:alice@example.com, Group:payments-devs, ServiceAccount:ci/deployer",
        "devns.io/created-by": "alice-payments/0b6e-uid",
        "devns.io/team": "payments",
        "devns.io/purpose": "prototype",
        "devns.io/contact": "#payments-dev",
        "devns.io/ttl": "7d",
        "devns.io/expires-at": "2026-11-21T10:00:00Z",
    }


def test_expires_at_annotation_is_utc_z():
    d = rendered(expires_at=dt.datetime(2026, 11, 21, 12, 0, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))))
    assert d.namespace["metadata"]["annotations"]["devns.io/expires-at"] == "2026-11-21T10:00:30Z"


def test_no_expiry_annotations_for_never():
    ann = rendered(expires_at=None).namespace["metadata"]["annotations"]
    assert "devns.io/expires-at" not in ann and "devns.io/ttl" not in ann and "devns.io/proof" not in ann


def test_namespace_owner_reference():
    assert rendered().namespace["metadata"]["ownerReferences"] == [OWNER_REF]


def test_ref_helpers():
    assert REF.created_by == "alice-payments/0b6e-uid"
    assert REF.owner_reference() == OWNER_REF


# -- children: general ------------------------------------------------------------------------------------------

def test_default_children_kinds_and_names():
    d = rendered()
    assert [(c["kind"], c["metadata"]["name"]) for c in d.children] == [
        ("NetworkPolicy", "devns-default-deny"),
        ("NetworkPolicy", "devns-allow-same-namespace"),
        ("NetworkPolicy", "devns-allow-dns"),
        ("ResourceQuota", "devns-quota"),
        ("LimitRange", "devns-limits"),
        ("RoleBinding", "devns-owners-edit"),
    ]


def test_children_in_apply_order():
    d = rendered(clusterView=True, network={"allowFromNamespaces": ["x"]})
    kinds = [c["kind"] for c in d.children]
    assert kinds == sorted(kinds, key=CHILD_KINDS.index)


@pytest.mark.parametrize("fields", [{}, {"clusterView": True, "network": {"allowFromNamespaces": ["monitoring"]}}])
def test_every_child_labelled_and_owner_referenced(fields):
    for c in rendered(**fields).children:
        meta = c["metadata"]
        assert meta["labels"] == {"app.kubernetes.io/managed-by": "devns", "devns.io/devnamespace": "alice-payments"}
        assert meta["ownerReferences"] == [OWNER_REF]


def test_namespaced_children_live_in_the_namespace():
    d = rendered(namespace="alice-sandbox", clusterView=True)
    for c in d.children:
        if c["kind"] == "ClusterRoleBinding":
            assert "namespace" not in c["metadata"]
        else:
            assert c["metadata"]["namespace"] == "alice-sandbox"


# -- network policies ---------------------------------------------------------------------------------------------

DENY_ALL = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("network", [
    {}, {"allowDNS": False, "allowSameNamespace": False}, {"allowFromNamespaces": ["monitoring"]},
])
def test_default_deny_always_present(network):
    deny = child(rendered(network=network), "NetworkPolicy", "devns-default-deny")
    assert deny["apiVersion"] == "networking.k8s.io/v1"
    assert deny["spec"] == DENY_ALL


def test_network_allows_off_leaves_only_deny():
    d = rendered(network={"allowDNS": False, "allowSameNamespace": False})
    assert names(d, "NetworkPolicy") == ["devns-default-deny"]


@pytest.mark.parametrize("network, present", [
    ({"allowDNS": False}, ["devns-default-deny", "devns-allow-same-namespace"]),
    ({"allowSameNamespace": False}, ["devns-default-deny", "devns-allow-dns"]),
    ({"allowDNS": False, "allowSameNamespace": False, "allowFromNamespaces": ["a"]},
     ["devns-default-deny"]),  # listed but not trusted (``trust``): no allow-from policy
])
def test_allow_policies_toggled(network, present):
    assert names(rendered(network=network), "NetworkPolicy") == present


def test_allow_same_namespace_policy():
    spec = child(rendered(), "NetworkPolicy", "devns-allow-same-namespace")["spec"]
    assert spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                    "ingress": [{"from": [{"podSelector": {}}]}], "egress": [{"to": [{"podSelector": {}}]}]}


def test_allow_dns_policy_targets_dns_namespace():
    spec = child(rendered(settings=Settings(dns_namespace="dns")), "NetworkPolicy", "devns-allow-dns")["spec"]
    assert spec["policyTypes"] == ["Egress"]
    (rule,) = spec["egress"]
    assert rule["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns"}}}]
    assert rule["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def test_allow_from_namespaces_uses_metadata_name_in():
    """Only the trusted sources that are also listed: the policy never names what the spec does not ask for."""
    spec = make_spec(network={"allowFromNamespaces": ["monitoring", "ingress-nginx", "monitoring", "argocd"]})
    d = render(REF, spec, Settings(), namespace=REF.name, expires_at=EXPIRES,
               trusted_sources=["monitoring", "ingress-nginx", "unlisted"])
    spec = child(d, "NetworkPolicy", "devns-allow-from-namespaces")["spec"]
    assert spec == {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"namespaceSelector": {
        "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                              "values": ["ingress-nginx", "monitoring"]}]}}]}]}


# -- quota and limits ---------------------------------------------------------------------------------------------

def test_quota_is_settings_defaults_without_spec():
    quota = child(rendered(), "ResourceQuota")
    assert quota["apiVersion"] == "v1"
    assert quota["metadata"]["name"] == "devns-quota"
    assert quota["spec"]["hard"] == Settings().default_quota


def test_quota_spec_wins_over_defaults():
    quota = child(rendered(quota={"pods": 10, "requests.cpu": "8", "count/jobs.batch": "5"}), "ResourceQuota")
    hard = quota["spec"]["hard"]
    assert hard["pods"] == "10"
    assert hard["requests.cpu"] == "8"
    assert hard["count/jobs.batch"] == "5"
    assert hard["limits.memory"] == "8Gi"
    assert hard["services.nodeports"] == "0"
    assert hard["services.loadbalancers"] == "0"
    assert all(isinstance(v, str) for v in hard.values())


def test_limit_range_is_settings_defaults_without_spec():
    lr = child(rendered(), "LimitRange")
    assert lr["metadata"]["name"] == "devns-limits"
    assert lr["spec"]["limits"] == [{"type": "Container",
                                     "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                                     "default": {"cpu": "500m", "memory": "512Mi"},
                                     "max": {"cpu": "2", "memory": "4Gi"}}]


def test_limit_range_merges_spec_over_defaults():
    lr = child(rendered(limits={"default": {"cpu": "1"}, "max": {"memory": 8589934592}, "min": {"cpu": "10m"}}),
               "LimitRange")
    (item,) = lr["spec"]["limits"]
    assert item["default"] == {"cpu": "1", "memory": "512Mi"}
    assert item["max"] == {"cpu": "2", "memory": "8589934592"}
    assert item["min"] == {"cpu": "10m"}
    assert item["defaultRequest"] == {"cpu": "100m", "memory": "128Mi"}


@pytest.mark.parametrize("limits, message", [
    ({"defaultRequest": {"cpu": "1"}}, "limits for cpu: defaultRequest 1 is greater than default 500m"),
    ({"defaultRequest": {"memory": "1Gi"}, "default": {"memory": "512Mi"}},
     "limits for memory: defaultRequest 1Gi is greater than default 512Mi"),
    ({"default": {"cpu": "3"}}, "limits for cpu: default 3 is greater than max 2"),
    ({"min": {"cpu": "200m"}}, "limits for cpu: min 200m is greater than defaultRequest 100m"),
])
def test_inconsistent_limits_refused(limits, message):
    p = problem(limits=limits)
    assert p.reason == "InvalidLimits"
    assert str(p) == message


def test_equal_limits_accepted():
    merged = merged_limits(make_spec(limits={"min": {"cpu": "100m"}, "defaultRequest": {"cpu": "0.1"}}), Settings())
    assert merged["min"] == {"cpu": "100m"}


def test_limits_checked_against_custom_defaults():
    s = Settings(default_limits={"max": {"cpu": "1"}})
    assert problem(settings=s, limits={"default": {"cpu": "2"}}).reason == "InvalidLimits"
    assert merged_limits(make_spec(), s) == {"max": {"cpu": "1"}}


# -- RBAC -----------------------------------------------------------------------------------------------------------

def test_role_binding_for_default_role():
    rb = child(rendered(), "RoleBinding")
    assert rb["apiVersion"] == "rbac.authorization.k8s.io/v1"
    assert rb["metadata"]["name"] == "devns-owners-edit"
    assert rb["metadata"]["namespace"] == "alice-payments"
    assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}


def test_role_binding_named_after_spec_role():
    rb = child(rendered(role="view"), "RoleBinding")
    assert rb["metadata"]["name"] == "devns-owners-view"
    assert rb["roleRef"]["name"] == "view"


def test_role_binding_name_replaces_colons():
    s = Settings(allowed_roles=["edit", "system:aggregate-to-edit"])
    rb = child(rendered(settings=s, role="system:aggregate-to-edit"), "RoleBinding")
    assert rb["metadata"]["name"] == "devns-owners-system-aggregate-to-edit"
    assert rb["roleRef"]["name"] == "system:aggregate-to-edit"


def test_role_binding_subjects_for_every_owner_kind():
    rb = child(rendered(owners=[ALICE, {"kind": "Group", "name": "payments-devs"},
                                {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}]), "RoleBinding")
    assert rb["subjects"] == [
        {"kind": "User", "name": "alice@example.com", "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "Group", "name": "payments-devs", "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"},
    ]


def test_no_cluster_role_binding_without_cluster_view():
    assert names(rendered(), "ClusterRoleBinding") == []


def test_cluster_view_adds_cluster_role_binding():
    d = rendered(clusterView=True, settings=Settings(cluster_view_role="my-view"))
    crb = child(d, "ClusterRoleBinding")
    assert crb["metadata"]["name"] == "devns-view-alice-payments"
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "my-view"}
    assert crb["subjects"] == subjects(make_spec().owners)


def test_cluster_view_role_default():
    assert child(rendered(clusterView=True), "ClusterRoleBinding")["roleRef"]["name"] == "devns-cluster-view"


# -- policy refusals ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, settings", [
    ({"namespace": "kube-system"}, None),
    ({"namespace": "default"}, None),
    ({"namespace": "devns-system"}, None),
    ({"namespace": "protected-db"}, {"reserved_namespaces": ["protected-*"]}),
])
def test_reserved_namespace_refused(fields, settings):
    p = problem(settings=Settings(**settings) if settings else None, **fields)
    assert p.reason == "ReservedNamespace"
    assert repr(fields["namespace"]) in str(p)


def test_reserved_namespace_from_devnamespace_name():
    with pytest.raises(SpecProblem) as info:
        render(DevNamespaceRef("kube-mine", "u", CREATED), make_spec(), Settings(), namespace="kube-mine",
               expires_at=None)
    assert info.value.reason == "ReservedNamespace"


def test_role_not_allowed():
    p = problem(role="cluster-admin")
    assert p.reason == "RoleNotAllowed"
    assert "'cluster-admin'" in str(p) and "edit, view" in str(p)


def test_privileged_not_allowed_by_default():
    p = problem(podSecurity="privileged")
    assert p.reason == "PrivilegedNotAllowed"


def test_privileged_accepted_when_allowed():
    namespace = rendered(settings=Settings(allow_privileged=True), podSecurity="privileged").namespace
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"


def test_spec_problem_is_a_value_error_with_reason():
    p = SpecProblem("Why", "what to fix")
    assert isinstance(p, ValueError)
    assert p.reason == "Why" and str(p) == "what to fix"


# -- sanitize_label_value -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("alice@example.com", "alice_example.com"),
    ("payments", "payments"),
    ("--alice--", "alice"),
    ("@alice.", "alice"),
    ("_.-a-._", "a"),
    ("a b  c", "a_b_c"),
    ("jörg", "j_rg"),
    ("日本", ""),
    ("", ""),
    ("@@@", ""),
    ("A.b-C_d", "A.b-C_d"),
])
def test_sanitize_label_value(value, expected):
    assert sanitize_label_value(value) == expected


def test_sanitize_truncates_to_63():
    assert sanitize_label_value("a" * 100) == "a" * 63


def test_sanitize_strips_after_truncating():
    assert sanitize_label_value("a" * 62 + ".b") == "a" * 62


@pytest.mark.parametrize("value", ["alice@example.com", "x" * 80, "-" * 70 + "z", "é" * 40 + "a", "a." * 40])
def test_sanitize_result_is_a_valid_label_value(value):
    out = sanitize_label_value(value)
    assert len(out) <= 63
    assert out == "" or re.fullmatch(r"[A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?", out)
