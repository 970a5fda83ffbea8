"""Random DevNamespaces against the real API server with the operator running (issue 13, section 7).

hypothesis generates specs mixing valid and invalid input in every field (owners of each kind with odd names,
system: ones included; label and annotation keys and values; quota and limit resource names and quantities; ttl and
expiresAt; roles and Pod Security levels the e2e operator does not allow; reserved and foreign namespaces; network
lists; metadata names) and applies each one for real. For every example, either

- admission refuses it with a message (400/422), or
- it reaches a phase: Ready (the namespace and the owners' RoleBinding exist), Failed with a Ready=False condition
  whose message is non-empty and NOTHING created (no namespace, no child anywhere, a foreign namespace untouched),
  or Expired (an expiresAt in the past: nothing created either);
- and when admission took it, the operator's own validation (pydantic) did too: a Failed reason is a policy of the
  operator's settings, never InvalidSpec (admission and pydantic agree);
- the operator process never exits or restarts, its liveness endpoint answers, and it logs no traceback.

Deterministic: derandomized, no example database; 60 examples. Everything created is deleted and waited for.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter

import kubernetes
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes.client.rest import ApiException

from devns.contract import ANN_CREATED_BY, API_VERSION, KIND, LABEL_DEVNAMESPACE
from support import GROUP, PLURAL, VERSION, gone, unique
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")

EXAMPLES = 60
#: Why a Failed DevNamespace may fail: the operator's settings (never InvalidSpec: admission must refuse that).
POLICY_REASONS = {"RoleNotAllowed", "PrivilegedNotAllowed", "ReservedNamespace", "InvalidLimits", "NamespaceConflict",
                  "TTLTooLong"}

# -- the strategies -------------------------------------------------------------------------------------------------
# A spec is a valid one (odd but valid values in every field) with zero, one or two mutations: a field replaced by an
# invalid value, a value the e2e operator's settings refuse, or a value of the wrong type.

ODD = ["", " ", "x", "\x00", "\u00e9", "\U0001f600", "a b", "a/b", "a:b", "-x", "x-", "_x", "X", "a" * 64, "a.b",
       "a..b", "%", "'", '"', "\\", "\n"]
SYSTEM_NAMES = ["system:masters", "system:authenticated", "system:anonymous", "system:unauthenticated",
                "system:serviceaccounts", "system:serviceaccounts:ci", "system:kube-scheduler", "System:Masters"]
BAD_SA_NAMES = ["alice@example.com", "Deployer", "ci_bot", "ci..bot", "system:x", "a" * 254, *ODD]
BAD_KEYS = ["Example.com/x", "a/b/c", "/x", "x/", "devns.io/owner", "pod-security.kubernetes.io/enforce",
            "app.kubernetes.io/managed-by", "kubernetes.io/metadata.name", "a" * 254 + "/b", "x" * 64, "\u212a",
            *[o for o in ODD if o not in ("x", "X", "a.b")]]
GOOD_QUOTA = ["requests.cpu", "limits.memory", "requests.storage", "hugepages-2Mi", "requests.hugepages-2Mi",
              "requests.nvidia.com/gpu", "gold.storageclass.storage.k8s.io/requests.storage", "cpu", "memory"]
COUNTS = ["pods", "services", "secrets", "configmaps", "count/deployments.apps", "nvidia.com/gpu",
          "example.com/Foo_Bar"]
BAD_QUOTA_NAMES = ["storage", "hugepages-", "Requests.cpu", "a/b/c", "gpu", "limits.storage", *ODD[:6]]
BAD_CONTAINER_NAMES = ["requests.cpu", "pods", "storage", "requests.nvidia.com/gpu", "Example.com/x", *ODD[:6]]
QUANTITIES = ["0", "1", "10", "500m", "1.5", "1Gi", "2Mi", ".5", "5.", "1e3", "1e99", "1.0000000000000000000000000001"]
BAD_QUANTITIES = ["-1", -1, "lots", "4GB", "1e100", "1" * 65, "", "1 Gi", "0x10", 1.5, True, None]
BAD_COUNTS = ["500m", "1.5", "1k", "9999999999999999", 9999999999999999]
GOOD_EXPIRES = ["2126-01-01T00:00:00Z", "2126-01-01T00:00:00.123456789+05:30", "2126-01-01T00:00:00-23:59",
                "9998-12-31T23:59:59Z", "2126-01-01T00:00:00+00:00", "2001-01-01T00:00:00Z"]
BAD_EXPIRES = ["2126-01-01T00:00:00", "2126-01-01T00:00:00+24:00", "9999-12-31T23:00:00-02:00",
               "1969-12-31T23:59:59Z", "2126-02-30T00:00:00Z", "next tuesday", "2126-01-01 00:00:00Z", 0]

dns_label = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?\Z")
subdomain = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?){0,2}\Z")
name_part = st.from_regex(r"\A[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?\Z")
key = st.one_of(name_part, st.builds(lambda p, n: f"{p}/{n}", subdomain, name_part),
                st.sampled_from(["app.kubernetes.io/name", "a" * 253 + "/" + "b" * 63, "x" * 63]))
label_value = st.one_of(st.just(""), name_part, st.just("v" * 63))
person = st.builds(lambda kind, name: {"kind": kind, "name": name}, st.sampled_from(["User", "Group"]),
                   st.one_of(st.sampled_from(["alice@example.com", "payments-devs", "systemd", "oidc:alice",
                                              "u" * 253]),
                             st.text(min_size=1, max_size=12).filter(lambda t: not t.lower().startswith("system:"))))
service_account = st.builds(lambda name, ns: {"kind": "ServiceAccount", "name": name, "namespace": ns},
                            st.one_of(subdomain, st.just("a" * 253)), dns_label)
quota = st.dictionaries(st.sampled_from(GOOD_QUOTA), st.sampled_from(QUANTITIES), max_size=3).flatmap(
    lambda q: st.dictionaries(st.sampled_from(COUNTS), st.one_of(st.integers(0, 10 ** 6), st.just("999999999999999")),
                              max_size=2).map(lambda c: {**q, **c}))
limits = st.sampled_from([
    {"max": {"cpu": "4", "memory": "8Gi"}}, {"min": {"cpu": "10m"}}, {"max": {"hugepages-2Mi": "1Gi"}},
    {"default": {"nvidia.com/gpu": "1"}, "defaultRequest": {"nvidia.com/gpu": 1}},
    {"max": {"ephemeral-storage": "1Gi"}}, {"max": {"kubernetes.io/x": 1}},
    {"default": {"hugepages-2Mi": "2Mi"}, "defaultRequest": {"hugepages-2Mi": "2097152"}},
    {"defaultRequest": {"cpu": "200m"}, "default": {"cpu": "1"}, "max": {"cpu": "2"}}])
lifetime = st.one_of(st.fixed_dictionaries({"ttl": st.sampled_from(["1h", "90m", "7d", "2w", "never", "5199w",
                                                                    "1d12h"])}),
                     st.fixed_dictionaries({"expiresAt": st.sampled_from(GOOD_EXPIRES)}), st.just({}))

VALID = st.fixed_dictionaries({"owners": st.lists(st.one_of(person, service_account), min_size=1, max_size=3)},
                              optional={
    "team": st.from_regex(r"\A[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?\Z"),
    "purpose": st.text(max_size=30),
    "contact": st.one_of(st.text(max_size=10), st.just("\U0001f600" * 256)),
    "role": st.sampled_from(["edit", "view", "admin"]),
    "clusterView": st.booleans(),
    "podSecurity": st.sampled_from(["restricted", "baseline"]),
    "quota": quota,
    "limits": limits,
    "network": st.fixed_dictionaries({}, optional={
        "allowSameNamespace": st.booleans(), "allowDNS": st.booleans(),
        "allowFromNamespaces": st.lists(dns_label, max_size=3)}),
    "labels": st.dictionaries(key, label_value, max_size=3),
    "annotations": st.one_of(st.dictionaries(key, st.text(max_size=20), max_size=3),
                             st.just({"Example.COM/k": "\U0001f600" * 4096})),
}).flatmap(lambda spec: lifetime.map(lambda life: {**spec, **life}))


def _set(field):
    return lambda value: (field, value)


def _entry(field, names, values):
    return st.builds(lambda k, v: (field, {k: v}), names, values)


#: (field, value) pairs to merge into a valid spec ("owners+" prepends an owner, "limits.<f>" sets one limits map).
INVALID = [
    st.sampled_from(SYSTEM_NAMES).flatmap(lambda n: st.sampled_from(["User", "Group"]).map(
        lambda k: ("owners+", {"kind": k, "name": n}))),
    st.sampled_from(BAD_SA_NAMES).map(lambda n: ("owners+", {"kind": "ServiceAccount", "name": n, "namespace": "ci"})),
    st.sampled_from([{"kind": "ServiceAccount", "name": "ci"}, {"kind": "User", "name": "u", "namespace": "ci"},
                     {"kind": "Robot", "name": "r2"}, {"kind": "User", "name": ""},
                     {"kind": "Group", "name": "g" * 254},
                     {"kind": "ServiceAccount", "name": "ci", "namespace": "CI"}]).map(_set("owners+")),
    st.just(("owners", [])),
    _entry("labels", st.sampled_from(BAD_KEYS), label_value), _entry("labels", key, st.sampled_from(ODD)),
    _entry("annotations", st.sampled_from(BAD_KEYS), st.text(max_size=5)),
    st.just(("annotations", {f"example.com/k{i}": "\U0001f600" * 4096 for i in range(9)})),  # 147 KiB of UTF-8
    _entry("quota", st.sampled_from(BAD_QUOTA_NAMES), st.just("1")),
    _entry("quota", st.sampled_from(COUNTS), st.sampled_from(BAD_COUNTS)),
    _entry("quota", st.sampled_from(GOOD_QUOTA), st.sampled_from(BAD_QUANTITIES)),
    st.builds(lambda f, k: (f"limits.{f}", {k: "1"}), st.sampled_from(["default", "defaultRequest", "max", "min"]),
              st.sampled_from(BAD_CONTAINER_NAMES)),
    st.builds(lambda f, v: (f"limits.{f}", {"cpu": v}), st.sampled_from(["default", "max"]),
              st.sampled_from(BAD_QUANTITIES)),
    st.just(("limits", {"default": {"nvidia.com/gpu": "2"}, "defaultRequest": {"nvidia.com/gpu": "1"}})),
    st.sampled_from(["0s", "1y", "-1h", "abc", "", "5201w", 3600]).map(_set("ttl")),
    st.sampled_from(BAD_EXPIRES).map(_set("expiresAt")),
    st.just(("ttl+expiresAt", None)),
    st.sampled_from(["Edit", "-edit", ""]).map(_set("role")),
    st.sampled_from(["open", "Restricted"]).map(_set("podSecurity")),
    st.sampled_from(["pay ments", "-x", "x" * 64, ""]).map(_set("team")),
    st.sampled_from(["x" * 257, "x" * 1025]).map(lambda v: ("contact" if len(v) < 1000 else "purpose", v)),
    st.lists(st.sampled_from(["Bad_NS", "", "a" * 64]), min_size=1, max_size=2).map(
        lambda v: ("network", {"allowFromNamespaces": v})),
    st.sampled_from(["namespace=invalid", "name=dotted", "name=upper", "name=dotted+namespace"]).map(
        lambda v: (v, None)),
    # the wrong types, anywhere
    st.builds(lambda f, v: (f, v), st.sampled_from(["owners", "team", "quota", "labels", "network", "clusterView",
                                                    "ttl", "limits", "annotations"]),
              st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))),
]
#: Admitted, but the e2e operator's settings refuse them: Failed, nothing created.
POLICY = [
    st.sampled_from(["cluster-admin", "devns-cluster-view", "system:aggregate-to-edit"]).map(_set("role")),
    st.just(("podSecurity", "privileged")),
    st.just(("namespace=reserved", None)),
    st.just(("namespace=foreign", None)),
    st.just(("limits", {"defaultRequest": {"cpu": "2"}, "default": {"cpu": "1"}})),
    st.just(("limits", {"min": {"memory": "8Gi"}})),  # over the operator's default max of 4Gi
]
MUTATIONS = INVALID + POLICY * 2


#: Picks how many mutations and which: wide integers modulo the number of choices, drawn at the top of @given
#: (one_of, sampled_from and small integers lean on their first choices when derandomized: few mutations, the same).
WIDE = st.integers(0, 2 ** 32)


def mutations(data, count: int, kinds: tuple[int, int]) -> list:
    """0, 1 or 2 mutations (a quarter of the examples unmutated)."""
    return [data.draw(MUTATIONS[k % len(MUTATIONS)]) for k in kinds[:(0, 1, 1, 2)[count % 4]]]


def mutate(spec: dict, mutations: list, *, name: str, own_ns: str, reserved: str, foreign: str) -> tuple[str, dict]:
    """The DevNamespace's name and spec after ``mutations``."""
    spec = {**spec}
    for field, value in mutations:
        if field == "owners+":
            spec["owners"] = [value, *spec["owners"]] if isinstance(spec.get("owners"), list) else [value]
        elif field.startswith("limits."):
            current = spec["limits"] if isinstance(spec.get("limits"), dict) else {}
            spec["limits"] = {**current, field.split(".", 1)[1]: value}
        elif field == "ttl+expiresAt":
            spec.update(ttl="7d", expiresAt="2126-01-01T00:00:00Z")
        elif field.startswith("namespace="):
            spec["namespace"] = {"reserved": reserved, "foreign": foreign, "invalid": "Bad_NS"}[field.split("=")[1]]
        elif field == "name=dotted":
            name = f"{name}.x"
        elif field == "name=dotted+namespace":
            name, spec["namespace"] = f"{name}.x", own_ns
        elif field == "name=upper":
            name = name.upper()
        else:
            spec[field] = value
    return name, spec


