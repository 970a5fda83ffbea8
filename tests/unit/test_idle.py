"""devns.idle and the idle part of the lifecycle's plan: what counts as activity, the deadlines it gives, and
what is due when (sleep, a look while asleep, wake, expiry for inactivity). Pure: no API, the clock passed in."""

import pytest

from devns.contract import ANN_WAKE
from devns.idle import IdlePolicy, effective_expiry, is_use, known_activity, last_use, newest, sleep_at
from devns.reconcile import Action, expiry_due
from devns.units import format_time
from samples import CREATED, D, H, ctx, devnamespace

M = H / 60
IDLE = {"sleepAfter": "8h", "deleteAfter": "14d"}


def entry(manager: str, at, subresource: str | None = None, fields: dict | None = None) -> dict:
    e = {"manager": manager, "operation": "Update", "time": format_time(at), "fieldsV1": fields or {"f:spec": {}}}
    if subresource:
        e["subresource"] = subresource
    return e


def wake_entry(at) -> dict:
    """The managedFields entry of `kubectl devns wake` setting the annotation (the API server's time)."""
    return entry("kubectl-devns", at, fields={"f:metadata": {"f:annotations": {f"f:{ANN_WAKE}": {}}}})


def obj(*entries) -> dict:
    return {"kind": "Deployment", "metadata": {"name": "app", "managedFields": list(entries)}}


@pytest.mark.parametrize("manager, subresource, counts", [
    ("kubectl-client-side-apply", None, True),
    ("kubectl", "scale", True),  # kubectl scale is someone's use
    ("helm", None, True),
    ("devns", None, False),
    ("kube-controller-manager", None, False),
    ("kubelet", "status", False),
    ("kubectl", "status", False),  # a status write is not use
    ("system:serviceaccount:kube-system:foo", None, False),
])
def test_what_counts_as_use(manager, subresource, counts):
    assert is_use(entry(manager, CREATED, subresource)) is counts


def test_newest_use_of_objects_beats_what_is_known():
    app = obj(entry("kubectl", CREATED + H), entry("kube-controller-manager", CREATED + 5 * H))
    assert last_use(app) == CREATED + H
    assert newest(CREATED + 2 * H, [app, obj()]) == CREATED + 2 * H
    assert newest(CREATED, [app]) == CREATED + H


def test_known_activity_of_a_devnamespace_spec_change_wake_and_record():
    body = devnamespace(idle=IDLE)
    assert known_activity(body) == CREATED
    body["metadata"]["managedFields"] = [
        entry("kubectl", CREATED + H),  # its spec changed
        entry("kubectl", CREATED + 3 * H, fields={"f:metadata": {"f:labels": {}}}),  # not the spec: no use
        entry("devns", CREATED + 4 * H)]
    assert known_activity(body) == CREATED + H
    body["metadata"]["annotations"] = {ANN_WAKE: "2099-01-01T00:00:00Z"}  # the value is never trusted
    assert known_activity(body) == CREATED + H
    body["metadata"]["managedFields"].append(wake_entry(CREATED + 2 * H))
    assert known_activity(body) == CREATED + 2 * H
    body["status"] = {"lastActivity": format_time(CREATED + 5 * H)}
    assert known_activity(body) == CREATED + 5 * H


def test_deadlines_and_the_earlier_expiry():
    policy = IdlePolicy.of(type("Idle", (), {"sleep_after": "8h", "delete_after": "14d"})())
    assert sleep_at(policy, CREATED, sleeping=False) == CREATED + 8 * H
    assert sleep_at(policy, CREATED, sleeping=True) is None
    body = devnamespace(idle=IDLE)
    assert effective_expiry(CREATED + 7 * D, policy, body) == (CREATED + 7 * D, "ttl")
    assert effective_expiry(CREATED + 30 * D, policy, body) == (CREATED + 14 * D, "inactivity")
    assert effective_expiry(None, IdlePolicy(), body) == (None, "ttl")


def test_idle_policy_comes_from_the_spec_else_the_settings():
    assert expiry_due(ctx(), devnamespace(), CREATED + 400 * D).action is None
    due_ = expiry_due(ctx(idle_sleep_after="1h"), devnamespace(), CREATED + 2 * H)
    assert due_.action == Action.SLEEP and due_.looks_first


def test_sleep_is_due_after_sleep_after_and_looks_first():
    body = devnamespace(idle=IDLE)
    early = expiry_due(ctx(), body, CREATED + H)
    assert (early.action, early.next_wake) == (None, CREATED + 8 * H)
    late = expiry_due(ctx(), body, CREATED + 8 * H)
    assert late.action == Action.SLEEP and late.looks_first and late.activity == CREATED


def test_asleep_looks_again_every_sleep_after_and_wakes_on_a_wake():
    asleep = devnamespace(idle=IDLE, status={"phase": "Sleeping", "sleepingSince": format_time(CREATED + 8 * H),
                                             "lastActivity": format_time(CREATED)})
    context = ctx()
    assert expiry_due(context, asleep, CREATED + 9 * H).next_wake == CREATED + 16 * H
    assert expiry_due(context, asleep, CREATED + 16 * H).action == Action.LOOK
    context.looked[asleep["metadata"]["uid"]] = CREATED + 16 * H
    assert expiry_due(context, asleep, CREATED + 17 * H).next_wake == CREATED + 24 * H
    asleep["metadata"]["managedFields"] = [wake_entry(CREATED + 10 * H)]
    woken = expiry_due(context, asleep, CREATED + 10 * H + M)
    assert woken.action == Action.WAKE and woken.activity == CREATED + 10 * H


def test_inactivity_expiry_warns_then_expires_looking_first_each_time():
    body = devnamespace(idle={"deleteAfter": "14d"})
    warn = expiry_due(ctx(), body, CREATED + 14 * D - H)
    assert (warn.action, warn.because, warn.expires) == (Action.WARN, "inactivity", CREATED + 14 * D)
    assert warn.looks_first
    gone = expiry_due(ctx(), body, CREATED + 14 * D)
    assert (gone.action, gone.because) == (Action.EXPIRE, "inactivity") and gone.looks_first
    ttl_first = expiry_due(ctx(), devnamespace(ttl="7d", idle={"deleteAfter": "14d"}), CREATED + 7 * D)
    assert (ttl_first.action, ttl_first.because, ttl_first.looks_first) == (Action.EXPIRE, "ttl", False)


def test_dry_run_reports_a_sleep_once():
    said = devnamespace(idle=IDLE, status={"conditions": [{"type": "Sleeping", "status": "False", "reason": "DryRun",
                                                           "lastTransitionTime": format_time(CREATED + 8 * H)}]})
    assert expiry_due(ctx(dry_run=True), said, CREATED + 9 * H).action is None


def test_a_workload_running_again_in_a_sleeping_namespace_is_use():
    from devns.idle import running
    scaled = {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 1}}
    asleep = {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 0}}
    resumed = {"kind": "CronJob", "metadata": {"name": "n", "annotations": {"devns.io/suspended-for-sleep": "true"}},
               "spec": {"suspend": False}}
    owners_own = {"kind": "CronJob", "metadata": {"name": "n"}, "spec": {"suspend": False}}
    assert running([asleep, scaled]) and running([resumed])
    assert not running([asleep, owners_own])


def test_a_sleeping_namespace_without_an_idle_policy_any_more_wakes():
    asleep = devnamespace(status={"phase": "Sleeping", "sleepingSince": format_time(CREATED + H)})
    assert expiry_due(ctx(), asleep, CREATED + 2 * H).action == Action.WAKE
