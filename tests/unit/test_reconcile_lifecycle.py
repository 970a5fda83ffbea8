"""devns.reconcile.lifecycle, its pure part: what is due now for a DevNamespace, and when to look again.

It runs on the operator's event loop for every DevNamespace, so it must decide without the API; the Context here
has no client at all (any call would fail the test).
"""

import pytest

from devns.reconcile import Action, expiry_due
from devns.units import format_time
from samples import CREATED, D, H, ctx, devnamespace


# -- expiry_due ---------------------------------------------------------------------------------------------------

def test_no_ttl_nothing_due_ever():
    due = expiry_due(ctx(), devnamespace(), CREATED + 400 * D)
    assert (due.action, due.next_wake, due.expires) == (None, None, None)


def test_far_from_expiry_sleeps_until_the_first_warning():
    due = expiry_due(ctx(), devnamespace(ttl="7d"), CREATED + H)
    assert (due.action, due.next_wake, due.expires) == (None, CREATED + 6 * D, CREATED + 7 * D)


def test_warning_due_at_its_moment_then_not_again():
    assert expiry_due(ctx(), devnamespace(ttl="7d"), CREATED + 6 * D).action == Action.WARN
    sent = devnamespace(ttl="7d", status={"phase": "Expiring", "warningsSent": ["24h"]})
    due = expiry_due(ctx(), sent, CREATED + 6 * D + H)
    assert (due.action, due.next_wake) == (None, CREATED + 7 * D - H)


def test_expired_then_retention_then_removal():
    now = CREATED + 7 * D
    due = expiry_due(ctx(), devnamespace(ttl="7d"), now)
    assert (due.action, due.next_wake, due.namespace) == (Action.EXPIRE, now + 24 * H, "alice")
    expired = devnamespace(ttl="7d", status={"phase": "Expired", "expiredAt": format_time(now)})
    assert expiry_due(ctx(), expired, now + H).action is None
    assert expiry_due(ctx(), expired, now + H).next_wake == now + 24 * H
    assert expiry_due(ctx(), expired, now + 24 * H).action == Action.REMOVE


def test_dry_run_expires_once_and_never_wakes_for_retention():
    due = expiry_due(ctx(dry_run=True), devnamespace(ttl="7d"), CREATED + 8 * D)
    assert (due.action, due.next_wake) == (Action.EXPIRE, None)


def test_extension_forgets_warnings_no_longer_due():
    extended = devnamespace(ttl="30d", status={"phase": "Expiring", "warningsSent": ["24h", "1h"]})
    due = expiry_due(ctx(), extended, CREATED + 7 * D)
    assert due.action == Action.REARM
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
