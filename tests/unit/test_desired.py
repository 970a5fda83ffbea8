"""devns.desired: the one desired-state function every reconcile path calls, and its per-version cache."""

from devns import gc
from devns.desired import Desired, DesiredCache, desired_for, namespace_of
from devns.render import SpecProblem
from devns.settings import Settings
from samples import CREATED, D, KEY, devnamespace


def test_valid_spec_gives_namespace_expiry_and_objects():
    d = desired_for(devnamespace(ttl="7d", namespace="alice-sandbox"), Settings())
    assert isinstance(d, Desired)
    assert d.namespace == "alice-sandbox" == d.objects.namespace_name
    assert d.expires_at == CREATED + 7 * D
    assert d.problem is None and d.ref.name == "alice" and d.generation == 1


def test_the_proof_is_added_for_the_namespace_uid_only():
    """Rendered without the proof (bound to the namespace's uid, known only once it exists); namespace_for adds
    the one for a given uid, leaving the rendered namespace alone."""
    d = desired_for(devnamespace(namespace="alice-sandbox"), Settings())
    assert "devns.io/proof" not in d.objects.namespace["metadata"]["annotations"]
    signed = d.namespace_for("ns-uid", KEY)
    assert signed["metadata"]["annotations"]["devns.io/proof"] == gc.proof_for(KEY, "alice-sandbox", "ns-uid",
                                                                                d.ref.uid)
    assert gc.proof_of(KEY, {**signed, "metadata": {**signed["metadata"], "uid": "ns-uid"}}) is gc.Proof.BOUND
    assert "devns.io/proof" not in d.objects.namespace["metadata"]["annotations"]


def test_invalid_spec_is_a_problem_with_the_field_path():
    problem = desired_for(devnamespace(ttl="7x"), Settings())
    assert isinstance(problem, SpecProblem) and problem.reason == "InvalidSpec"
    assert "spec.ttl" in str(problem)


def test_lifetime_over_the_maximum_is_a_problem():
    problem = desired_for(devnamespace(ttl="30d"), Settings(max_ttl="7d"))
    assert isinstance(problem, SpecProblem) and problem.reason == "TTLTooLong"


def test_settings_problem_keeps_the_lifetime_so_it_still_expires():
    """A role the settings no longer allow stops provisioning, not expiry."""
    d = desired_for(devnamespace(ttl="7d", role="admin"), Settings())
    assert isinstance(d, Desired) and d.objects is None
    assert d.problem.reason == "RoleNotAllowed" and d.expires_at == CREATED + 7 * D
    assert d.expired(CREATED + 7 * D) and not d.expired(CREATED + 6 * D)


def test_namespace_of_reads_the_raw_spec_even_when_invalid():
    assert namespace_of(devnamespace(ttl="7x")) == "alice"
    assert namespace_of(devnamespace(ttl="7x", namespace="other")) == "other"


def test_rendered_once_per_generation():
    cache = DesiredCache(Settings())
    first = cache.get(devnamespace())
    status_written = devnamespace(resource_version="2", status={"phase": "Ready"})  # same spec, same generation
    assert cache.get(status_written) is first
    again = cache.get(devnamespace(resource_version="3", generation=2, role="view"))
    assert again is not first and again.objects.children[-1]["roleRef"]["name"] == "view"
    assert len(cache) == 1  # one entry per DevNamespace, whatever its history
    cache.drop(first.ref.uid)
    assert len(cache) == 0


def test_the_cache_keeps_the_most_recently_used_and_renders_the_others_again():
    cache = DesiredCache(Settings(), size=2)

    def dn(uid: str) -> dict:
        body = devnamespace()
        body["metadata"] = {**body["metadata"], "uid": uid}
        return body
    a, b = cache.get(dn("a")), cache.get(dn("b"))
    assert cache.get(dn("a")) is a  # used last: b is now the oldest
    cache.get(dn("c"))
    assert len(cache) == 2 and "b" not in cache and "a" in cache
    again = cache.get(dn("b"))  # rendered again, equal to what it was
    assert again is not b and again.objects.children == b.objects.children
