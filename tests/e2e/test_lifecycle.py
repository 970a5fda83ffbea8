"""TTL lifecycle on the real control plane with second-scale TTLs: expiry, warnings, extension, orphans, dry-run,
retention and bad input. The operator runs with an 8 s warning lead and 6 s retention (see OPERATOR_ENV in
conftest). There is no periodic orphan sweep: the operator's namespace watch finds orphans, in its initial listing
after a start (a DevNamespace deleted while the operator was down) and when a namespace changes (a look-alike
created, the garbage collector removing an ownerReference)."""

from __future__ import annotations

import datetime as dt

import pytest

from devns.units import parse_time
from support import error_of, events, gone, operator_with, unique
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")


def test_expired_namespace_and_contents_are_deleted_then_the_devnamespace(dns, operator):
    name = unique("ttl")
    dns.create(name, ttl="5s")
    obj = dns.wait_phase(name, "Ready")
    dns.core.create_namespaced_config_map(name, {"metadata": {"name": "data"}, "data": {"k": "v"}})
    expires = parse_time(obj["status"]["expiresAt"])
    assert expires == parse_time(obj["metadata"]["creationTimestamp"]) + dt.timedelta(seconds=5)
    before = operator.metric("devns_expiry_deletions_total", {"dry_run": "false"}) or 0

    dns.wait_phase(name, "Expired", timeout=30)
    wait_for(lambda: gone(lambda: dns.core.read_namespace(name)), timeout=60, what="expired namespace gone")
    expired = wait_for(lambda: events(dns, name, "Expired"), what="Expired event")
    assert len(expired) == 1 and "everything in it deleted" in expired[0].message
    # deletion started within seconds of the deadline (Event timestamps have one-second resolution)
    started = expired[0].first_timestamp or expired[0].event_time
    assert dt.timedelta(0) <= started - expires <= dt.timedelta(seconds=5)
    assert operator.metric("devns_expiry_deletions_total", {"dry_run": "false"}) == before + 1
    # retention (6 s here) lets `kubectl get devnamespaces` show the expiry for a while, then it goes
    wait_for(lambda: gone(lambda: dns.get(name)), timeout=30, what="expired DevNamespace removed")


def test_warning_is_posted_once_in_both_places_even_across_a_restart(dns, operator):
    name = unique("warn")
    dns.create(name, ttl="16s")  # the 8 s lead applies; 24h and 1h were never in the future
    dns.wait_phase(name, "Expiring", timeout=30)
    status = dns.get(name)["status"]
    assert status["warningsSent"] == ["8s"]
    expiring = dns.condition(name, "Expiring")
    assert expiring["status"] == "True" and f"expires at {status['expiresAt']}" in expiring["message"]
    in_namespace = wait_for(lambda: events(dns, name, "ExpiringSoon", namespace=name), what="namespace event")
    assert len(in_namespace) == 1 and "kubectl patch devnamespace" in in_namespace[0].message
    wait_for(lambda: events(dns, name, "ExpiringSoon"), what="ExpiringSoon event on the DevNamespace")

    operator.restart()  # a restart must not repeat a warning already sent
    dns.wait_phase(name, "Expired", timeout=30)
    on_object = [e for e in events(dns, name, "ExpiringSoon") if e.metadata.namespace != name]
    assert len(on_object) == 1 and (on_object[0].count or 1) == 1


def test_extension_prevents_deletion_and_lowering_expires_at_once(dns):
    control, extended = unique("control"), unique("extended")
    dns.create(control, ttl="6s")
    dns.create(extended, ttl="6s")
    dns.wait_phase(control, "Ready")
    dns.wait_phase(extended, "Ready")
    dns.patch(extended, {"ttl": "1h"})
    obj = dns.wait_phase(extended, "Ready")
    created = parse_time(obj["metadata"]["creationTimestamp"])
    wait_for(lambda: parse_time(dns.get(extended)["status"]["expiresAt"]) == created + dt.timedelta(hours=1),
             what="expiresAt moved")
    assert dns.core.read_namespace(extended).metadata.annotations["devns.io/ttl"] == "1h"

    wait_for(lambda: gone(lambda: dns.core.read_namespace(control)), timeout=60, what="control expired")
    assert dns.get(extended)["status"]["phase"] == "Ready"
    assert dns.core.read_namespace(extended).status.phase == "Active"

    dns.patch(extended, {"ttl": "1s"})  # lowering is allowed; the expiry is now in the past
    dns.wait_phase(extended, "Expired", timeout=30)
    wait_for(lambda: gone(lambda: dns.core.read_namespace(extended)), timeout=60, what="lowered TTL expired")


def test_never_and_no_ttl_survive(dns):
    control, never, unset = unique("control"), unique("never"), unique("unset")
    dns.create(never, ttl="never")
    dns.create(unset)  # the e2e operator's default TTL is 'none'
    dns.create(control, ttl="4s")
    for name in (never, unset, control):
        dns.wait_phase(name, "Ready")
    wait_for(lambda: gone(lambda: dns.core.read_namespace(control)), timeout=60, what="control expired")
    for name in (never, unset):
        obj = dns.get(name)
        assert obj["status"]["phase"] == "Ready" and obj["status"].get("expiresAt") is None
        assert "devns.io/expires-at" not in dns.core.read_namespace(name).metadata.annotations


