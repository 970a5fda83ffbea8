"""`kubectl devns list` and `status` without a cluster: which DevNamespaces are mine, a row of the table (countdown
red once warned, quota cells, wide columns), the expiry before and after the operator's status, the Events lookup
kubectl describe uses, and status's text from a report."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import click

from devns.plugin.devnamespaces import expiry_of, namespace_of, owned_by, owner_ref
from devns.plugin.events import devnamespace_selector, recent
from devns.plugin.listing import HEADER, WIDE, row, warned
from devns.plugin.quota import Usage
from devns.plugin.show import DEVNAMESPACE_EVENTS_HIDDEN, text

NOW = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def devnamespace(name="alice-x", owners=None, **status):
    return {"metadata": {"name": name, "uid": "u-1", "creationTimestamp": "2026-11-30T12:00:00Z"},
            "spec": {"owners": owners or [{"kind": "User", "name": "alice@example.com"}], "ttl": "3d",
                     "team": "payments"},
            "status": status}


def test_mine_means_my_user_my_service_account_or_one_of_my_groups():
    obj = devnamespace(owners=[{"kind": "User", "name": "alice@example.com"}, {"kind": "Group", "name": "team-a"},
                               {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}])
    assert owned_by(obj, "alice@example.com")
    assert owned_by(obj, "bob@example.com", ("team-a",))
    assert owned_by(obj, "system:serviceaccount:ci:deployer")
    assert not owned_by(obj, "bob@example.com", ("team-b", "alice@example.com"))  # a group is no user
    assert not owned_by(obj, "system:serviceaccount:other:deployer")
    assert [owner_ref(o) for o in obj["spec"]["owners"]] == ["User:alice@example.com", "Group:team-a",
                                                             "ServiceAccount:ci:deployer"]


def test_expiry_comes_from_the_status_else_from_the_spec():
    assert expiry_of(devnamespace(expiresAt="2026-12-10T00:00:00Z")) == dt.datetime(2026, 12, 10,
                                                                                     tzinfo=dt.timezone.utc)
    assert expiry_of(devnamespace()) == dt.datetime(2026, 12, 3, 12, tzinfo=dt.timezone.utc)  # created + 3d
    never = devnamespace()
    never["spec"]["ttl"] = "never"
    assert expiry_of(never) is None
    assert namespace_of(devnamespace(namespace="other")) == "other" and namespace_of(devnamespace()) == "alice-x"


def test_a_row_with_quota_usage():
    obj = devnamespace(phase="Ready", namespace="alice-x", expiresAt="2026-12-04T16:00:00Z")
    quota = Usage(hard={"requests.cpu": "2", "requests.memory": "4Gi", "pods": "50"},
                  used={"requests.cpu": "500m", "requests.memory": "1Gi", "pods": "3"})
    assert row(obj, quota, NOW) == ["alice-x", "alice-x", "Ready", "in 3d4h", "500m/2 [#----]", "1Gi/4Gi [#----]",
                                    "3/50 [-----]"]
    assert len(HEADER) == 7 and len(HEADER + WIDE) == 11


def test_a_quota_that_is_not_readable_shows_dashes_and_wide_adds_owners_team_class_age():
    cells = row(devnamespace(phase="Ready"), None, NOW, wide=True)
    assert cells[4:] == ["-", "-", "-", "User:alice@example.com", "payments", "-", "1d"]


def test_expires_turns_red_once_the_first_warning_went_out():
    quiet, warned_one = devnamespace(phase="Ready"), devnamespace(phase="Ready", warningsSent=["24h"])
    assert not warned(quiet) and warned(warned_one) and warned(devnamespace(phase="Expiring"))
    assert row(quiet, None, NOW)[3] == "in 2d"
    red = row(warned_one, None, NOW)[3]
    assert red == click.style("in 2d", fg="red") and click.unstyle(red) == "in 2d"


def test_events_are_looked_up_as_kubectl_describe_does():
    assert devnamespace_selector(devnamespace()) == ("involvedObject.kind=DevNamespace,involvedObject.name=alice-x,"
                                                     "involvedObject.namespace=,involvedObject.uid=u-1")


def event(uid, minute, reason, kind="DevNamespace"):
    stamp = NOW + dt.timedelta(minutes=minute)
    return SimpleNamespace(metadata=SimpleNamespace(uid=uid, name=uid, creation_timestamp=stamp), series=None,
                           last_timestamp=stamp, event_time=None, first_timestamp=stamp, type="Normal",
                           reason=reason, message=f" {reason} \n", count=None,
                           involved_object=SimpleNamespace(kind=kind, name="alice-x"))


def test_recent_events_merge_both_lists_once_each_oldest_first():
    own, inside = [event("a", 1, "Provisioned"), event("c", 5, "ExpiryWarning")], [event("b", 3, "Created", "Pod")]
    records = recent(own, inside, own, limit=2)
    assert [r["reason"] for r in records] == ["Created", "ExpiryWarning"]
    assert records[0] == {"lastSeen": "2026-12-01T12:03:00Z", "type": "Normal", "reason": "Created",
                          "object": "Pod/alice-x", "message": "Created", "count": 1}


def test_status_text():
    report = {"name": "alice-x", "namespace": "alice-x", "phase": "Ready",
              "owners": [{"kind": "User", "name": "alice@example.com"}], "team": "payments", "purpose": None,
              "created": "2026-11-30T12:00:00Z", "expiresAt": "2026-12-03T12:00:00Z", "warningsSent": ["24h"],
              "conditions": [{"type": "Ready", "status": "True", "reason": "Provisioned", "message": "ok",
                              "lastTransitionTime": "2026-11-30T12:00:01Z"}],
              "quota": {"pods": {"used": "3", "hard": "50"}}, "limits": None,
              "access": {"create pods": True, "create rolebindings": False},
              "events": [], "notes": [DEVNAMESPACE_EVENTS_HIDDEN]}
    out = text(report, NOW).splitlines()
    assert out[:9] == ["Name:          alice-x", "Namespace:     alice-x", "Phase:         Ready",
                       "Owners:        User alice@example.com", "Team:          payments", "Purpose:       -",
                       "Created:       2026-11-30T12:00:00Z (1d ago)", "Expires:       2026-12-03T12:00:00Z (in 2d)",
                       "Warnings sent: 24h"]
    assert "  Ready   True     Provisioned   23h59m   ok" in out
    assert "  pods       3/50 [#---------]" in out
    assert "Limits per container (LimitRange devns-limits): not there, or not readable for you" in out
    assert "  create pods           yes" in out and "  create rolebindings   no" in out
    assert out[-2:] == ["Events: none", f"  {DEVNAMESPACE_EVENTS_HIDDEN}"]
