"""Self-service DevNamespaces (manifests/optional/self-service) on the real control plane: what admission allows.

The component's ValidatingAdmissionPolicy lets developers create, change and delete only DevNamespaces they own,
within the limits of its ConfigMap (14d, quota maxima, roles edit/view, no privileged Pod Security, names that
start with the requester's name or team: alice's start with alice-); devns admins are exempt. (Attacks on its
newer rules, cluster view, label allow-lists and names, are in test_attacks_admission.py.) The component is applied
for this module only and removed afterwards, RBAC grant included, so other modules see the cluster as before. The
session's operator runs (it holds the finalizer of every DevNamespace) and reconciles the objects created here:
they have unique names and are deleted at the end.
"""

from __future__ import annotations

import datetime as dt

import pytest

from self_service_support import ALICE, BOB, As, refused
from support import error_of, gone, status_of, unique
from testkit.waiting import wait_for

#: One limit broken at a time (on top of self_service_support.ALLOWED), and the message that names it.
VIOLATIONS = {
    "owners-without-requester": ({"owners": [{"kind": "User", "name": BOB}]},
                                 "spec.owners must include you (User alice@example.com, or a Group you are a "
                                 "member of)"),
    "ttl-30d": ({"ttl": "30d"}, "ttl 30d is longer than the self-service maximum of 14d"),
    "ttl-never": ({"ttl": "never"}, "ttl never is not allowed in self-service: the maximum is 14d"),
    "quota-cpu-16": ({"quota": {"requests.cpu": "16"}},
                     "quota requests.cpu 16 is more than the self-service maximum of 4"),
    "quota-pods-500": ({"quota": {"pods": 500}}, "quota pods 500 is more than the self-service maximum of 50"),
    "role-admin": ({"role": "admin"}, "role admin is not allowed in self-service (allowed: edit, view)"),
    "pod-security-privileged": ({"podSecurity": "privileged"},
                                "podSecurity privileged is not allowed in self-service (allowed: restricted, "
                                "baseline)"),
}


# -- fixtures (self_service and created: conftest.py) ---------------------------------------------------------------

@pytest.fixture(scope="module")
def alice(self_service, kubeconfig, created) -> As:
    return As(kubeconfig, created, user=ALICE)


@pytest.fixture(scope="module")
def bob(self_service, kubeconfig, created) -> As:
    return As(kubeconfig, created, user=BOB)


@pytest.fixture(scope="module")
def devns_admin(self_service, kubeconfig, created) -> As:
    """A member of the default admin group, devns:admins (no other privilege: RBAC from the component)."""
    return As(kubeconfig, created, user="carol@example.com", groups=("devns:admins",))


# -- developers -----------------------------------------------------------------------------------------------------

def test_a_developer_creates_a_devnamespace_for_herself(alice):
    name = unique("alice-ss")
    obj = alice.create(name)
    assert obj["spec"]["owners"] == [{"kind": "User", "name": ALICE}] and obj["spec"]["ttl"] == "7d"
    assert alice.get(name)["spec"]["quota"] == {"requests.cpu": "2"}


@pytest.mark.parametrize("spec, message", VIOLATIONS.values(), ids=VIOLATIONS.keys())
def test_each_limit_is_refused_with_a_message_naming_it(alice, spec, message):
    name = unique("alice-bad")
    refused(lambda: alice.create(name, **spec), message)
    assert status_of(lambda: alice.get(name)) == 404


def test_self_service_devnamespaces_must_expire(alice):
    refused(lambda: alice.create(unique("alice-forever"), ttl=None),
            "self-service DevNamespaces must expire: set spec.ttl (at most 14d) or spec.expiresAt")
    too_late = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
    refused(lambda: alice.create(unique("alice-late"), ttl=None, expiresAt=too_late),
            f"expiresAt {too_late} is later than the self-service maximum of 14d after creation")
    soon = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=13)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert status_of(lambda: alice.create(unique("alice-soon"), dry_run=True, ttl=None, expiresAt=soon)) == 200


def test_multi_unit_ttls_are_summed(alice):
    assert status_of(lambda: alice.create(unique("alice-14d"), dry_run=True, ttl="1w6d23h60m")) == 200
    refused(lambda: alice.create(unique("alice-14d1s"), ttl="1w7d1s"),
            "ttl 1w7d1s is longer than the self-service maximum of 14d")


def test_quota_resources_without_a_maximum_are_refused(alice):
    """`cpu` is the ResourceQuota alias of requests.cpu: without this rule it would bypass the maximum."""
    refused(lambda: alice.create(unique("alice-alias"), quota={"cpu": "64"}),
            "quota cpu: no self-service maximum, cannot be set in self-service")


def test_a_group_owner_counts_but_system_groups_do_not(kubeconfig, created, self_service, alice):
    team = As(kubeconfig, created, user=ALICE, groups=("team-a",))
    assert team.create(unique("team-a-ss"), owners=[{"kind": "Group", "name": "team-a"}])
    # A system: group is no owner for anyone: the CRD refuses it before the policy looks (issue 13).
    exc = error_of(lambda: alice.create(unique("alice-everyone"),
                                        owners=[{"kind": "Group", "name": "system:authenticated"}]))
    assert exc.status == 422 and "system:" in exc.message, (exc.status, exc.message)