def test_orphaned_namespace_is_collected_with_proof(dns, operator, api):
    name = unique("orphan")
    dns.create(name)
    dns.wait_phase(name, "Ready")
    created = dns.core.read_namespace(name).metadata
    version, key_id, mac = created.annotations["devns.io/proof"].split(":")  # v2, bound to the namespace's uid
    assert (version, len(key_id), len(mac)) == ("v2", 8, 64)

    operator.stop()  # while the operator is down, the DevNamespace goes away without its finalizer
    dns.custom.patch_cluster_custom_object("devns.io", "v1alpha1", "devnamespaces", name,
                                           {"metadata": {"finalizers": None}})
    dns.custom.delete_cluster_custom_object("devns.io", "v1alpha1", "devnamespaces", name,
                                            propagation_policy="Orphan")
    wait_for(lambda: gone(lambda: dns.get(name)), what="DevNamespace deleted")
    wait_for(lambda: not dns.core.read_namespace(name).metadata.owner_references, what="ownerReference removed")
    assert dns.core.read_namespace(name).status.phase == "Active"

    operator.start()
    wait_for(lambda: gone(lambda: dns.core.read_namespace(name)), timeout=60, what="orphan collected")
    assert operator.metric("devns_orphan_deletions_total", {"dry_run": "false"}) >= 1


def test_a_lookalike_namespace_with_copied_labels_survives(dns, operator):
    live = unique("real")
    dns.create(live)
    dns.wait_phase(live, "Ready")
    real = dns.core.read_namespace(live).metadata
    fake = unique("lookalike")
    copied = {k: v for k, v in real.annotations.items()}
    copied["devns.io/created-by"] = "deleted-devns/0b5e2d4c-0000-4000-8000-000000000000"
    dns.core.create_namespace({"metadata": {"name": fake, "labels": real.labels | {
        "kubernetes.io/metadata.name": fake}, "annotations": copied}})
    reported = wait_for(lambda: events(dns, fake, "NotManagedByDevns", namespace=fake), timeout=30,
                        what="look-alike reported")
    assert len(reported) == 1 and "no valid devns proof" in reported[0].message
    wait_for(lambda: operator.metric("devns_orphan_deletions_total", {"dry_run": "false"}) is not None,
             what="metrics up")
    assert dns.core.read_namespace(fake).status.phase == "Active"
    assert dns.core.read_namespace(fake).metadata.deletion_timestamp is None


def test_dry_run_reports_but_deletes_nothing(dns, operator):
    name = unique("dry")
    with operator_with(operator, DEVNS_DRY_RUN="true"):
        dns.create(name, ttl="3s")
        wait_for(lambda: dns.condition(name, "Expired")["reason"] == "DryRun", timeout=30, what="dry-run expiry")
        assert "would delete namespace" in dns.condition(name, "Expired")["message"]
        wait_for(lambda: events(dns, name, "WouldExpire"), what="WouldExpire event")
        assert dns.core.read_namespace(name).status.phase == "Active"
        assert operator.metric("devns_expiry_deletions_total", {"dry_run": "true"}) >= 1
    wait_for(lambda: gone(lambda: dns.core.read_namespace(name)), timeout=60, what="deleted once not dry-run")


@pytest.mark.parametrize("spec, message", [
    ({"ttl": "abc"}, "ttl must be a positive duration"),
    ({"ttl": "-1h"}, "ttl must be a positive duration"),
    ({"ttl": "0s"}, "ttl must be a positive duration"),
    ({"ttl": "1y"}, "ttl must be a positive duration"),
    ({"expiresAt": "next tuesday"}, "spec.expiresAt"),
    ({"ttl": "1h", "expiresAt": "2030-01-01T00:00:00Z"}, "set either ttl or expiresAt, not both"),
])
def test_bad_ttls_are_refused_at_admission(dns, spec, message):
    exc = error_of(lambda: dns.create(unique("badttl"), **spec))
    assert exc.status == 422 and message in exc.message


def test_max_ttl_caps_requested_lifetimes(dns, operator):
    too_long, too_far, never, fine = (unique(p) for p in ("long", "far", "never", "fine"))
    with operator_with(operator, DEVNS_MAX_TTL="30d"):
        dns.create(too_long, ttl="60d")
        dns.create(too_far, expiresAt="2099-01-01T00:00:00+02:00")
        dns.create(never, ttl="never")
        dns.create(fine, ttl="2w")
        for name in (too_long, too_far, never):
            dns.wait_phase(name, "Failed")
            ready = dns.condition(name)
            assert ready["reason"] == "TTLTooLong" and "maxTTL" in ready["message"] and "30d" in ready["message"]
            assert gone(lambda: dns.core.read_namespace(name))
        assert "ttl 60d asks for 8w4d of lifetime" in dns.condition(too_long)["message"]
        dns.wait_phase(fine, "Ready")
