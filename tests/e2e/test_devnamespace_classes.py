"""DevNamespaceClasses on the real control plane with the operator running: tiers with their own defaults,
maxima and allow-lists; the default class; a class change reaching every namespace of the class; a class kept
while in use. Every class made here is deleted at the end (and waited for), so other modules see no class."""

from __future__ import annotations

import datetime as dt

import pytest
from kubernetes.client import CoreV1Api

from devns.units import parse_time
from class_support import create
from support import gone, kubectl, status_of, unique
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")

SANDBOX = {"defaults": {"ttl": "1d", "quota": {"requests.cpu": "1", "pods": "10"}},
           "maxima": {"ttl": "2d", "quota": {"requests.cpu": "2"}}}
TEAM = {"defaults": {"ttl": "14d", "role": "view", "quota": {"requests.cpu": "4"}},
        "maxima": {"ttl": "30d", "quota": {"requests.cpu": "8"}},
        "allowed": {"roles": ["edit", "view"], "clusterView": False}}


def hard(core: CoreV1Api, ns: str) -> dict:
    return core.read_namespaced_resource_quota("devns-quota", ns).spec.hard


def test_each_class_gives_its_values_and_the_default_applies_when_none_is_named(dns, classes, core, binaries,
                                                                                  kubeconfig):
    sandbox, team, default = unique("sandbox"), unique("team"), unique("default")
    classes.create(sandbox, SANDBOX)
    classes.create(team, TEAM)
    # Kept small: while it is the default, any DevNamespace of another module still present is of it too.
    classes.create(default, {"defaults": {"quota": {"requests.cpu": "3"}}}, default=True)
    small = create(dns, classes, "small", **{"class": sandbox})
    big = create(dns, classes, "big", **{"class": team})
    plain = create(dns, classes, "plain")
    for name in (small, big, plain):
        dns.wait_phase(name, "Ready")
    assert [hard(core, n)["requests.cpu"] for n in (small, big, plain)] == ["1", "4", "3"]
    assert hard(core, small)["pods"] == "10"
    assert [dns.get(n)["status"]["class"] for n in (small, big, plain)] == [sandbox, team, default]
    lifetime = [parse_time(dns.get(n)["status"]["expiresAt"]) - parse_time(dns.get(n)["metadata"]["creationTimestamp"])
                for n in (small, big)]
    assert lifetime == [dt.timedelta(days=1), dt.timedelta(days=14)]  # each class's default ttl
    rbac = kubectl(binaries, kubeconfig, "get", "rolebindings", "-n", big, "-o", "name").stdout
    assert "devns-owners-view" in rbac  # the class's default role
    wait_for(lambda: (classes.get(team).get("status") or {}).get("ready") == 1, what="the class's Ready count")
    assert classes.get(team)["status"]["devNamespaces"] == 1
    table = kubectl(binaries, kubeconfig, "get", "devnamespaceclasses", team).stdout
    assert table.split("\n")[0].split() == ["NAME", "DEFAULT", "DEVNAMESPACES", "READY", "AGE"], table
    assert table.split("\n")[1].split()[:3] == [team, "1", "1"], table  # DEFAULT is empty: not the default


def test_over_a_class_maximum_is_failed_by_name_and_creates_nothing(dns, classes, core):
    sandbox = unique("sandbox")
    classes.create(sandbox, SANDBOX)
    name = create(dns, classes, "greedy", **{"class": sandbox}, quota={"requests.cpu": "3"})
    dns.wait_phase(name, "Failed")
    message = dns.condition(name)["message"]
    assert f"spec.quota.requests.cpu 3 is more than class {sandbox}'s maximum of 2" in message, message
    assert status_of(lambda: core.read_namespace(name)) == 404
    missing = create(dns, classes, "orphaned", **{"class": unique("nope")})
    dns.wait_phase(missing, "Failed")
    assert dns.condition(missing)["reason"] == "ClassNotFound"


