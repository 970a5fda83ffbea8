"""devns.trust: which listed sources of ingress a DevNamespace may admit, and whom a change of another
DevNamespace concerns; plus how the trusted list reaches the rendered policy and the desired-state cache."""

import pytest

from devns.contract import ALLOW_FROM_NAMESPACES_POLICY
from devns.desired import DesiredCache
from devns.settings import Settings
from devns.trust import (Decision, Judgement, Source, Verdict, affected, decide, event_of, judge, listed, owners_of,
                         source_of)
from samples import devnamespace

ALICE = ("User", "alice@example.com", "")
BOB = ("User", "bob@example.com", "")
TEAM = ("Group", "payments", "")


def src(name, owners=(ALICE,), state="Ready", namespace=None, holds=True, uid=None):
    return Source(uid=uid or f"uid-{name}", name=name, namespace=namespace or name, owners=frozenset(owners),
                  state=state, holds=holds)


ME = src("mine")
NOBODY = lambda name: False  # noqa: E731  (no platform trust)


def holders(*sources):
    by_ns = {}
    for s in sources:
        by_ns.setdefault(s.namespace, []).append(s)
    return lambda name: by_ns.get(name, [])


# -- reading DevNamespaces ----------------------------------------------------------------------------------------

def test_owner_keys_compare_kind_name_and_serviceaccount_namespace():
    spec = {"owners": [{"kind": "User", "name": "a", "namespace": "ignored"},
                       {"kind": "ServiceAccount", "name": "ci", "namespace": "build"}, {"kind": "Group"}, "junk"]}
    assert owners_of(spec) == {("User", "a", ""), ("ServiceAccount", "ci", "build")}
    assert not owners_of({"owners": [{"kind": "ServiceAccount", "name": "ci", "namespace": "other"}]}) & owners_of(spec)
    assert not owners_of({"owners": [{"kind": "Group", "name": "a"}]}) & owners_of(spec)  # same name, other kind


def test_source_of_reads_namespace_owners_and_state():
    s = source_of(devnamespace(namespace="alice-ns", status={"phase": "Ready"}))
    assert (s.name, s.namespace, s.owners, s.state, s.provisioned) == ("alice", "alice-ns", {ALICE}, "Ready", True)
    assert source_of(devnamespace()).state == "Pending"
    assert source_of(devnamespace(deleting=True, status={"phase": "Ready"})).state == "being deleted"
    conflict = {"phase": "Failed", "conditions": [{"type": "Ready", "reason": "NamespaceConflict"}]}
    assert source_of(devnamespace(status=conflict)).holds is False


def test_listed_is_sorted_and_unique():
    assert listed(devnamespace(network={"allowFromNamespaces": ["b", "a", "b"]})) == ("a", "b")
    assert listed(devnamespace()) == ()


# -- the rule -----------------------------------------------------------------------------------------------------

def test_a_name_nobody_holds_is_refused_whether_or_not_it_exists():
    j = judge(ME, "x", [], False)
    assert j == Judgement(Verdict.UNKNOWN) and not j.granted


def test_a_provisioned_devnamespace_sharing_an_owner_is_trusted():
    assert judge(ME, "x", [src("x", owners=(BOB, ALICE))], False).verdict is Verdict.SHARED_OWNER
    assert judge(ME, "x", [src("x", state="Expiring")], False).granted


def test_co_owner_squatting_in_self_service_is_refused():
    """Mallory, a self-service developer, names the victim a co-owner of a DevNamespace called after a source the
    victim listed: they share an owner, but the victim never asked for it."""
    squat = Source(uid="u-x", name="x", namespace="x", owners=frozenset({ALICE, ("User", "mallory", "")}),
                   state="Ready", self_service_requester="mallory")
    j = judge(ME, "x", [squat], False)
    assert j.verdict is Verdict.NOT_REQUESTED_BY_OWNER and not j.granted and "mallory" in j.why
    by_alice = Source(uid="u-x", name="x", namespace="x", owners=frozenset({ALICE}), state="Ready",
                      self_service_requester="alice@example.com")
    assert judge(ME, "x", [by_alice], False).granted
    body = devnamespace()
    body["metadata"]["annotations"] = {"devns.io/requester": "mallory", "devns.io/max-per-requester": "5"}
    assert source_of(body).self_service_requester == "mallory"
    body["metadata"]["annotations"]["devns.io/max-per-requester"] = "none"  # an admin's: no limit stamped
    assert source_of(body).self_service_requester is None


def test_a_devnamespace_of_another_owner_is_refused_even_when_the_platform_trusts_the_name():
    for platform in (False, True):
        j = judge(ME, "x", [src("x", owners=(BOB,))], platform)
        assert j.verdict is Verdict.NO_SHARED_OWNER
        assert j.why == "managed by a DevNamespace that shares no owner with this one"


@pytest.mark.parametrize("state", ["Failed", "Expired", "being deleted"])
def test_a_devnamespace_not_provisioned_is_refused_with_its_state(state):
    j = judge(ME, "x", [src("x", state=state)], False)
    assert j.verdict is Verdict.NOT_PROVISIONED and state in j.why


def test_a_pending_devnamespace_counts_as_not_existing_yet():
    """No wake (and no message change) while it is created; its Ready is what changes the judgement."""
    assert judge(ME, "x", [src("x", state="Pending")], False).verdict is Verdict.UNKNOWN


def test_platform_trust_applies_only_to_names_no_devnamespace_holds():
    assert judge(ME, "monitoring", [], True).verdict is Verdict.PLATFORM
    assert judge(ME, "monitoring", [src("monitoring", state="Pending")], True).verdict is Verdict.NOT_PROVISIONED
    # a DevNamespace that failed for a conflict or a reserved name holds nothing
    assert judge(ME, "monitoring", [src("monitoring", state="Failed", holds=False)], True).granted


