"""devns.budgets: room in a class's budget, decided in creation order, with messages that say what is used,
what is asked and the budget."""

import datetime as dt

from devns.budgets import check, has_budget, waiting_in
from devns.classes import ClassRef
from devns.requesters import Peer

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)


def klass(budget: dict, name: str = "team") -> ClassRef:
    return ClassRef.of({"metadata": {"name": name, "generation": 1}, "spec": {"budget": budget}})


def peer(name: str, created: str = "2026-12-01T10:00:00Z", requester: str = "alice", team: str | None = "pay",
         phase: str | None = "Ready", reason: str | None = "Provisioned", class_name: str = "team",
         deleting: bool = False) -> Peer:
    return Peer(uid=name, name=name, created=created, namespace=name, requester=requester, limit=None, phase=phase,
                reason=reason, deleting=deleting, class_name=class_name, team=team)


QUOTA = {"a": {"requests.cpu": "2"}, "b": {"requests.cpu": "1500m"}, "c": {"requests.cpu": "1"}}


def quota_of(p: Peer) -> dict:
    return QUOTA.get(p.uid, {"requests.cpu": "1"})


def test_a_class_without_budget_always_has_room():
    assert not has_budget(klass({})) and not has_budget(None)
    assert check(peer("new"), {}, [peer("a")], klass({}), NOW, quota_of) is None


def test_count_per_requester():
    cls = klass({"perRequester": {"count": 2}})
    me = peer("new", created="2026-12-01T11:00:00Z")
    assert check(me, {}, [peer("a")], cls, NOW, quota_of) is None
    why = check(me, {}, [peer("a"), peer("b")], cls, NOW, quota_of)
    assert why == "requester alice has 2 live DevNamespaces of class team, its budget (budget.perRequester.count) is 2"


def test_others_classes_requesters_and_gone_ones_do_not_count():
    cls = klass({"perRequester": {"count": 1}})
    others = [peer("x", class_name="sandbox"), peer("y", requester="bob"), peer("z", deleting=True),
              peer("e", phase="Expired", reason="Expired")]
    assert check(peer("new", created="2026-12-01T11:00:00Z"), {}, others, cls, NOW, quota_of) is None


def test_summed_quota_per_team_with_exact_quantities():
    cls = klass({"perTeam": {"requests.cpu": "4"}})
    me = peer("new", created="2026-12-01T11:00:00Z", requester="carol")
    assert check(me, {"requests.cpu": "500m"}, [peer("a"), peer("b")], cls, NOW, quota_of) is None  # 3.5 + 0.5
    why = check(me, {"requests.cpu": "600m"}, [peer("a"), peer("b")], cls, NOW, quota_of)
    assert why == ("team pay uses 3.5 requests.cpu in DevNamespaces of class team; this one asks 0.6 more, over the "
                   "budget (budget.perTeam.requests.cpu) of 4")


def test_creation_order_decides_between_waiting_and_undecided_ones():
    cls = klass({"perRequester": {"count": 1}})
    older_waiting = peer("old", created="2026-12-01T09:00:00Z", phase="Pending", reason="OverBudget")
    younger_new = peer("young", created="2026-12-01T13:00:00Z", phase=None, reason=None)
    me = peer("me", created="2026-12-01T11:00:00Z", phase="Pending", reason="OverBudget")
    assert check(me, {}, [younger_new], cls, NOW, quota_of) is None  # it comes after me
    assert check(me, {}, [older_waiting], cls, NOW, quota_of) is not None  # it was first
    assert [p.name for p in waiting_in("team", [me, older_waiting, younger_new])] == ["old", "me"]


def test_a_devnamespace_without_team_is_not_held_to_a_team_budget():
    cls = klass({"perTeam": {"count": 1}})
    assert check(peer("new", team=None), {}, [peer("a", team=None)], cls, NOW, quota_of) is None
