"""devns.models: the DevNamespace spec as the operator reads it."""

import datetime as dt

import pytest
from pydantic import ValidationError

from devns import apirules
from devns import models
from devns.contract import ANN_OWNER
from devns.models import DevNamespaceSpec, DevNamespaceStatus, Owner, explain_validation_error
from devns.render import DevNamespaceRef, render
from devns.settings import Settings
from devns.units import parse_quantity

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


# -- owners: never system:, ServiceAccounts by their real names ----------------------------------------------------

SYSTEM_MESSAGE = "owners cannot be system: users or groups"


@pytest.mark.parametrize("kind", ["User", "Group"])
@pytest.mark.parametrize("name", ["system:authenticated", "system:unauthenticated", "system:serviceaccounts",
                                  "system:serviceaccounts:team-a", "system:anonymous", "system:masters",
                                  "system:kube-controller-manager", "system:", "System:Masters", "SYSTEM:nodes"])
@pytest.mark.parametrize("position", [0, 1, 49])
def test_system_owners_refused_in_any_position(kind, name, position):
    owners = [{"kind": "User", "name": f"u{i}@example.com"} for i in range(50)]
    owners[position] = {"kind": kind, "name": name}
    msg = refused(owners=owners)
    assert msg.startswith(f"spec.owners.{position}: {SYSTEM_MESSAGE}")
    assert "ServiceAccount with kind ServiceAccount, name and namespace" in msg


@pytest.mark.parametrize("name", ["alice@example.com", "systemd", "my-system:x", "ops:system:", "system"])
def test_ordinary_owner_names_accepted(name):
    assert spec(owners=[{"kind": "Group", "name": name}]).owners[0].name == name


@pytest.mark.parametrize("name", ["deployer", "ci.bot-2", "a", "a" * 253, "0"])
def test_service_account_owner_names_accepted(name):
    assert spec(owners=[{"kind": "ServiceAccount", "name": name, "namespace": "ci"}]).owners[0].name == name


@pytest.mark.parametrize("name", ["alice@example.com", "Deployer", "-ci", "ci-", "ci..bot", "ci_bot", "ci bot",
                                  ".ci", "system:serviceaccount:ci:deployer"])
def test_service_account_owner_with_invalid_name_refused(name):
    """The first reported hole: such an owner used to pass admission; the namespace and its guardrails were created
    and only the RoleBinding was refused (Failed, half-built)."""
    msg = refused(owners=[{"kind": "ServiceAccount", "name": name, "namespace": "ci"}])
    assert msg.startswith("spec.owners.0: ")
    assert "ServiceAccount name: a DNS subdomain" in msg or SYSTEM_MESSAGE in msg


@pytest.mark.parametrize("kind", ["User", "Group", "ServiceAccount"])
def test_owner_names_at_most_253_characters(kind):
    owner = {"kind": kind, "name": "a" * 254, **({"namespace": "ci"} if kind == "ServiceAccount" else {})}
    assert "at most 253 characters" in refused(owners=[owner])


# -- labels and annotations ---------------------------------------------------------------------------------------

GOOD_KEYS = ["team", "a", "A", "app.kubernetes.io/name", "example.com/X_y.z-1", "a/b", "x" * 63,
             "a" * 253 + "/" + "b" * 63, "1-2.3/4"]
BAD_KEYS = ["", "/x", "x/", "a/b/c", "-x", "x-", "_x", "x_", "bad key", "a%b", "x" * 64, "a" * 254 + "/b",
            "-a/b", "a-/b", "a..b/c", "a_b/c", "\u00e9t\u00e9", "key\n", "example.com/"]


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_label_keys_accepted(key):
    assert spec(labels={key: "v"}).labels == {key: "v"}


@pytest.mark.parametrize("key", [*BAD_KEYS, "Example.com/x", "EXAMPLE.COM/x"])
def test_invalid_label_keys_refused_and_named(key):
    msg = refused(labels={key: "v", "fine": "v"})
    assert msg == f"spec.labels: invalid label keys {key}: {apirules.LABEL_KEYS.allowed}"


