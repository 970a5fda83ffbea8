"""Network trust cannot be squatted (issue 13, section 3): ``spec.network.allowFromNamespaces`` admits ingress only
from namespaces that exist and that the DevNamespace's owners control (another provisioned DevNamespace sharing an
owner, or a namespace the platform trusts: ``trusted-*`` in the session operator's settings). Each test performs
the attack and asserts it fails. The listing DevNamespace is never edited to pick up a change of its sources (the
first test edits it once, to show that a re-judgement does not grant a plain namespace either)."""

from __future__ import annotations

import time

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

from support import gone, resume_expectations, unique, wait_resumed
from testkit.audit import AuditLog, describe_writes
from testkit.operator_process import OPERATOR_USER
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")
POLICY = "devns-allow-from-namespaces"
NOT_EXIST = "does not exist"
NO_SHARED_OWNER = "managed by a DevNamespace that shares no owner with this one"
NOT_DEVNS = "not a devns namespace and not trusted by the platform"
FAST = 10  # seconds: "within seconds", without any edit of the listing DevNamespace


@pytest.fixture(scope="module")
def net(api):
    return kubernetes.client.NetworkingV1Api(api)


def user(name: str) -> dict:
    return {"kind": "User", "name": f"{name}@example.com"}


def allowed(net, namespace: str) -> list[str] | None:
    """The namespaces devns's allow-from policy admits, or None when there is no such policy."""
    try:
        policy = net.read_namespaced_network_policy(POLICY, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return policy.spec.ingress[0]._from[0].namespace_selector.match_expressions[0].values


def verdict(dns, name: str) -> tuple[str | None, str, list | None]:
    """(status, message) of the SourcesTrusted condition and status.trustedSources."""
    obj = dns.get(name)
    cond = next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == "SourcesTrusted"), {})
    return cond.get("status"), cond.get("message", ""), (obj.get("status") or {}).get("trustedSources")


def wait_refused(dns, net, listener: str, source: str, why: str) -> None:
    wait_for(lambda: verdict(dns, listener)[0] == "False" and f"{source}: {why}" in verdict(dns, listener)[1],
             timeout=FAST, what=f"{listener} refusing {source} ({why}): {verdict(dns, listener)}")
    assert source not in (allowed(net, listener) or [])
    assert source not in verdict(dns, listener)[2]


def wait_granted(dns, net, listener: str, source: str) -> None:
    wait_for(lambda: source in (allowed(net, listener) or []), timeout=FAST, what=f"{listener} admitting {source}")
    wait_for(lambda: source in (verdict(dns, listener)[2] or []), timeout=FAST, what="status.trustedSources")


def delete_all(dns, *names: str) -> None:
    for name in names:
        try:
            dns.delete(name)
        except ApiException as exc:
            if exc.status != 404:
                raise
    for name in names:
        wait_for(lambda: gone(lambda: dns.get(name)), timeout=60, what=f"{name} deleted")


def test_a_name_alone_never_earns_trust_and_trust_follows_the_owners(dns, net):
    alice, mallory = user(unique("alice")), user(unique("mallory"))
    x, listener = unique("squat"), unique("listener")
    dns.create(listener, owners=[alice], network={"allowFromNamespaces": [x]})
    try:
        dns.wait_phase(listener, "Ready")
        generation = dns.get(listener)["metadata"]["generation"]
        # listed before it exists: nothing is admitted, and the condition says why
        wait_refused(dns, net, listener, x, NOT_EXIST)
        assert allowed(net, listener) is None and verdict(dns, listener)[2] == []
        dns.wait_event(listener, "UntrustedSources", "Warning")

        # someone else creates a plain namespace of that name: still nothing
        dns.core.create_namespace({"metadata": {"name": x}})
        dns.patch(listener, {"purpose": "re-judge now"})  # a re-judgement must not grant it either
        generation += 1
        wait_refused(dns, net, listener, x, NOT_DEVNS)
        dns.core.delete_namespace(x)
        wait_for(lambda: gone(lambda: dns.core.read_namespace(x)), timeout=60, what="plain namespace gone")

        # a DevNamespace of another owner takes the name: refused, with the reason
        dns.create(x, owners=[mallory])
        dns.wait_phase(x, "Ready")
        wait_refused(dns, net, listener, x, NO_SHARED_OWNER)

        # it changes hands to share an owner: trusted within seconds, no edit of the listener
        dns.patch(x, {"owners": [mallory, alice]})
        wait_granted(dns, net, listener, x)
        assert verdict(dns, listener)[0] == "True" and allowed(net, listener) == [x]
        dns.wait_event(listener, "SourcesTrusted", "Normal")

        # its owners change to someone else: withdrawn
        dns.patch(x, {"owners": [mallory]})
        wait_refused(dns, net, listener, x, NO_SHARED_OWNER)
        wait_for(lambda: allowed(net, listener) is None, timeout=FAST, what="allow-from policy removed")

        # back to a shared owner, then deleted: withdrawn again
        dns.patch(x, {"owners": [alice]})
        wait_granted(dns, net, listener, x)
        dns.delete(x)
        wait_for(lambda: allowed(net, listener) is None, timeout=FAST, what="trust withdrawn on deletion")
        wait_for(lambda: gone(lambda: dns.get(x)), timeout=60, what="source DevNamespace gone")
        wait_refused(dns, net, listener, x, NOT_EXIST)
        assert dns.get(listener)["metadata"]["generation"] == generation  # never edited to follow its source
    finally:
        delete_all(dns, listener, x)


