"""The self-service component (manifests/optional/self-service) for the e2e modules that need it: applied for one
module and removed afterwards (the ``self_service`` fixture in conftest.py), DevNamespace calls as an impersonated
identity, and what a refusal of its admission policy looks like."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from kubernetes.client import CoreV1Api, CustomObjectsApi

from support import GROUP, PLURAL, VERSION, error_of, gone, kubectl, status_of, unique
from testkit.clients import client
from testkit.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = str(ROOT / "manifests/optional/self-service")
PARAMS_NAMESPACE = "devns-system"
LIMITS_CONFIGMAP = "devns-self-service"
POLICY = "ValidatingAdmissionPolicy 'devns-self-service'"
ALICE, BOB = "alice@example.com", "bob@example.com"

#: What alice may ask for herself.
ALLOWED = {"owners": [{"kind": "User", "name": ALICE}], "ttl": "7d", "quota": {"requests.cpu": "2"},
           "role": "edit", "podSecurity": "restricted"}


def body(name: str, **spec) -> dict:
    """ALLOWED with ``spec`` on top; a None value removes that field."""
    merged = {k: v for k, v in {**ALLOWED, **spec}.items() if v is not None}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DevNamespace", "metadata": {"name": name}, "spec": merged}


class As:
    """DevNamespace calls as one (impersonated) identity."""

    def __init__(self, kubeconfig: str, created: list[str], user: str | None = None, groups: tuple[str, ...] = ()):
        self.api = CustomObjectsApi(client(kubeconfig, user=user, groups=groups))
        self.created = created

    def create(self, name: str, dry_run: bool = False, **spec) -> dict:
        if not dry_run:
            self.created.append(name)
        return self.api.create_cluster_custom_object(GROUP, VERSION, PLURAL, body(name, **spec),
                                                     dry_run="All" if dry_run else None)

    def patch(self, name: str, spec: dict) -> dict:
        return self.api.patch_cluster_custom_object(GROUP, VERSION, PLURAL, name, {"spec": spec})

    def get(self, name: str) -> dict:
        return self.api.get_cluster_custom_object(GROUP, VERSION, PLURAL, name)

    def delete(self, name: str) -> None:
        self.api.delete_cluster_custom_object(GROUP, VERSION, PLURAL, name)


def refused(call, text: str):
    """The call is refused by the self-service policy (403) with ``text`` in its message."""
    exc = error_of(call)
    assert exc.status == 403 and POLICY in exc.message, (exc.status, exc.message)
    assert text in exc.message, exc.message
    return exc


@contextmanager
def applied(binaries, kubeconfig: str, api, created: list[str]) -> Iterator[None]:
    """`kubectl apply --server-side -k manifests/optional/self-service` until the block ends; then every
    DevNamespace named in ``created`` is deleted (the session's operator holds their finalizers) and the component
    removed, waiting until its policy and grants are no longer in effect."""
    core = CoreV1Api(api)
    # The limits ConfigMap lives in base's devns-system; base is not installed on the shared control plane.
    own_namespace = status_of(lambda: core.read_namespace(PARAMS_NAMESPACE)) == 404
    if own_namespace:
        core.create_namespace({"metadata": {"name": PARAMS_NAMESPACE, "labels": {"app.kubernetes.io/name": "devns"}}})
    kubectl(binaries, kubeconfig, "apply", "--server-side", "-k", COMPONENT)

    probe, probe_name = As(kubeconfig, created, user=ALICE), unique("ss-probe")
    probe_core = CoreV1Api(client(kubeconfig, user=ALICE))
    # Bindings (RBAC and admission) take a moment to become effective: wait for a known refusal, and for the
    # limits to be readable.
    wait_for(lambda: refused(lambda: probe.create(probe_name, dry_run=True, ttl="never"), "ttl never"),
             what="the self-service policy and RBAC to be in effect")
    wait_for(lambda: probe_core.read_namespaced_config_map(LIMITS_CONFIGMAP, PARAMS_NAMESPACE),
             what="the self-service limits to be readable for every authenticated user")
    yield
    admin = As(kubeconfig, created)
    for name in created:
        if status_of(lambda: admin.delete(name)) not in (200, 404):
            raise AssertionError(f"could not delete DevNamespace {name}")
    for name in created:  # finalizers, if the session's operator reconciled them
        wait_for(lambda: gone(lambda: admin.get(name)), timeout=60, what=f"DevNamespace {name} to be deleted")
    # The policy first, while alice may still create: its removal is seen once her refused request passes.
    kubectl(binaries, kubeconfig, "delete", "--ignore-not-found", "validatingadmissionpolicybinding/devns-self-service",
            "validatingadmissionpolicy/devns-self-service")
    wait_for(lambda: status_of(lambda: probe.create(probe_name, dry_run=True, ttl="never")) == 200,
             what="the self-service policy to be gone")
    kubectl(binaries, kubeconfig, "delete", "--ignore-not-found", "-k", COMPONENT)
    wait_for(lambda: status_of(lambda: probe.create(probe_name, dry_run=True)) == 403,
             what="the self-service RBAC grant to system:authenticated to be gone")
    # The requester-limit MutatingAdmissionPolicy denies every create while its binding outlives its params (the
    # ConfigMap): the next module's creates would fail until the API server drops it.
    wait_for(lambda: status_of(lambda: admin.create(probe_name, dry_run=True)) == 200,
             what="the self-service admission policies to be gone for admins too")
    if own_namespace:
        core.delete_namespace(PARAMS_NAMESPACE)
        wait_for(lambda: gone(lambda: core.read_namespace(PARAMS_NAMESPACE)), timeout=60,
                 what=f"namespace {PARAMS_NAMESPACE} to be deleted")