# -- the test -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def foreign(core):
    """A namespace someone else created: a DevNamespace naming it must fail and leave it untouched."""
    name = unique("foreign")
    core.create_namespace({"metadata": {"name": name, "labels": {"team": "other"}}})
    yield name
    core.delete_namespace(name)


def children_of(api, name: str) -> list[str]:
    """Every object anywhere that says it belongs to DevNamespace ``name``."""
    selector = f"{LABEL_DEVNAMESPACE}={name}"
    core, net = kubernetes.client.CoreV1Api(api), kubernetes.client.NetworkingV1Api(api)
    rbac = kubernetes.client.RbacAuthorizationV1Api(api)
    found = []
    for kind, lister in (("Namespace", core.list_namespace),
                         ("NetworkPolicy", net.list_network_policy_for_all_namespaces),
                         ("ResourceQuota", core.list_resource_quota_for_all_namespaces),
                         ("LimitRange", core.list_limit_range_for_all_namespaces),
                         ("RoleBinding", rbac.list_role_binding_for_all_namespaces),
                         ("ClusterRoleBinding", rbac.list_cluster_role_binding)):
        found += [f"{kind}/{o.metadata.name}" for o in lister(label_selector=selector).items]
    return found


def settle(dns, name: str, past_expiry: bool) -> dict | None:
    """Wait for the current generation's phase; None if the DevNamespace is already gone (an expiresAt in the past:
    Expired, then removed after the e2e operator's 6 s retention)."""
    def check():
        try:
            obj = dns.get(name)
        except ApiException as exc:
            if exc.status == 404 and past_expiry:
                return {"gone": True}
            raise
        status = obj.get("status") or {}
        current = status.get("observedGeneration") == obj["metadata"]["generation"]
        return obj if current and status.get("phase") in ("Ready", "Failed", "Expired") else None
    obj = wait_for(check, timeout=20, what=f"DevNamespace {name} reaching a phase")
    return None if obj.get("gone") else obj


