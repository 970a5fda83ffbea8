"""devns.models: the DevNamespace spec as the operator reads it."""

import datetime as dt

import pytest
from pydantic import ValidationError

from devns.models import DevNamespaceSpec, DevNamespaceStatus, Owner, explain_validation_error

UTC = dt.timezone.utc
ALICE = {"kind": "User", "name": "alice@example.com"}

#: The full example: every field, in the camelCase spelling kubectl users write.
EXAMPLE = {
    "namespace": "alice-payments",
    "owners": [ALICE, {"kind": "Group", "name": "payments-devs"},
               {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}],
    "team": "payments",
    "purpose": "payments API prototype",
    "contact": "#payments-dev",
    "role": "edit",
    "clusterView": True,
    "podSecurity": "baseline",
    "expiresAt": "2026-12-01T18:00:00Z",
    "quota": {"requests.cpu": "4", "pods": 20, "requests.memory": "8Gi"},
    "limits": {"defaultRequest": {"cpu": "200m"}, "default": {"cpu": "1"}, "max": {"memory": "8Gi"},
               "min": {"cpu": "10m"}},
    "network": {"allowDNS": False, "allowSameNamespace": False, "allowFromNamespaces": ["ingress-nginx", "monitoring"]},
    "labels": {"cost-center": "cc-42"},
    "annotations": {"example.com/ticket": "PAY-1"},
}


def spec(**fields):
    return DevNamespaceSpec.model_validate({"owners": [ALICE], **fields})


def refused(**fields) -> str:
    with pytest.raises(ValidationError) as info:
        spec(**fields)
    return explain_validation_error(info.value)


# -- the example --------------------------------------------------------------------------------------------------

def test_example_reads_camel_case_aliases():
    s = DevNamespaceSpec.model_validate(EXAMPLE)
    assert s.cluster_view is True
    assert s.pod_security == "baseline"
    assert s.expires_at == dt.datetime(2026, 12, 1, 18, tzinfo=UTC)
    assert s.network.allow_dns is False
    assert s.network.allow_same_namespace is False
    assert s.network.allow_from_namespaces == ["ingress-nginx", "monitoring"]
    assert s.limits.default_request == {"cpu": "200m"}
    assert s.limits.default == {"cpu": "1"}
    assert s.limits.min == {"cpu": "10m"}
    assert s.quota == {"requests.cpu": "4", "pods": 20, "requests.memory": "8Gi"}


def test_example_owners_parsed_in_order():
    s = DevNamespaceSpec.model_validate(EXAMPLE)
    assert [(o.kind, o.name, o.namespace) for o in s.owners] == [
        ("User", "alice@example.com", None), ("Group", "payments-devs", None), ("ServiceAccount", "deployer", "ci")]


def test_example_dumps_back_to_camel_case():
    dumped = DevNamespaceSpec.model_validate(EXAMPLE).model_dump(by_alias=True, exclude_none=True)
    assert {"clusterView", "podSecurity", "expiresAt"} <= dumped.keys()
    assert {"allowDNS", "allowSameNamespace", "allowFromNamespaces"} <= dumped["network"].keys()
    assert "defaultRequest" in dumped["limits"]


def test_minimal_spec_defaults():
    s = spec()
    assert s.namespace is None and s.role is None and s.ttl is None and s.expires_at is None
    assert s.cluster_view is False
    assert s.pod_security == "restricted"
    assert s.quota == {} and s.labels == {} and s.annotations == {} and s.limits is None
    assert (s.network.allow_same_namespace, s.network.allow_dns, s.network.allow_from_namespaces) == (True, True, [])


def test_python_field_names_are_accepted_too():
    s = spec(cluster_view=True, pod_security="baseline")
    assert s.cluster_view is True and s.pod_security == "baseline"


def test_unknown_fields_are_ignored():
    assert spec(somethingNew="x") == spec()


def test_spec_is_frozen():
    s = spec()
    with pytest.raises(ValidationError):
        s.team = "other"


# -- owners -------------------------------------------------------------------------------------------------------

def test_owners_required_and_non_empty():
    with pytest.raises(ValidationError):
        DevNamespaceSpec.model_validate({})
    with pytest.raises(ValidationError):
        DevNamespaceSpec.model_validate({"owners": []})


def test_service_account_owner_without_namespace_refused():
    assert "a ServiceAccount owner needs namespace" in refused(owners=[{"kind": "ServiceAccount", "name": "ci"}])


@pytest.mark.parametrize("kind", ["User", "Group"])
def test_namespace_on_user_or_group_owner_refused(kind):
    msg = refused(owners=[{"kind": kind, "name": "x", "namespace": "ci"}])
    assert "namespace is only valid for ServiceAccount owners" in msg


@pytest.mark.parametrize("owner", [
    {"kind": "Robot", "name": "r2"}, {"kind": "User", "name": ""}, {"kind": "User"},
    {"kind": "ServiceAccount", "name": "x", "namespace": "Not_A_Label"},
])
def test_invalid_owner_refused(owner):
    with pytest.raises(ValidationError):
        Owner.model_validate(owner)


# -- labels and annotations ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["devns.io/x", "devns.io/owner", "pod-security.kubernetes.io/enforce",
                                 "app.kubernetes.io/managed-by", "kubernetes.io/metadata.name"])