@pytest.mark.parametrize("value", ["", "v", "MyValue", "my_value", "1.2-3", "x" * 63])
def test_label_values_accepted(value):
    assert spec(labels={"k": value}).labels == {"k": value}


@pytest.mark.parametrize("value", ["bad value", "-x", "x-", "_x", "a/b", "\u00e9", "x\n"])
def test_invalid_label_values_refused(value):
    assert refused(labels={"k": value}) == f"spec.labels: {apirules.LABEL_VALUES['message']}"


def test_label_values_at_most_63_characters():
    assert "at most 63 characters" in refused(labels={"k": "x" * 64})


@pytest.mark.parametrize("key", [*GOOD_KEYS, "Example.COM/x", "EXAMPLE.COM/X"])
def test_annotation_keys_accepted_case_insensitively(key):
    """The API server lowercases annotation keys before checking them: an uppercase prefix is fine there."""
    assert spec(annotations={key: "v"}).annotations == {key: "v"}


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_annotation_keys_refused_and_named(key):
    """The second reported hole: such a key used to pass admission and fail at the namespace POST."""
    msg = refused(annotations={key: "v"})
    assert msg == f"spec.annotations: invalid annotation keys {key}: {apirules.ANNOTATION_KEYS.allowed}"


def test_annotation_keys_lowercased_as_ascii_only():
    """CEL's lowerAscii() leaves the Kelvin sign alone, so pydantic must too (Python's lower() makes it a k)."""
    assert "invalid annotation keys" in refused(annotations={"\u212a": "v"})


