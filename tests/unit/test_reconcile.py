"""devns.reconcile, its pure parts: what the expiry timer must do now, and whether a watched object drifted.

Both run on the operator's event loop for every DevNamespace and every event of a managed object, so they must
decide without the API; the Context here has no client at all (any call would fail the test).
"""

import copy
import datetime as dt

import pytest

from devns.reconcile import Context, drifted, expiry_due
from devns.settings import Settings
from devns.units import format_time

UTC = dt.timezone.utc
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
CREATED = dt.datetime(2026, 11, 14, 10, tzinfo=UTC)
UID = "0b5c4e4e-1f2a-4d8e-9c3b-7a6d5e4f3a21"
KEY = b"k" * 32


def ctx(**settings) -> Context:
    return Context(kube=None, settings=Settings(**settings), key=KEY)


def devnamespace(status=None, deleting=False, resource_version="1", **spec) -> dict:
    meta = {"name": "alice", "uid": UID, "creationTimestamp": format_time(CREATED),
            "resourceVersion": resource_version, "generation": 1}
    if deleting:
        meta["deletionTimestamp"] = format_time(CREATED + H)
    return {"apiVersion": "devns.io/v1alpha1", "kind": "DevNamespace", "metadata": meta,
            "spec": {"owners": [{"kind": "User", "name": "alice@example.com"}], **spec}, "status": status or {}}


# -- expiry_due ---------------------------------------------------------------------------------------------------

def test_no_ttl_nothing_due_ever():
    due = expiry_due(ctx(), devnamespace(), CREATED + 400 * D)
    assert (due.action, due.next_wake, due.expires) == (None, None, None)


def test_far_from_expiry_sleeps_until_the_first_warning():
    due = expiry_due(ctx(), devnamespace(ttl="7d"), CREATED + H)
    assert (due.action, due.next_wake, due.expires) == (None, CREATED + 6 * D, CREATED + 7 * D)


def test_warning_due_at_its_moment_then_not_again():
    assert expiry_due(ctx(), devnamespace(ttl="7d"), CREATED + 6 * D).action == "warn"
    sent = devnamespace(ttl="7d", status={"phase": "Expiring", "warningsSent": ["24h"]})
    due = expiry_due(ctx(), sent, CREATED + 6 * D + H)
    assert (due.action, due.next_wake) == (None, CREATED + 7 * D - H)


def test_expired_then_retention_then_removal():
    now = CREATED + 7 * D
    due = expiry_due(ctx(), devnamespace(ttl="7d"), now)
    assert (due.action, due.next_wake, due.namespace) == ("expire", now + 24 * H, "alice")
    expired = devnamespace(ttl="7d", status={"phase": "Expired", "expiredAt": format_time(now)})
    assert expiry_due(ctx(), expired, now + H).action is None
    assert expiry_due(ctx(), expired, now + H).next_wake == now + 24 * H
    assert expiry_due(ctx(), expired, now + 24 * H).action == "remove"


def test_dry_run_expires_once_and_never_wakes_for_retention():
    due = expiry_due(ctx(dry_run=True), devnamespace(ttl="7d"), CREATED + 8 * D)
    assert (due.action, due.next_wake) == ("expire", None)


def test_extension_forgets_warnings_no_longer_due():
    extended = devnamespace(ttl="30d", status={"phase": "Expiring", "warningsSent": ["24h", "1h"]})
    due = expiry_due(ctx(), extended, CREATED + 7 * D)
    assert due.action == "rearm"
    assert due.plan.warnings_sent == ()


def test_extended_after_expiry_is_planned_again_not_removed():
    extended = devnamespace(ttl="30d", status={"phase": "Expired", "expiredAt": format_time(CREATED + 7 * D)})
    due = expiry_due(ctx(), extended, CREATED + 9 * D)
    assert (due.action, due.next_wake) == (None, CREATED + 29 * D)


@pytest.mark.parametrize("body", [devnamespace(ttl="7d", deleting=True), devnamespace(ttl="7x"),
                                  devnamespace(ttl="7d", expiresAt="2027-01-01T00:00:00Z")],
                         ids=["deleting", "invalid-ttl", "ttl-and-expiresAt"])
def test_deleting_or_invalid_waits_for_a_change(body):
    due = expiry_due(ctx(), body, CREATED + 30 * D)
    assert (due.action, due.next_wake) == (None, None)


# -- drifted ------------------------------------------------------------------------------------------------------

def desired(body) -> tuple[dict, dict[tuple[str, str], dict]]:
    """The namespace and children devns would apply for ``body``, as the API would return them (with a uid)."""
    from devns.reconcile import desired_now
    d = desired_now(ctx(), body, CREATED + H)
    as_stored = lambda o: {**copy.deepcopy(o), "metadata": {**copy.deepcopy(o["metadata"]), "uid": "x"}}  # noqa
    return as_stored(d.namespace), {(c["kind"], c["metadata"]["name"]): as_stored(c) for c in d.children}


def test_objects_in_their_declared_state_have_not_drifted():
    body = devnamespace()
    namespace, children = desired(body)
    c = ctx()
    assert drifted(c, body, "Namespace", "alice", "MODIFIED", namespace, CREATED + H) is None
    for (kind, name), obj in children.items():
        assert drifted(c, body, kind, name, "MODIFIED", obj, CREATED + H) is None, (kind, name)


def test_changed_child_is_drifted_and_the_desired_one_returned():
    body = devnamespace()
    _, children = desired(body)
    quota = children["ResourceQuota", "devns-quota"]
    quota["spec"]["hard"]["pods"] = "1000"
    want = drifted(ctx(), body, "ResourceQuota", "devns-quota", "MODIFIED", quota, CREATED + H)
    assert want is not None and want["spec"]["hard"]["pods"] != "1000"


def test_deleted_child_always_needs_a_look():
    body = devnamespace()
    want = drifted(ctx(), body, "NetworkPolicy", "devns-default-deny", "DELETED", None, CREATED + H)
    assert want is not None and want["metadata"]["name"] == "devns-default-deny"


def test_relabelled_namespace_drifted_but_not_one_without_our_proof():
    body = devnamespace()
    namespace, _ = desired(body)
    relabelled = copy.deepcopy(namespace)
    relabelled["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "privileged"
    assert drifted(ctx(), body, "Namespace", "alice", "MODIFIED", relabelled, CREATED + H) is not None
    del relabelled["metadata"]["annotations"]["devns.io/proof"]
    assert drifted(ctx(), body, "Namespace", "alice", "MODIFIED", relabelled, CREATED + H) is None


def test_objects_devns_does_not_declare_or_expired_owners_are_not_guarded():
    body = devnamespace()
    assert drifted(ctx(), body, "NetworkPolicy", "tenant-own-policy", "DELETED", None, CREATED + H) is None
    expired = devnamespace(ttl="1h", resource_version="2")
    assert drifted(ctx(), expired, "NetworkPolicy", "devns-default-deny", "DELETED", None, CREATED + 2 * H) is None


def test_desired_state_is_rendered_once_per_generation():
    from devns.reconcile import desired_now
    c = ctx()
    first = desired_now(c, devnamespace(), CREATED + H)
    status_written = devnamespace(resource_version="2", status={"phase": "Ready"})  # same spec, same generation
    assert desired_now(c, status_written, CREATED + H) is first
    changed = devnamespace(resource_version="3", role="view")
    changed["metadata"]["generation"] = 2
    again = desired_now(c, changed, CREATED + H)
    assert again is not first and again.children[-1]["roleRef"]["name"] == "view"
    assert list(c.rendered) == [UID]  # one entry per DevNamespace, whatever its history
