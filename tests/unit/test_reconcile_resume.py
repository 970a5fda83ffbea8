"""A start-up resumes a DevNamespace from its status alone (no API call) only when the status proves nothing
would change: made to match exactly what is rendered now (``status.rendered``), at this generation, Ready with
the message a reconcile would write, with the same expiry and class, by the same signing key."""

from devns.reconcile import Context, resumed_unchanged
from devns.settings import Settings
from devns.units import format_time
from samples import CREATED, D, KEY, ctx, devnamespace

NOW = CREATED + D


def provisioned(context: Context | None = None, generation: int = 1, **spec) -> dict:
    """The DevNamespace as a successful reconcile leaves it (the status fields it writes)."""
    context = context or ctx()
    body = devnamespace(generation=generation, **spec)
    desired = context.desired.get(body, ())
    body["status"] = {"phase": "Ready", "namespace": desired.namespace, "observedGeneration": generation,
                      "expiresAt": desired.expires_at and format_time(desired.expires_at), "class": None,
                      "conditions": [{"type": "Ready", "status": "True", "reason": "Provisioned",
                                      "message": f"namespace {desired.namespace} is ready"}],
                      "rendered": desired.fingerprint(KEY)}
    return body


def test_a_status_that_matches_what_is_rendered_now_needs_no_read():
    assert resumed_unchanged(ctx(), provisioned(), NOW)  # ctx() has no client: a call would raise
    assert resumed_unchanged(ctx(), provisioned(ttl="7d"), NOW)


def test_anything_the_status_cannot_prove_takes_the_full_path():
    changed_spec = provisioned()
    changed_spec["metadata"]["generation"] = 2
    changed_spec["spec"]["role"] = "view"
    other_settings = Context(kube=None, settings=Settings(default_role="view"), key=KEY)  # renders differently
    other_key = Context(kube=None, settings=Settings(), key=b"x" * 32)
    failed = provisioned()
    failed["status"]["phase"] = "Failed"
    no_digest = provisioned()
    del no_digest["status"]["rendered"]
    expired = provisioned(ttl="1d")
    listing = provisioned(network={"allowFromNamespaces": ["shared"]})
    for context, body, why in [(ctx(), changed_spec, "a new generation"), (other_settings, provisioned(), "settings"),
                               (other_key, provisioned(), "another signing key"), (ctx(), failed, "not Ready"),
                               (ctx(), no_digest, "written by a release without it"), (ctx(), expired, "expired"),
                               (ctx(), listing, "sources of ingress to judge")]:
        assert not resumed_unchanged(context, body, NOW), why