def test_random_specs_are_refused_or_reach_a_phase_and_never_half_build(dns, core, api, operator, cluster, foreign):
    proc, pid = operator.proc, operator.proc.pid
    log_start = len(operator.log_path.read_text(errors="replace"))
    foreign_version = core.read_namespace(foreign).metadata.resource_version
    run, counter, seen, created = unique("rs").split("-")[1][:4], itertools.count(), Counter(), []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(count=WIDE, kinds=st.tuples(WIDE, WIDE), valid=VALID, data=st.data())
    def example(count, kinds, valid, data):
        n = next(counter)
        name, spec = mutate(valid, mutations(data, count, kinds), name=f"rs{run}-{n}", own_ns=f"rs{run}-{n}-ns",
                            reserved=f"protected-{run}-{n}", foreign=foreign)
        namespace = spec.get("namespace") if isinstance(spec.get("namespace"), str) and spec["namespace"] else name
        body = {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": spec}
        try:
            dns.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, body)
        except ApiException as exc:
            message = json.loads(exc.body)["message"]
            assert exc.status in (400, 422), (exc.status, exc.body)  # the schema's refusal, not a policy error
            assert message.strip(), exc.body
            seen["refused"] += 1
            assert gone(lambda: core.read_namespace(namespace)) or namespace == foreign
            return
        created.append(name)
        try:
            obj = settle(dns, name, past_expiry=str(spec.get("expiresAt")).startswith("2001"))
            phase = obj["status"]["phase"] if obj else "Expired"
            seen[phase] += 1
            if phase == "Ready":
                assert core.read_namespace(namespace).metadata.annotations[ANN_CREATED_BY].startswith(f"{name}/")
                assert any(c.startswith("RoleBinding/devns-owners-") for c in children_of(api, name))
            else:
                if phase == "Failed":
                    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
                    assert ready["status"] == "False" and ready["message"].strip(), ready
                    assert ready["reason"] in POLICY_REASONS, f"admitted but the operator refused it: {ready}"
                    seen[ready["reason"]] += 1
                assert children_of(api, name) == [], "half-built"
                if namespace == foreign:
                    assert core.read_namespace(foreign).metadata.resource_version == foreign_version
                else:
                    assert gone(lambda: core.read_namespace(namespace)), f"namespace {namespace} was created"
        finally:
            try:
                dns.delete(name)
            except ApiException as exc:
                if exc.status != 404:
                    raise
        assert proc.poll() is None and operator.proc is proc and proc.pid == pid, "the operator exited"
        assert operator._get("/healthz", operator.health_port) is not None, "the liveness endpoint is down"

    try:
        example()
    finally:
        for name in created:  # the finalizer holds each until its namespace is gone
            wait_for(lambda: gone(lambda: dns.get(name)), timeout=90, what=f"DevNamespace {name} deleted")
    log = operator.log_path.read_text(errors="replace")[log_start:]
    assert "Traceback" not in log and "failed with an exception" not in log, log[-3000:]
    assert proc.poll() is None
    print(f"\n{EXAMPLES} random DevNamespaces: {dict(seen)}")
    # the mix is not degenerate: each outcome was exercised
    assert seen["refused"] >= 5 and seen["Ready"] >= 5 and seen["Failed"] >= 3, dict(seen)
