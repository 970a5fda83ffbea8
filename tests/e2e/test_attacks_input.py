"""Bad input never half-builds (issue 13, section 7), and no owner is a system: user or group (section 1).

Everything the API server would refuse later, when the operator creates the namespace and its children, is refused
at admission by the CRD schema (CEL), with a message that says what is wrong and what is allowed, for everyone,
cluster admins included (these tests run as one). The same rules hold in pydantic (devns.models), and the two
agree: a table of edge cases is put to both. Server-side dry runs: nothing is created unless a test says so.
"""

from __future__ import annotations

import json
import time

import kubernetes
import pytest
from kubernetes.client.rest import ApiException
from pydantic import ValidationError

from devns import apirules
from devns.contract import API_VERSION, KIND
from devns.models import DevNamespaceSpec, explain_validation_error
from support import GROUP, PLURAL, VERSION, error_of, gone, kubectl, unique

pytestmark = pytest.mark.usefixtures("operator")

ALICE = {"kind": "User", "name": "alice@example.com"}


def body(name: str, spec: dict) -> dict:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": {"owners": [ALICE], **spec}}


def admission(dns, spec: dict, name: str | None = None) -> str | None:
    """None when a server-side dry run of a DevNamespace with ``spec`` is admitted, else the refusal's message
    (which must be a 422 Invalid)."""
    try:
        dns.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, body(name or unique("in"), spec),
                                                dry_run="All")
        return None
    except ApiException as exc:
        assert exc.status == 422, exc.body
        return json.loads(exc.body)["message"]


def pydantic(spec: dict) -> str | None:
    try:
        DevNamespaceSpec.model_validate({"owners": [ALICE], **spec})
        return None
    except ValidationError as exc:
        return explain_validation_error(exc)


# -- section 1: no system: owner, in any position, for anyone -------------------------------------------------------

SYSTEM_NAMES = ["system:authenticated", "system:unauthenticated", "system:serviceaccounts",
                "system:serviceaccounts:kube-system", "system:anonymous", "system:masters", "system:kube-scheduler",
                "System:Masters"]


@pytest.mark.parametrize("name", SYSTEM_NAMES)
@pytest.mark.parametrize("kind", ["User", "Group"])
def test_system_owners_are_refused_at_admission_for_an_admin(dns, kind, name):
    for position in (0, 2):
        owners = [ALICE, {"kind": "Group", "name": "payments-devs"},
                  {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}]
        owners.insert(position, {"kind": kind, "name": name})
        message = admission(dns, {"owners": owners})
        assert message and f"spec.owners[{position}]" in message
        assert apirules.SYSTEM_OWNER["message"] in message


def test_system_owner_refused_by_kubectl_apply(binaries, kubeconfig, tmp_path):
    """What a cluster admin sees with ``kubectl apply`` (server-side dry run: the API server decides)."""
    name = unique("sys")
    manifest = tmp_path / "devns.yaml"
    manifest.write_text(f"apiVersion: {API_VERSION}\nkind: {KIND}\nmetadata: {{name: {name}}}\n"
                        "spec:\n  owners: [{kind: Group, name: 'system:authenticated'}]\n")
    result = kubectl(binaries, kubeconfig, "apply", "--dry-run=server", "-f", str(manifest), check=False)
    assert result.returncode != 0
    assert "owners cannot be system: users or groups" in result.stderr


def test_service_account_owners_stay_allowed(dns):
    assert admission(dns, {"owners": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}]}) is None


# -- section 7: the two reported holes are closed: refused, nothing created -----------------------------------------

@pytest.mark.parametrize("spec, message", [
    ({"owners": [{"kind": "ServiceAccount", "name": "alice@example.com", "namespace": "ci"}]},
     "a ServiceAccount owner's name must be a ServiceAccount name"),
    ({"annotations": {"not a key!": "x"}}, "invalid annotation keys"),
], ids=["service-account-name", "annotation-key"])
def test_reported_holes_are_refused_and_nothing_is_created(dns, core, spec, message):
    """Both used to pass admission: the service account owner left a namespace with its guardrails and no
    RoleBinding (Failed, half-built), the annotation key failed at the namespace POST with a raw API message."""
    name = unique("hole")
    exc = error_of(lambda: dns.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, body(name, spec)))
    assert exc.status == 422 and message in exc.message
    time.sleep(1.0)  # what the operator would have needed to create the namespace, had the object been admitted
    assert gone(lambda: dns.get(name))
    assert gone(lambda: core.read_namespace(name))


# -- each rule: refused with a message saying what is wrong and what is allowed -------------------------------------