def test_updates_are_held_to_the_same_limits(alice):
    name = unique("alice-upd")
    alice.create(name)
    refused(lambda: alice.patch(name, {"ttl": "30d"}), "ttl 30d is longer than the self-service maximum of 14d")
    refused(lambda: alice.patch(name, {"quota": {"pods": 500}}),
            "quota pods 500 is more than the self-service maximum of 50")
    refused(lambda: alice.patch(name, {"owners": [{"kind": "User", "name": BOB}]}), "spec.owners must include you")
    assert alice.patch(name, {"ttl": "14d", "purpose": "demo"})["spec"]["ttl"] == "14d"


def test_only_owners_may_change_or_delete_a_devnamespace(alice, bob):
    name = unique("alice-mine")
    alice.create(name)
    refused(lambda: bob.patch(name, {"owners": [{"kind": "User", "name": BOB}]}),
            f"{BOB} is not an owner of DevNamespace {name}: only its owners or a devns admin may change it")
    refused(lambda: bob.delete(name),
            f"{BOB} is not an owner of DevNamespace {name}: only its owners or a devns admin may delete it")
    alice.delete(name)


def test_an_owner_may_edit_around_limits_an_admin_granted(alice, devns_admin):
    """Unchanged values are not re-checked on update: an admin's exception stays, the owner cannot raise it."""
    name = unique("ss-granted")
    devns_admin.create(name, ttl="30d", quota={"requests.cpu": "16"})
    assert alice.patch(name, {"purpose": "load test"})["spec"]["ttl"] == "30d"
    refused(lambda: alice.patch(name, {"quota": {"requests.cpu": "32"}}),
            "quota requests.cpu 32 is more than the self-service maximum of 4")


# -- admins ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [v[0] for v in VIOLATIONS.values()], ids=VIOLATIONS.keys())
def test_devns_admins_are_exempt(devns_admin, spec):
    name = unique("ss-admin")
    obj = devns_admin.create(name, **spec)
    assert {k: obj["spec"][k] for k in spec} == spec
    devns_admin.patch(name, {"ttl": "never" if spec.get("ttl") != "never" else "30d"})
    devns_admin.delete(name)


# -- a limit per developer ------------------------------------------------------------------------------------------

DAVE = "dave@example.com"
LIMIT = 5  # maxPerRequester in self-service-limits.yaml


def test_a_developer_has_at_most_max_per_requester_live_devnamespaces(self_service, kubeconfig, created, dns):
    """The sixth DevNamespace waits (Failed, OverLimit, nothing created) and is provisioned by itself when one of
    the first five is deleted. A ServiceAccount of one of dave's namespaces counts as dave. Six created in a
    burst (the same second: the API keeps creation times in whole seconds) are judged first come, first served:
    exactly five get the room, whichever order the operator judges them in."""
    dave = As(kubeconfig, created, user=DAVE)
    owner = {"owners": [{"kind": "User", "name": DAVE}]}
    made = [unique("dave") for _ in range(LIMIT + 1)]
    for name in made:
        obj = dave.create(name, **owner)
        assert obj["metadata"]["annotations"]["devns.io/requester"] == DAVE
        assert obj["metadata"]["annotations"]["devns.io/max-per-requester"] == str(LIMIT)

    def judged() -> dict | None:
        phases = {n: (dns.get(n).get("status") or {}).get("phase") for n in made}
        return phases if all(p in ("Ready", "Failed") for p in phases.values()) else None

    phases = wait_for(judged, timeout=60, what="all six judged")
    names = sorted(made, key=lambda n: phases[n] != "Ready")  # the five Ready first
    assert [phases[n] for n in names] == ["Ready"] * LIMIT + ["Failed"], phases
    for name in names[:LIMIT]:
        dns.wait_phase(name, "Ready")
    extra = names[LIMIT]
    dns.wait_phase(extra, "Failed")
    condition = dns.condition(extra)
    assert condition["reason"] == "OverLimit" and f"already has {LIMIT} live DevNamespaces" in condition["message"]
    assert gone(lambda: dns.core.read_namespace(extra)), "nothing is created for a DevNamespace over the limit"

    # One of dave's own ServiceAccounts asks too: it counts as dave, so it waits as well.
    sa_namespace = names[1]
    robot = As(kubeconfig, created, user=f"system:serviceaccount:{sa_namespace}:bot")
    by_robot = unique(f"{sa_namespace}-bot")
    obj = robot.create(by_robot, owners=[{"kind": "ServiceAccount", "name": "bot", "namespace": sa_namespace}])
    assert obj["metadata"]["annotations"]["devns.io/requester"] == f"system:serviceaccount:{sa_namespace}:bot"
    dns.wait_phase(by_robot, "Failed")
    assert dns.condition(by_robot)["reason"] == "OverLimit"

    # Room for one: the oldest waiting one goes first, by creation time (whole seconds) and then by name.
    first, second = sorted((extra, by_robot), key=lambda n: (dns.get(n)["metadata"]["creationTimestamp"], n))
    dave.delete(names[0])
    dns.wait_phase(first, "Ready", timeout=60)
    assert dns.get(second)["status"]["phase"] == "Failed" and dns.condition(second)["reason"] == "OverLimit"
    assert gone(lambda: dns.core.read_namespace(second))
    requester = DAVE if first == extra else f"system:serviceaccount:{sa_namespace}:bot"
    assert dns.core.read_namespace(first).metadata.annotations["devns.io/requester"] == requester
