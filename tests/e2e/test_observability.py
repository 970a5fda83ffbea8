"""Metrics scraped from the running operator after real provisioning; the liveness endpoint answers."""

from __future__ import annotations

import json
import math
import urllib.request

import pytest

from support import kubectl, unique
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")


def test_metrics_follow_provisioning_and_deletion(dns, operator):
    m = operator.metric
    created = m("devns_reconciles_total", {"result": "created"}) or 0
    durations = m("devns_reconcile_duration_seconds_count") or 0
    bindings = m("devns_objects_applied_total", {"kind": "RoleBinding"}) or 0
    ready = m("devns_devnamespaces", {"phase": "Ready"}) or 0
    names = [unique("metrics") for _ in range(3)]
    for name in names:
        dns.create(name, ttl="1h")
    for name in names:
        dns.wait_phase(name, "Ready")
    wait_for(lambda: m("devns_reconciles_total", {"result": "created"}) >= created + 3, what="created counted")
    assert m("devns_reconcile_duration_seconds_count") >= durations + 3
    assert m("devns_objects_applied_total", {"kind": "RoleBinding"}) >= bindings + 3
    assert m("devns_devnamespaces", {"phase": "Ready"}) >= ready + 3
    next_expiry = wait_for(lambda: m("devns_next_expiry_seconds") if math.isfinite(
        m("devns_next_expiry_seconds")) else None, what="next expiry known")
    assert 0 < next_expiry <= 3600

    before_delete = m("devns_devnamespaces", {"phase": "Ready"})
    for name in names:
        dns.delete(name)
    wait_for(lambda: m("devns_devnamespaces", {"phase": "Ready"}) <= before_delete - 3, timeout=60,
             what="gauge follows deletions")


def test_liveness_endpoint_answers_and_says_kopf_hears_devnamespace_events(operator):
    """/healthz runs devns's probe: it would fail (and the kubelet restart the operator) if Kopf's DevNamespace
    watch were stuck while devns's own watch sees events (informer.Hearing)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{operator.health_port}/healthz", timeout=5) as resp:
        assert resp.status == 200
        assert json.loads(resp.read())["devnamespace_events"] == "hearing"


def test_kubectl_describe_shows_the_devnamespace_events(dns, binaries, kubeconfig):
    """`kubectl describe devnamespace`, the first thing a user runs, lists devns's Events (filed as describe looks
    them up for a cluster-scoped object: an empty involvedObject.namespace, the object's uid)."""
    name = unique("described")
    dns.create(name, ttl="1h")
    obj = dns.wait_phase(name, "Ready")
    [event] = dns.wait_event(name, "Provisioned")
    assert event.involved_object.namespace in (None, "") and event.involved_object.uid == obj["metadata"]["uid"]
    assert event.metadata.namespace == "default" and event.source.component == "devns"

    out = kubectl(binaries, kubeconfig, "describe", "devnamespace", name).stdout
    events = out.split("\nEvents:", 1)[1]
    assert "<none>" not in events and "Provisioned" in events and "devns" in events, out
    dns.delete(name)