def test_own_namespace_is_trusted():
    assert judge(ME, "mine", [ME], False).verdict is Verdict.OWN


def test_two_ready_holders_must_both_share_an_owner():
    both = [src("x", uid="1"), src("x", owners=(BOB,), uid="2")]
    assert judge(ME, "x", both, False).verdict is Verdict.NO_SHARED_OWNER


def test_decide_grants_and_refuses_each_listed_name():
    d = decide(ME, ["c", "a", "b", "a"], holders(src("a"), src("b", owners=(BOB,))), lambda n: n == "c")
    assert d.granted == ("a", "c")
    assert [(n, j.verdict) for n, j in d.refused] == [("b", Verdict.NO_SHARED_OWNER)]


def test_resolved_makes_unknown_names_precise():
    d = decide(ME, ["gone", "plain", "dying", "ok"], holders(src("ok")), NOBODY)
    assert d.unknown == ("dying", "gone", "plain")
    r = d.resolved({"gone": None, "plain": {"metadata": {}}, "dying": {"metadata": {"deletionTimestamp": "t"}}})
    assert {n: j.why for n, j in r.refused} == {"gone": "does not exist", "dying": "is being deleted",
                                                "plain": "not a devns namespace and not trusted by the platform"}
    assert r.granted == ("ok",)


def test_condition_and_status():
    assert Decision().condition() is None and Decision().status() == {"trustedSources": None}
    ok = decide(ME, ["a"], holders(src("a")), NOBODY)
    assert ok.condition() == ("True", "SourcesTrusted", "ingress is allowed from a")
    assert ok.status() == {"trustedSources": ["a"]}
    bad = decide(ME, ["a", "x"], holders(src("a")), NOBODY).resolved({"x": None})
    status, reason, message = bad.condition()
    assert (status, reason) == ("False", "UntrustedSources")
    assert "x: does not exist" in message and message.endswith("allowed: a")
    none = decide(ME, ["x"], holders(), NOBODY)
    assert none.status() == {"trustedSources": []} and none.condition()[2].endswith("none is allowed")


# -- whom a change concerns ---------------------------------------------------------------------------------------

LISTENER = src("listener", owners=(ALICE,))
OTHER = src("other", owners=(BOB,))


def listeners(*sources):
    return lambda name: sources if name == "x" else ()


def test_becoming_ready_wakes_the_listeners_whose_judgement_changes():
    pending, ready = src("x", state="Pending"), src("x")
    woken = affected(pending, ready, listeners(LISTENER, OTHER), holders(ready), NOBODY)
    assert woken == [LISTENER, OTHER]  # granted to one, refused for another reason to the other


def test_creation_while_pending_and_status_writes_wake_nobody():
    assert affected(None, src("x", state="Pending"), listeners(LISTENER), holders(), NOBODY) == []
    assert affected(src("x"), src("x", state="Expiring"), listeners(LISTENER), holders(), NOBODY) == []


def test_owner_change_and_deletion_withdraw_trust():
    before, after = src("x"), src("x", owners=(BOB,))
    assert affected(before, after, listeners(LISTENER, OTHER), holders(after), NOBODY) == [LISTENER, OTHER]
    assert affected(before, src("x", state="being deleted"), listeners(LISTENER), holders(), NOBODY) == [LISTENER]
    assert affected(src("x", state="being deleted"), None, listeners(LISTENER), holders(), NOBODY) == [LISTENER]


def test_a_change_never_wakes_the_changed_devnamespace_itself():
    me = src("x")
    assert affected(None, me, lambda n: [me], holders(me), NOBODY) == []


# -- Events -------------------------------------------------------------------------------------------------------

def cond(status, message, reason="UntrustedSources"):
    return {"conditions": [{"type": "SourcesTrusted", "status": status, "reason": reason, "message": message}]}


def test_event_on_refusal_and_on_recovery_only():
    assert event_of({}, cond("False", "m")) == ("Warning", "UntrustedSources", "m")
    assert event_of(cond("False", "m"), cond("False", "m2"))[0] == "Warning"
    assert event_of(cond("False", "m"), cond("False", "m")) is None
    assert event_of(cond("False", "m"), cond("True", "ok", "SourcesTrusted")) == ("Normal", "SourcesTrusted", "ok")
    assert event_of({}, cond("True", "ok", "SourcesTrusted")) is None  # trusted from the start: nothing to say
    assert event_of({}, {"phase": "Ready"}) is None and event_of({}, None) is None


# -- the trusted list in the desired state ------------------------------------------------------------------------

def policy(desired):
    return desired.objects.find("NetworkPolicy", ALLOW_FROM_NAMESPACES_POLICY)


def test_only_trusted_sources_are_rendered_and_the_cache_is_keyed_by_them():
    cache = DesiredCache(Settings())
    body = devnamespace(network={"allowFromNamespaces": ["a", "b"]})
    assert policy(cache.get(body, ())) is None  # none trusted: no allow-from policy at all
    granted = cache.get(body, ("a",))
    values = policy(granted)["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"]
    assert values == ["a"]
    assert cache.get(body, ("a",)) is granted  # same key, same render
    assert cache.get(body) is granted  # the lifecycle takes whatever this generation has
    assert policy(cache.get(body, ())) is None and len(cache) == 1


def test_settings_trusted_source_patterns():
    s = Settings(trusted_source_namespaces=["trusted-*", "monitoring"])
    assert s.is_trusted_source("trusted-a") and s.is_trusted_source("monitoring")
    assert not s.is_trusted_source("monitoring-2") and not Settings().is_trusted_source("monitoring")