REFUSED = [
    ({"owners": [{"kind": "ServiceAccount", "name": "Deployer", "namespace": "ci"}]},
     "spec.owners[0]", "a DNS subdomain (lowercase letters, digits, '-' and '.'"),
    ({"owners": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "CI"}]}, "spec.owners[0].namespace", ""),
    ({"owners": [{"kind": "User", "name": "u" * 254}]}, "spec.owners[0].name", "253"),
    ({"owners": [{"kind": "Group", "name": ""}]}, "spec.owners[0].name", ""),
    ({"labels": {"a/b/c": "x"}}, "spec.labels", "a label key is a name of at most 63 characters"),
    ({"labels": {"Example.com/x": "x"}}, "spec.labels", "a DNS subdomain: lowercase letters"),
    ({"labels": {"ok": "not a value"}}, "spec.labels", "label values must be empty or at most 63 characters"),
    ({"labels": {"ok": "v" * 64}}, "spec.labels.ok", "63"),
    ({"annotations": {"-bad": "x"}}, "spec.annotations", "an annotation key is a name of at most 63 characters"),
    ({"annotations": {f"k{i}": "\u00e9" * 4096 for i in range(17)}}, "spec.annotations",
     "keys and values together may take at most 131072 bytes"),
    ({"annotations": {"k": "v" * 4097}}, "spec.annotations.k", "4096"),
    ({"quota": {"storage": "10Gi"}}, "spec.quota", "use a ResourceQuota resource (cpu, memory"),
    ({"quota": {"hugepages-": "1"}}, "spec.quota", "hugepages-<size>"),
    ({"quota": {"pods": "500m"}}, "spec.quota", "must be whole numbers of at most 15 digits"),
    ({"quota": {"nvidia.com/gpu": "1.5"}}, "spec.quota", "extended resources such as nvidia.com/gpu"),
    ({"quota": {"services": "9999999999999999"}}, "spec.quota", "at most 15 digits"),
    ({"quota": {"requests.cpu": -1}}, "spec.quota.requests.cpu", "greater than or equal to 0"),
    ({"quota": {"requests.cpu": "1e100"}}, "spec.quota.requests.cpu", "should match"),
    ({"limits": {"max": {"requests.cpu": "1"}}}, "spec.limits.max", "use cpu, memory, ephemeral-storage"),
    ({"limits": {"min": {"requests.nvidia.com/gpu": "1"}}}, "spec.limits.min", "not starting with requests."),
    ({"limits": {"default": {"nvidia.com/gpu": "2"}, "defaultRequest": {"nvidia.com/gpu": "1"}}}, "spec.limits",
     "default and defaultRequest must be equal"),
    ({"network": {"allowFromNamespaces": ["Not_A_Label"]}}, "spec.network.allowFromNamespaces[0]", ""),
    ({"team": "pay ments"}, "spec.team", ""),
    ({"expiresAt": "9999-12-31T23:00:00-02:00"}, "spec.expiresAt", "expiresAt must be from 1970-01-01T00:00:00Z"),
    ({"expiresAt": "2030-01-01T00:00:00+24:00"}, "spec.expiresAt", "should match"),
]


@pytest.mark.parametrize("spec, path, text", REFUSED, ids=[f"{i}-{next(iter(s))}" for i, (s, _, _) in
                                                           enumerate(REFUSED)])
def test_bad_input_is_refused_at_admission_with_a_message(dns, spec, path, text):
    message = admission(dns, spec)
    assert message is not None, f"admitted: {spec}"
    assert f"{path}:" in message and text in message
    assert pydantic(spec) is not None, "pydantic must refuse what admission refuses"


# -- admission and pydantic agree, and what both accept the API server accepts too ----------------------------------