def test_a_source_of_the_same_owner_is_trusted_as_soon_as_it_is_ready(dns, net):
    bob = user(unique("bob"))
    source, listener = unique("src"), unique("listener")
    dns.create(listener, owners=[bob], network={"allowFromNamespaces": [f"{source}-ns"]})
    try:
        dns.wait_phase(listener, "Ready")
        wait_refused(dns, net, listener, f"{source}-ns", NOT_EXIST)
        dns.create(source, owners=[{"kind": "Group", "name": "other-team"}, bob], namespace=f"{source}-ns")
        wait_granted(dns, net, listener, f"{source}-ns")
        assert verdict(dns, listener)[0] == "True"
    finally:
        delete_all(dns, listener, source)


def test_only_namespaces_the_platform_trusts_are_admitted_by_name(dns, net):
    carol, dave = user(unique("carol")), user(unique("dave"))
    platform, lookalike, listener = unique("trusted-plain"), unique("trusted-devns"), unique("listener")
    dns.core.create_namespace({"metadata": {"name": platform}})
    dns.create(lookalike, owners=[dave])  # matches trusted-* but a DevNamespace holds it: judged by its owners
    dns.wait_phase(lookalike, "Ready")
    dns.create(listener, owners=[carol], network={"allowFromNamespaces": [platform, lookalike]})
    try:
        dns.wait_phase(listener, "Ready")
        wait_granted(dns, net, listener, platform)
        wait_refused(dns, net, listener, lookalike, NO_SHARED_OWNER)
        assert allowed(net, listener) == [platform]
    finally:
        delete_all(dns, listener, lookalike)
        dns.core.delete_namespace(platform)


def test_drift_restores_exactly_the_trusted_sources_without_flapping(dns, net, cluster):
    erin = user(unique("erin"))
    source, listener = unique("src"), unique("listener")
    dns.create(source, owners=[erin])
    dns.create(listener, owners=[erin], network={"allowFromNamespaces": [source, unique("absent")]})
    try:
        dns.wait_phase(source, "Ready")
        wait_granted(dns, net, listener, source)
        net.patch_namespaced_network_policy(POLICY, listener, {"spec": {"ingress": [{"from": [{"namespaceSelector": {
            "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                                  "values": [source, "evil"]}]}}]}]}})
        wait_for(lambda: allowed(net, listener) == [source], timeout=FAST, what="allow-from policy restored")
        audit = AuditLog(cluster.audit_log)
        mark = audit.mark()
        time.sleep(3)  # a measurement window: provisioning and drift render the same list, so nothing flips
        writes = audit.writes(mark, OPERATOR_USER, touching={listener, source})
        assert writes == [], describe_writes(writes)
    finally:
        delete_all(dns, listener, source)


def test_trust_judgements_cost_no_write_when_idle_or_on_restart(dns, net, operator, cluster):
    frank = user(unique("frank"))
    source, platform = unique("src"), unique("trusted-idle")
    granted, refused = unique("granted"), unique("refused")
    dns.core.create_namespace({"metadata": {"name": platform}})
    dns.create(source, owners=[frank])
    dns.create(granted, owners=[frank], network={"allowFromNamespaces": [source, platform]})
    dns.create(refused, owners=[user(unique("grace"))], network={"allowFromNamespaces": [source, unique("none")]})
    names = {source, granted, refused}
    try:
        for name in names:
            dns.wait_phase(name, "Ready")
        wait_granted(dns, net, granted, source)
        wait_refused(dns, net, refused, source, NO_SHARED_OWNER)
        for name in names:
            wait_for(lambda: "last-handled-configuration" in (dns.get(name)["status"].get("kopf") or {}),
                     what="Kopf's bookkeeping written")
        dns.wait_event(refused, "UntrustedSources", "Warning")
        audit = AuditLog(cluster.audit_log)
        settled = audit.mark()
        time.sleep(5)
        assert audit.writes(settled, OPERATOR_USER, touching=names) == []

        live, expected, either = resume_expectations(dns)
        assert names <= expected
        mark = audit.mark()
        operator.restart()
        wait_resumed(operator, live, expected, either)
        writes = audit.writes(mark, OPERATOR_USER, touching=names)
        assert writes == [], describe_writes(writes)
        assert allowed(net, granted) == sorted([source, platform]) and allowed(net, refused) is None
    finally:
        delete_all(dns, granted, refused, source)
        dns.core.delete_namespace(platform)