def test_changing_a_class_updates_every_namespace_of_the_class(dns, classes, core):
    sandbox = unique("sandbox")
    classes.create(sandbox, SANDBOX)
    names = [create(dns, classes, "fan", **{"class": sandbox}) for _ in range(3)]
    for name in names:
        dns.wait_phase(name, "Ready")
    changed = classes.patch(sandbox, {"spec": {"defaults": {"quota": {"requests.cpu": "2"}}}})
    for name in names:
        wait_for(lambda: hard(core, name)["requests.cpu"] == "2", what=f"{name}'s quota follows its class")
    wait_for(lambda: (classes.get(sandbox).get("status") or {}).get("observedGeneration")
             == changed["metadata"]["generation"], what="the class reports it is rolled out")


def test_a_class_in_use_is_kept_until_no_devnamespace_uses_it(dns, classes, core):
    sandbox = unique("sandbox")
    classes.create(sandbox, SANDBOX)
    name = create(dns, classes, "keeper", **{"class": sandbox})
    dns.wait_phase(name, "Ready")
    classes.delete(sandbox)
    wait_for(lambda: "is being deleted" in dns.condition(name).get("message", ""),
             what="the DevNamespace says its class is being deleted")
    assert classes.get(sandbox)["metadata"]["deletionTimestamp"]
    assert hard(core, name)["requests.cpu"] == "1" and dns.get(name)["status"]["phase"] == "Ready"
    dns.delete(name)
    wait_for(lambda: gone(lambda: classes.get(sandbox)), timeout=60, what="the class goes once unused")


def test_a_budget_keeps_the_next_one_waiting_until_room_appears(dns, classes, core):
    """perRequester count 3: the fourth DevNamespace of the same requester waits (Pending, OverBudget, nothing
    created) and is provisioned by itself when one of the three is deleted; a team's summed quota is limited too."""
    capped = unique("capped")
    classes.create(capped, {**SANDBOX, "budget": {"perRequester": {"count": 3}}})
    first = [create(dns, classes, "budget", **{"class": capped}) for _ in range(3)]
    for name in first:
        dns.wait_phase(name, "Ready")
    fourth = create(dns, classes, "budget", **{"class": capped})
    dns.wait_phase(fourth, "Pending")
    ready = dns.condition(fourth)
    assert ready["reason"] == "OverBudget", ready
    assert f"has 3 live DevNamespaces of class {capped}, its budget (budget.perRequester.count) is 3" in \
        ready["message"], ready["message"]
    assert status_of(lambda: core.read_namespace(fourth)) == 404  # nothing created
    dns.delete(first[0])
    dns.wait_phase(fourth, "Ready", timeout=60)



def test_a_team_budget_sums_the_quota_and_raising_it_lets_the_waiting_one_in(dns, classes, core):
    squad, team = unique("squad"), unique("team")
    classes.create(squad, {**SANDBOX, "budget": {"perTeam": {"requests.cpu": "2"}}})
    pair = [create(dns, classes, "team", **{"class": squad}, team=team) for _ in range(2)]  # 1 cpu each
    for name in pair:
        dns.wait_phase(name, "Ready")
    third = create(dns, classes, "team", **{"class": squad}, team=team)
    dns.wait_phase(third, "Pending")
    message = dns.condition(third)["message"]
    assert f"team {team} uses 2 requests.cpu in DevNamespaces of class {squad}; this one asks 1 more, over the " \
           "budget (budget.perTeam.requests.cpu) of 2" in message, message
    assert status_of(lambda: core.read_namespace(third)) == 404
    other = create(dns, classes, "team", **{"class": squad}, team=unique("other"))  # another team: room
    dns.wait_phase(other, "Ready")
    classes.patch(squad, {"spec": {"budget": {"perTeam": {"requests.cpu": "3"}}}})  # raised: it proceeds
    dns.wait_phase(third, "Ready", timeout=60)
