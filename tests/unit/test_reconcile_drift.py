"""devns.reconcile.drift, its pure part: whether a watched object drifted from its DevNamespace's desired state.

It runs on the operator's event loop for every event of a managed object, so it must decide without the API; the
Context here has no client at all (any call would fail the test).
"""

import copy

from devns import gc
from devns.reconcile import drifted, guarded
from samples import CREATED, H, KEY, UID, ctx, devnamespace


# -- drifted ------------------------------------------------------------------------------------------------------

def desired(body) -> tuple[dict, dict[tuple[str, str], dict]]:
    """The namespace (with its proof) and children devns would apply for ``body``, as the API would return them
    (with a uid)."""
    d = guarded(ctx(), body, CREATED + H).objects
    as_stored = lambda o: {**copy.deepcopy(o), "metadata": {**copy.deepcopy(o["metadata"]), "uid": "x"}}  # noqa
    namespace = gc.with_proof(as_stored(d.namespace), gc.proof_for(KEY, d.namespace_name, "x", UID))
    return namespace, {(c["kind"], c["metadata"]["name"]): as_stored(c) for c in d.children}


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