def test_annotations_total_size_in_bytes():
    limit = apirules.MAX_ANNOTATIONS_BYTES
    fits = {f"k{i:02}": "x" * (limit // 40 - 3) for i in range(40)}
    assert sum(len(k) + len(v) for k, v in fits.items()) <= limit
    assert spec(annotations=fits).annotations == fits
    # the same number of characters, but two bytes each: over the limit
    doubled = {k: "\u00e9" * len(v) for k, v in fits.items()}
    assert refused(annotations=doubled) == f"spec.annotations: {apirules.ANNOTATIONS_SIZE['message']}"


def test_annotation_value_size():
    assert spec(annotations={"k": "x" * 4096}).annotations["k"] == "x" * 4096
    assert "at most 4096 characters" in refused(annotations={"k": "x" * 4097})


def test_worst_case_namespace_annotations_fit_the_api_servers_limit():
    """spec.annotations at their limit plus everything devns adds (50 owners with the longest names in 4-byte
    characters, purpose, contact, ...) stay within the API server's 256 KiB for a namespace's annotations."""
    owners = [{"kind": "Group", "name": "\U0001f600" * 253} for _ in range(50)]  # 56 KiB in devns.io/owner
    big = {f"example.com/k{i:02}": "x" * (apirules.MAX_ANNOTATIONS_BYTES // 64 - 16) for i in range(64)}
    s = DevNamespaceSpec.model_validate({
        "owners": owners, "annotations": big, "team": "t" * 63, "purpose": "\U0001f600" * 1024,
        "contact": "\U0001f600" * 256, "ttl": "5199w6d23h59m59s"})
    ref = DevNamespaceRef("n" * 63, "0b6e8f8e-6c55-4b8a-9b1a-0123456789ab", dt.datetime(2026, 1, 1, tzinfo=UTC))
    ns = render(ref, s, Settings(), namespace="n" * 63, expires_at=dt.datetime(2126, 1, 1, tzinfo=UTC)).namespace
    annotations = ns["metadata"]["annotations"]
    assert len(annotations[ANN_OWNER]) > 10_000
    proof_and_requester = 2 * 1024  # added beside the rendered ones: an HMAC and a user name, with their keys
    assert sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items()) + proof_and_requester <= 256 * 1024


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


# -- quota and limit resource names, as ValidateResourceQuotaResourceName and ValidateContainerResourceName --------

GOOD_QUOTA_NAMES = [*apirules.QUOTA_RESOURCES, "hugepages-2Mi", "requests.hugepages-1Gi", "hugepages-x",
                    "count/deployments.apps", "count/pods", "nvidia.com/gpu", "requests.nvidia.com/gpu",
                    "gold.storageclass.storage.k8s.io/requests.storage", "example.com/Foo_Bar",
                    "kubernetes.io/whatever", "a" * 253 + "/b"]
BAD_QUOTA_NAMES = ["storage", "Requests.cpu", "gpu", "hugepages-", "requests.hugepages-", "a/b/c", "/x", "-a/b",
                   "Example.com/x", "nvidia.com/", "cpu ", "a" * 254 + "/b", "limits.storage", "count"]


@pytest.mark.parametrize("name", GOOD_QUOTA_NAMES)
def test_quota_resource_names_accepted(name):
    assert spec(quota={name: "1"}).quota == {name: "1"}


@pytest.mark.parametrize("name", BAD_QUOTA_NAMES)
def test_invalid_quota_resource_names_refused_and_named(name):
    expected = f"spec.quota: invalid quota resource names {name}: {apirules.QUOTA_KEYS.allowed}"
    assert refused(quota={name: "1"}) == expected


@pytest.mark.parametrize("name, value", [
    ("pods", "10"), ("pods", 10), ("pods", "0"), ("services", "999999999999999"), ("count/pods", "3"),
    ("nvidia.com/gpu", 2), ("requests.nvidia.com/gpu", "1.5"), ("cpu", "500m"), ("requests.memory", "1.5Gi"),
    ("hugepages-2Mi", "1.5"), ("example.com/" + "a" * 63, 1),
    ("a" * 245 + "/b", "1.5"),  # requests.<this> is not a qualified name: not an extended resource, not a count
])
def test_quota_counts_accepted(name, value):
    assert spec(quota={name: value}).quota == {name: value}


@pytest.mark.parametrize("name, value", [
    ("pods", "500m"), ("pods", "1.5"), ("pods", "1k"), ("secrets", "1e3"), ("services", "9999999999999999"),
    ("pods", 9999999999999999), ("count/pods", "1.5"), ("nvidia.com/gpu", "500m"), ("a" * 244 + "/b", "1.5"),
])
def test_quota_counts_must_be_whole_numbers(name, value):
    """The API server refuses a fractional count ("must be an integer") and, past 15 digits, overflows and refuses
    it too: the quota would fail after the namespace was created."""
    assert refused(quota={name: value}) == f"spec.quota: {apirules.QUOTA_COUNTS['message']}"


GOOD_CONTAINER_NAMES = ["cpu", "memory", "ephemeral-storage", "hugepages-2Mi", "hugepages-1Gi", "nvidia.com/gpu",
                        "example.com/Foo_Bar", "kubernetes.io/x", "foo.kubernetes.io/x", "a" * 244 + "/b"]
BAD_CONTAINER_NAMES = ["requests.cpu", "limits.memory", "pods", "storage", "gpu", "requests.nvidia.com/gpu",
                       "hugepages-", "a/b/c", "Example.com/x", "a" * 245 + "/b", "requests.hugepages-2Mi"]


@pytest.mark.parametrize("field", ["default", "defaultRequest", "max", "min"])
@pytest.mark.parametrize("name", GOOD_CONTAINER_NAMES)
def test_container_resource_names_accepted(field, name):
    assert spec(limits={field: {name: "1"}}).limits.model_dump(by_alias=True)[field] == {name: "1"}


@pytest.mark.parametrize("field", ["default", "defaultRequest", "max", "min"])
@pytest.mark.parametrize("name", BAD_CONTAINER_NAMES)
def test_invalid_container_resource_names_refused_and_named(field, name):
    assert refused(limits={field: {name: "1"}}) == (f"spec.limits.{field}: invalid container resource names {name}: "
                                                    f"{apirules.CONTAINER_KEYS.allowed}")


@pytest.mark.parametrize("name, default, default_request", [
    ("nvidia.com/gpu", "2", "1"), ("hugepages-2Mi", "4Mi", "2Mi"), ("example.com/x", "1", "1001m"),
])
def test_resources_without_overcommit_need_default_equal_to_default_request(name, default, default_request):
    msg = refused(limits={"default": {name: default}, "defaultRequest": {name: default_request}})
    assert msg == f"spec.limits: {models._NO_OVERCOMMIT['message']}"


@pytest.mark.parametrize("name, default, default_request", [
    ("nvidia.com/gpu", "2", 2), ("hugepages-2Mi", "2Mi", "2097152"), ("cpu", "2", "1"),
    ("kubernetes.io/x", "2", "1"), ("example.com/x", "1.0000000001", "1.0000000002"),  # equal rounded up to nano
    ("example.com/x", "8Ei", "9Ei"),  # binary quantities cap at 2^63-1 in the API server
])
def test_overcommit_allowed_or_equal(name, default, default_request):
    assert spec(limits={"default": {name: default}, "defaultRequest": {name: default_request}}).limits is not None


def test_bad_quantity_message_names_the_path():
    assert refused(quota={"pods": "lots"}).startswith("spec.quota.pods: invalid quantity 'lots'")


@pytest.mark.parametrize("value", ["10", 10, "500m", "1.5Gi", "1e3", "1e99", "1e-99", "5.", ".5"])
def test_good_quantities_kept_as_written(value):
    assert spec(quota={"requests.cpu": value}).quota == {"requests.cpu": value}


@pytest.mark.parametrize("value", ["1e100", "1e-100", "1" * 65, -1, "-1"])
def test_quantities_the_api_server_could_not_parse_refused(value):
    """Exponents are two digits at most (the API server refuses those past int32 when it parses the quota)."""
    assert refused(quota={"requests.cpu": value}).startswith("spec.quota.requests.cpu: invalid quantity")


def test_limits_compared_exactly_beyond_28_digits():
    """Compared with decimal's default 28 digits, 1.0000000000000000000000000000001 would equal 1 and the operator
    would send a LimitRange the API server refuses (defaultRequest > default): half-built."""
    assert parse_quantity("1.0000000000000000000000000000001") > parse_quantity("1")


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


RFC3339_MESSAGE = ("spec.expiresAt: expiresAt must be an RFC 3339 time with a UTC offset, e.g. 2026-12-01T18:00:00Z "
                   "or 2026-12-01T20:00:00+02:00")


@pytest.mark.parametrize("value", ["2026-12-01T18:00:00", "2026-12-01T18:00:00+24:00", "2026-12-01T18:00:00+05:60",
                                   "2026-12-01 18:00:00Z", "2026-12-01t18:00:00z", "2026-12-01T18:00:00x5Z",
                                   "2026-12-01T18:00Z", "2026-12-01T18:00:00+0200"])
def test_expires_at_must_be_rfc3339_with_offset(value):
    """The API server's date-time format takes +24:00 (no datetime can hold it): the schema's pattern does not."""
    assert refused(expiresAt=value) == RFC3339_MESSAGE


def test_naive_datetime_object_refused():
    assert refused(expiresAt=dt.datetime(2026, 12, 1)) == "spec.expiresAt: expiresAt needs a UTC offset (Z or +HH:MM)"


@pytest.mark.parametrize("value", ["9999-12-31T23:00:00-02:00", "0001-01-01T00:00:00+01:00", "1969-12-31T23:59:59Z",
                                   "9999-01-01T00:00:00Z"])
def test_expires_at_out_of_range_refused(value):
    """9999-12-31T23:00:00-02:00 used to raise OverflowError (not a ValidationError) out of the model: the
    operator's reconcile crashed and retried forever instead of reporting Failed."""
    assert refused(expiresAt=value) == ("spec.expiresAt: expiresAt must be from 1970-01-01T00:00:00Z and before "
                                        "9999-01-01T00:00:00Z")


@pytest.mark.parametrize("value", ["1970-01-01T00:00:00Z", "9998-12-31T23:59:59.999999Z",
                                   "2026-12-01T18:00:00.123456789Z", "2026-12-01T18:00:00-23:59"])
def test_expires_at_edges_accepted(value):
    assert spec(expiresAt=value).expires_at.tzinfo is not None


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
        DevNamespaceStatus.model_validate({"phase": "Hibernating"})