#: Edge cases on either side of each rule: admission (the CRD's CEL) and pydantic must give the same verdict.
AGREEMENT = [
    {"owners": [{"kind": "ServiceAccount", "name": n, "namespace": "ci"}]}
    for n in ("deployer", "ci.bot-2", "a" * 253, "ci..bot", "ci_bot", ".ci", "ci-", "system:x")
] + [
    {"owners": [{"kind": k, "name": n}]} for k in ("User", "Group")
    for n in ("systemd", "my-system:x", "SYSTEM:x", "system:", " system:masters", "\u00e9\u00e8")
] + [
    {"labels": {k: "v"}} for k in ("a" * 253 + "/" + "b" * 63, "a" * 254 + "/b", "x" * 63, "x" * 64, "a/b", "/b",
                                   "a/", "A/b", "a/B_c.d-e", "a_b/c", "\u00e9", "k\n", "1.2/3")
] + [
    {"labels": {"k": v}} for v in ("", "A", "a_b.c-d", "_a", "a_", "a b", "x" * 63)
] + [
    {"annotations": {k: "v"}} for k in ("EXAMPLE.COM/Key", "Example.com/-x", "a/b/c", "x" * 64, "\u212a", "a%b")
] + [
    {"annotations": {f"k{i:02}": "x" * (apirules.MAX_ANNOTATIONS_BYTES // 32 - 3) for i in range(32)}},
    {"annotations": {f"k{i:02}": "x" * (apirules.MAX_ANNOTATIONS_BYTES // 32 - 2) for i in range(32)}},
] + [
    {"quota": {k: "1"}} for k in ("storage", "requests.storage", "hugepages-2Mi", "requests.hugepages-1Gi",
                                  "hugepages-", "limits.hugepages-2Mi", "count/deployments.apps", "Count/x", "a/b/c",
                                  "requests.nvidia.com/gpu", "example.com/Foo_Bar", "a" * 253 + "/b",
                                  "a" * 254 + "/b", "gold.storageclass.storage.k8s.io/requests.storage")
] + [
    {"quota": {k: v}} for k, v in (("pods", "10"), ("pods", 10), ("pods", "1.5"), ("pods", "1k"), ("pods", -1),
                                   ("pods", "999999999999999"), ("pods", "9999999999999999"),
                                   ("count/pods", "1.5"), ("nvidia.com/gpu", "1"), ("nvidia.com/gpu", "500m"),
                                   ("requests.nvidia.com/gpu", "1.5"), ("a" * 244 + "/b", "1.5"),
                                   ("a" * 245 + "/b", "1.5"), ("cpu", "1e99"), ("cpu", "1e100"), ("cpu", "5."),
                                   ("cpu", ".5"), ("cpu", "1" * 64), ("cpu", "1" * 65))
] + [
    {"limits": {"max": {k: "1"}}} for k in ("cpu", "ephemeral-storage", "hugepages-2Mi", "storage", "pods",
                                            "nvidia.com/gpu", "requests.nvidia.com/gpu", "kubernetes.io/x",
                                            "foo.kubernetes.io/x", "a" * 244 + "/b", "a" * 245 + "/b")
] + [
    {"limits": {"default": {k: d}, "defaultRequest": {k: r}}}
    for k, d, r in (("nvidia.com/gpu", "2", "1"), ("nvidia.com/gpu", "2", 2), ("hugepages-2Mi", "2Mi", "2097152"),
                    ("hugepages-2Mi", "4Mi", "2Mi"), ("cpu", "2", "1"),
                    ("example.com/x", "1.0000000001", "1.0000000002"),
                    ("example.com/x", "1", "1.000000001"), ("example.com/x", "8Ei", "9Ei"))
] + [
    {"expiresAt": v} for v in ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00.123456789+05:30", "2030-01-01T00:00:00",
                               "2030-01-01T00:00:00+24:00", "2030-01-01T00:00:00-23:59", "9998-12-31T23:59:59Z",
                               "9999-12-31T23:00:00-02:00", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                               "0001-01-01T00:00:00+01:00", "2030-02-30T00:00:00Z")
]


def test_admission_and_pydantic_agree_on_edge_cases(dns):
    disagree = []
    for spec in AGREEMENT:
        at_admission, in_pydantic = admission(dns, spec), pydantic(spec)
        if (at_admission is None) != (in_pydantic is None):
            disagree.append((spec, at_admission or "admitted", in_pydantic or "accepted"))
    assert disagree == []


def test_edge_inputs_both_accept_are_built_in_full(dns, core, api):
    """The rules are not stricter than the API server where it matters: a DevNamespace using the edges of each
    rule becomes Ready, so the API server took the namespace and every child."""
    name = unique("edges")
    spec = {
        "owners": [ALICE, {"kind": "ServiceAccount", "name": "ci.bot-2", "namespace": "ci"},
                   {"kind": "Group", "name": "systemd-admins"}],
        "team": "Pay_ments.1",
        "labels": {"a" * 253 + "/" + "B" * 63: "", "example.com/X_y": "A" + "_" * 61 + "z"},
        "annotations": {"EXAMPLE.COM/Key": "\u00e9" * 4096, "x" * 63: "v"},
        "quota": {"hugepages-2Mi": "1Gi", "requests.hugepages-2Mi": "1Gi", "count/deployments.apps": "5",
                  "requests.nvidia.com/gpu": "1.5", "example.com/Foo_Bar": 3, "services": "999999999999999",
                  "requests.cpu": "1e1", "limits.cpu": "5."},
        "limits": {"default": {"nvidia.com/gpu": "1", "hugepages-2Mi": "2Mi"},
                   "defaultRequest": {"nvidia.com/gpu": 1, "hugepages-2Mi": "2097152"},
                   "max": {"foo.kubernetes.io/x": "1", "ephemeral-storage": "1Gi"}},
        "expiresAt": "2126-01-01T00:00:00.123456789-23:59",
    }
    assert pydantic(spec) is None
    dns.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, body(name, spec))
    dns.wait_phase(name, "Ready")
    assert dns.condition(name)["status"] == "True"
    ns = core.read_namespace(name)
    assert ns.metadata.annotations["EXAMPLE.COM/Key"] == "\u00e9" * 4096
    rbac = kubernetes.client.RbacAuthorizationV1Api(api)
    subjects = rbac.read_namespaced_role_binding("devns-owners-edit", name).subjects
    assert [s.name for s in subjects] == ["alice@example.com", "ci.bot-2", "systemd-admins"]
    dns.delete(name)
