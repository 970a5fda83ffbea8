"""devns.classes and the class path of desired_for: which class applies, what it does to the spec and the policy,
and the refusals that name the field, the asked value and the class's limit."""

import pytest

from devns.classes import ClassRef, ClassRegistry, apply_class, class_of
from devns.desired import Desired, DesiredCache, desired_for
from devns.render import SpecProblem
from devns.settings import Settings

from samples import CREATED, D, devnamespace

TEAM = {"defaults": {"role": "view", "podSecurity": "baseline", "ttl": "14d", "quota": {"requests.cpu": "4"},
                     "limits": {"default": {"cpu": "1"}}, "network": {"allowSameNamespace": False}},
        "maxima": {"ttl": "30d", "quota": {"requests.cpu": "8", "pods": "100"}},
        "allowed": {"roles": ["edit", "view"], "podSecurity": ["restricted", "baseline"], "clusterView": False},
        "warnBefore": ["2h"]}


def cls(name="team", spec=TEAM, default=False, generation=1, created="2026-11-01T00:00:00Z", deleting=False):
    meta = {"name": name, "generation": generation, "creationTimestamp": created}
    if default:
        meta["annotations"] = {"devns.io/is-default-class": "true"}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-02T00:00:00Z"
    return ClassRef.of({"metadata": meta, "spec": spec})


def classes(*refs):
    return {r.name: r for r in refs}


def quota(desired: Desired) -> dict:
    return desired.objects.quota_hard


# -- which class ------------------------------------------------------------------------------------------------

def test_spec_class_wins_over_the_default():
    assert class_of({"class": "gpu"}, classes(cls("team", default=True), cls("gpu"))) == ("gpu", cls("gpu"))


def test_the_default_class_applies_when_none_is_named():
    assert class_of({}, classes(cls("team", default=True), cls("gpu")))[0] == "team"


def test_no_class_at_all_is_the_settings_alone():
    assert class_of({}, classes(cls("gpu"))) == (None, None)


def test_of_several_defaults_the_newest_applies():
    old, new = cls("old", default=True, created="2026-01-01T00:00:00Z"), cls("new", default=True)
    assert class_of({}, classes(old, new))[0] == "new"


def test_a_class_being_deleted_is_no_longer_the_default():
    assert class_of({}, classes(cls("team", default=True, deleting=True))) == (None, None)


def test_a_named_missing_class_is_reported():
    assert class_of({"class": "nope"}, {}) == ("nope", None)
    problem = desired_for(devnamespace(**{"class": "nope"}), Settings(), classes=classes(cls()))
    assert isinstance(problem, SpecProblem) and problem.reason == "ClassNotFound" and "'nope'" in str(problem)


# -- defaults and policy ----------------------------------------------------------------------------------------

def test_class_defaults_go_under_the_spec():
    d = desired_for(devnamespace(**{"class": "team"}), Settings(), classes=classes(cls()))
    assert isinstance(d, Desired) and d.problem is None and d.class_name == "team"
    assert quota(d)["requests.cpu"] == "4" and quota(d)["pods"] == Settings().default_quota["pods"]
    assert d.spec.pod_security == "baseline" and not d.spec.network.allow_same_namespace
    assert d.expires_at == CREATED + 14 * D
    assert [b["roleRef"]["name"] for b in d.objects.of_kind("RoleBinding")] == ["view"]
    [limits] = d.objects.of_kind("LimitRange")
    assert limits["spec"]["limits"][0]["default"]["cpu"] == "1"


def test_the_devnamespace_overrides_the_class_defaults():
    d = desired_for(devnamespace(**{"class": "team"}, role="edit", podSecurity="restricted", ttl="1d",
                                 quota={"requests.cpu": "6"}), Settings(), classes=classes(cls()))
    assert d.problem is None and quota(d)["requests.cpu"] == "6" and d.spec.pod_security == "restricted"
    assert d.expires_at == CREATED + D and d.objects.of_kind("RoleBinding")[0]["roleRef"]["name"] == "edit"


def test_the_class_policy_replaces_the_settings_it_names():
    spec, settings = apply_class({}, Settings(allowed_roles=["edit"], warn_before=["24h"]), cls())
    assert settings.allowed_roles == ["edit", "view"] and settings.warn_before == ["2h"]
    assert settings.max_ttl == "30d" and settings.default_ttl_delta == 14 * D
    assert spec == {"podSecurity": "baseline", "network": {"allowSameNamespace": False}}


def test_without_a_class_nothing_changes():
    settings = Settings()
    assert apply_class({"ttl": "1d"}, settings, None) == ({"ttl": "1d"}, settings)


# -- refusals ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, reason, words", [
    ({"quota": {"requests.cpu": "16"}}, "OverClassMaximum", "spec.quota.requests.cpu 16 is more than class team's "
                                                            "maximum of 8"),
    ({"ttl": "60d"}, "TTLTooLong", "class team's maxTTL of 30d"),
    ({"ttl": "never"}, "TTLTooLong", "class team's maxTTL is 30d"),
    ({"role": "admin"}, "RoleNotAllowed", "allowed roles: edit, view"),
    ({"podSecurity": "privileged"}, "NotAllowedByClass", "podSecurity privileged is not allowed by class team"),
    ({"clusterView": True}, "NotAllowedByClass", "clusterView is not allowed by class team"),
])
def test_over_a_maximum_or_outside_an_allow_list_is_refused_by_name(spec, reason, words):
    d = desired_for(devnamespace(**{"class": "team"}, **spec), Settings(), classes=classes(cls()))
    problem = d if isinstance(d, SpecProblem) else d.problem
    assert problem is not None and problem.reason == reason and words in str(problem), str(problem)
    assert isinstance(d, SpecProblem) or d.objects is None  # nothing to create


def test_a_class_maximum_also_bounds_the_class_defaults():
    spec = {**TEAM, "defaults": {**TEAM["defaults"], "quota": {"requests.cpu": "12"}}}
    d = desired_for(devnamespace(**{"class": "team"}), Settings(), classes=classes(cls(spec=spec)))
    assert d.problem.reason == "OverClassMaximum"


# -- the cache follows the class --------------------------------------------------------------------------------

def test_the_cache_renders_again_when_the_class_changes():
    registry = ClassRegistry(classes(cls()))
    cache = DesiredCache(Settings(), registry)
    body = devnamespace(**{"class": "team"})
    first = cache.get(body, ())
    assert cache.get(body, ()) is first
    registry.put(cls(spec={**TEAM, "defaults": {**TEAM["defaults"], "quota": {"requests.cpu": "2"}}}, generation=2))
    second = cache.get(body, ())
    assert second is not first and quota(second)["requests.cpu"] == "2"


def test_a_class_being_deleted_keeps_rendering_and_says_so():
    d = desired_for(devnamespace(**{"class": "team"}), Settings(), classes=classes(cls(deleting=True)))
    assert d.problem is None and quota(d)["requests.cpu"] == "4"
    assert "DevNamespaceClass team is being deleted" in d.notice