@pytest.mark.parametrize("field", ["labels", "annotations"])
def test_reserved_keys_refused(field, key):
    msg = refused(**{field: {key: "v"}})
    assert msg.startswith(f"spec.{field}: reserved keys cannot be set")
    assert key in msg


@pytest.mark.parametrize("key", ["app.kubernetes.io/name", "example.com/devns.io", "team", "devns.iox/y"])
def test_ordinary_keys_accepted(key):
    assert spec(labels={key: "v"}).labels == {key: "v"}


def test_reserved_keys_listed_sorted():
    msg = refused(labels={"devns.io/z": "1", "devns.io/a": "2"})
    assert msg.endswith("devns.io/a, devns.io/z")


# -- quantities ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", [{"quota": {"pods": "lots"}}, {"quota": {"requests.memory": "4GB"}},
                                   {"quota": {"pods": -1}}, {"quota": {"pods": True}},
                                   {"limits": {"max": {"cpu": "two"}}}, {"quota": {"Bad Name": "1"}}])
def test_bad_quota_or_limit_refused(field):
    with pytest.raises(ValidationError):
        spec(**field)


def test_bad_quantity_message_names_the_path():
    assert refused(quota={"pods": "lots"}).startswith("spec.quota.pods: invalid quantity 'lots'")


@pytest.mark.parametrize("value", ["10", 10, "500m", "1.5Gi", "1e3"])
def test_good_quantities_kept_as_written(value):
    assert spec(quota={"pods": value}).quota == {"pods": value}


# -- lifetime -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ttl", ["never", "90m", "1d12h", "2w"])
def test_ttl_accepted(ttl):
    assert spec(ttl=ttl).ttl == ttl


@pytest.mark.parametrize("ttl", ["0s", "0h0m", "1y", "-1h", "forever", "Never", ""])
def test_ttl_refused(ttl):
    assert refused(ttl=ttl).startswith("spec.ttl: ")


def test_expires_at_with_offset_normalised_to_utc():
    s = spec(expiresAt="2026-12-01T20:00:00+02:00")
    assert s.expires_at == dt.datetime(2026, 12, 1, 18, tzinfo=UTC)
    assert s.expires_at.utcoffset() == dt.timedelta(0)


def test_expires_at_without_offset_refused():
    assert refused(expiresAt="2026-12-01T18:00:00") == "spec.expiresAt: expiresAt needs a UTC offset (Z or +HH:MM)"


def test_ttl_and_expires_at_together_refused():
    with pytest.raises(ValidationError):
        spec(ttl="1h", expiresAt="2026-12-01T18:00:00Z")


def test_ttl_too_large_for_timedelta_is_a_validation_error():
    with pytest.raises(ValidationError):
        spec(ttl="99999999999w")


# -- other fields -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", [
    {"namespace": "Alice"}, {"namespace": "-x"}, {"namespace": "a" * 64}, {"team": "-payments"},
    {"role": "Edit"}, {"podSecurity": "open"}, {"network": {"allowFromNamespaces": ["Bad_NS"]}},
])
def test_invalid_fields_refused(field):
    with pytest.raises(ValidationError):
        spec(**field)


# -- explain_validation_error -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, expected", [
    ({"owners": [{"kind": "ServiceAccount", "name": "x"}]}, "spec.owners.0: a ServiceAccount owner needs namespace"),
    ({"ttl": "0s"}, "spec.ttl: invalid duration '0s': must be greater than zero"),
    ({"labels": {"devns.io/x": "1"}}, "spec.labels: reserved keys cannot be set: devns.io/x"),
    ({"limits": {"defaultRequest": {"cpu": "x"}}},
     "spec.limits.defaultRequest.cpu: invalid quantity 'x': use a Kubernetes quantity such as 500m, 2, 4Gi"),
])
def test_explain_validation_error_gives_spec_path_and_message(fields, expected):
    with pytest.raises(ValidationError) as info:
        DevNamespaceSpec.model_validate({"owners": [ALICE], **fields})
    assert explain_validation_error(info.value) == expected


def test_explain_validation_error_joins_several_problems():
    with pytest.raises(ValidationError) as info:
        DevNamespaceSpec.model_validate({"owners": [ALICE], "ttl": "0s", "podSecurity": "open"})
    text = explain_validation_error(info.value)
    parts = text.split("; ")
    assert len(parts) == 2
    assert {p.split(":")[0] for p in parts} == {"spec.ttl", "spec.podSecurity"}
    assert "Value error" not in text


def test_explain_other_exceptions_is_their_text():
    assert explain_validation_error(ValueError("plain problem")) == "plain problem"


# -- status -------------------------------------------------------------------------------------------------------

def test_status_reads_camel_case():
    st = DevNamespaceStatus.model_validate({
        "phase": "Ready", "expiresAt": "2026-12-01T18:00:00Z", "observedGeneration": 3, "warningsSent": ["24h"],
        "conditions": [{"type": "Ready", "status": "True", "reason": "Applied", "lastTransitionTime": "x"}]})
    assert st.expires_at == "2026-12-01T18:00:00Z"
    assert st.observed_generation == 3
    assert st.warnings_sent == ["24h"]
    assert st.conditions[0].last_transition_time == "x"


def test_status_refuses_unknown_phase():
    with pytest.raises(ValidationError):
        DevNamespaceStatus.model_validate({"phase": "Sleeping"})
