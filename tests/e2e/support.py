"""Helpers of the e2e tests only: DevNamespaces as an admin, API call outcomes, unique names, kubectl with the
session's binaries. What the benchmark needs too (waiting, clients, the operator process, the audit log, the
install list) is in testkit (devtools/testkit)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Callable

import kubernetes
import pexpect
from kubernetes.client import CustomObjectsApi
from kubernetes.client.rest import ApiException

from devns.contract import API_VERSION, FINALIZER, GROUP, KIND, PLURAL, VERSION
from devns.outcome import Result
from devns.settings import DEFAULT_RESERVED_NAMESPACES
from testkit.kubectl import kubectl as run_kubectl
from testkit.waiting import wait_for


def status_of(call: Callable[[], object]) -> int:
    """Run an API call and return its HTTP status (2xx as 200)."""
    try:
        call()
        return 200
    except ApiException as exc:
        return exc.status


def error_of(call: Callable[[], object]) -> ApiException:
    """Run an API call that must fail and return the exception, its Status message as ``exc.message``."""
    try:
        call()
    except ApiException as exc:
        try:
            exc.message = json.loads(exc.body)["message"]
        except (TypeError, ValueError, KeyError):
            exc.message = str(exc.body)
        return exc
    raise AssertionError("the call succeeded but was expected to fail")


def gone(read: Callable[[], object]) -> bool:
    """True once ``read`` answers 404."""
    return status_of(read) == 404


def kubectl(binaries, kubeconfig: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the session's pinned kubectl (``binaries``: localk8s's) against a test cluster."""
    return run_kubectl(binaries.kubectl, kubeconfig, *args, check=check)


def _devns(binaries, kubeconfig: str | None, args: tuple[str, ...],
           env: dict[str, str] | None) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of ``kubectl devns ARGS``: kubectl's plugin discovery finds this venv's
    ``kubectl-devns`` on PATH; ``--kubeconfig`` goes first (a plugin gets every argument after its name)."""
    path = os.pathsep.join([str(Path(sys.executable).parent), str(Path(binaries.kubectl).parent),
                            os.environ.get("PATH", "")])
    flags = ["--kubeconfig", str(kubeconfig)] if kubeconfig is not None else []
    return [str(binaries.kubectl), "devns", *flags, *args], {**os.environ, "PATH": path, **(env or {})}


def devns_cli(binaries, kubeconfig: str | None, *args: str, input: str | None = None,
              env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``kubectl devns ARGS`` as a script runs it: stdin is ``input`` or empty, never the terminal pytest may run
    in (the plugin would prompt). None for ``kubeconfig`` leaves it to $KUBECONFIG in ``env``. Never raises on a
    non-zero exit: tests assert the exit code and stderr."""
    argv, environ = _devns(binaries, kubeconfig, args, env)
    stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(argv, **stdin, capture_output=True, text=True, timeout=timeout, env=environ)


def devns_pty(binaries, kubeconfig: str | None, *args: str, env: dict[str, str] | None = None,
              timeout: float = 60) -> pexpect.spawn:
    """``kubectl devns ARGS`` as a person at a keyboard runs it: on a pseudo-terminal (stdin, stdout and stderr),
    driven with pexpect (``expect`` what it prints, ``sendline`` the answers; ``timeout`` for each expect)."""
    argv, environ = _devns(binaries, kubeconfig, args, env)
    return pexpect.spawn(argv[0], argv[1:], env=environ, encoding="utf-8", timeout=timeout, dimensions=(50, 200))


def token_kubeconfig(cluster, k, sa: str, namespace: str = "devns-system") -> str:
    """A kubeconfig holding a real token of ServiceAccount ``sa`` (TokenRequest API), as an in-cluster pod has;
    ``cluster`` is a localk8s LocalCluster, ``k`` kubectl as its admin, and the file is mode 0600 in its state dir.

    Not the admin certificate with `as:` impersonation: neither the kubernetes Python client nor Kopf honours
    `as:` in a kubeconfig, so the operator would silently run as the admin."""
    token = k("create", "token", sa, "-n", namespace, "--duration=2h").stdout.strip()
    admin_config = json.loads(Path(cluster.kubeconfig).read_text())
    ca = admin_config["clusters"][0]["cluster"]["certificate-authority-data"]
    user = f"system:serviceaccount:{namespace}:{sa}"
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "sa",
        "clusters": [{"name": "localk8s", "cluster": {"server": cluster.server, "certificate-authority-data": ca}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "localk8s", "user": user}}],
    }
    path = cluster.state_dir / f"{sa}.token.kubeconfig"
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return str(path)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


class DevNamespaces:
    """Create, read, patch and wait on DevNamespaces as a platform admin."""

    def __init__(self, api):
        self.custom = CustomObjectsApi(api)
        self.core = kubernetes.client.CoreV1Api(api)

    def create(self, name: str, **spec) -> dict:
        spec.setdefault("owners", [{"kind": "User", "name": f"{name}@example.com"}])
        body = {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name},
                "spec": spec}
        return self.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, body)

    def get(self, name: str) -> dict:
        return self.custom.get_cluster_custom_object(GROUP, VERSION, PLURAL, name)

    def patch(self, name: str, spec: dict) -> dict:
        return self.custom.patch_cluster_custom_object(GROUP, VERSION, PLURAL, name, {"spec": spec})

    def delete(self, name: str) -> None:
        self.custom.delete_cluster_custom_object(GROUP, VERSION, PLURAL, name)

    def condition(self, name: str, type_: str = "Ready") -> dict:
        obj = self.get(name)
        return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == type_), {})

    def wait_phase(self, name: str, phase: str, timeout: float = 30) -> dict:
        def check():
            obj = self.get(name)
            status = obj.get("status") or {}
            current = status.get("observedGeneration") == obj["metadata"]["generation"]
            return obj if status.get("phase") == phase and current else None
        return wait_for(check, timeout=timeout, what=f"DevNamespace {name} phase {phase}")

    def events(self, name: str) -> list:
        return self.core.list_event_for_all_namespaces(field_selector=f"involvedObject.name={name}").items

    def wait_event(self, name: str, reason: str, type_: str | None = None, timeout: float = 30) -> list:
        """Events are posted in the background: wait until one with ``reason`` (and ``type_``) is there."""
        return wait_for(lambda: [e for e in self.events(name) if e.reason == reason
                                 and (type_ is None or e.type == type_)],
                        timeout=timeout, what=f"{reason} event on {name}")


def born_with_finalizer(dns: DevNamespaces) -> bool:
    """Whether a DevNamespace created now gets devns's finalizer at admission (manifests/base/finalizer-policy.yaml),
    asked with a server-side dry run: nothing is created."""
    body = {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": unique("probe")},
            "spec": {"owners": [{"kind": "User", "name": "probe@example.com"}]}}
    created = dns.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, body, dry_run="All")
    return FINALIZER in (created["metadata"].get("finalizers") or [])


# -- the operator's settings and its resume after a start ---------------------------------------------------------

#: Settings the e2e operator runs with: defaults, plus a deny-list pattern on top of the default reserved ones,
#: admin among the allowed roles, second-scale lifecycle timings (an 8 s warning lead, 6 s retention) and trusted
#: platform namespaces (trusted-*).
OPERATOR_ENV = {
    "DEVNS_RESERVED_NAMESPACES": json.dumps(["protected-*", *DEFAULT_RESERVED_NAMESPACES]),
    "DEVNS_ALLOWED_ROLES": '["edit", "view", "admin"]',
    "DEVNS_WARN_BEFORE": '["24h", "1h", "8s"]',
    "DEVNS_EXPIRED_RETENTION": "6s",
    # platform namespaces every DevNamespace may admit ingress from (test_attacks_network.py)
    "DEVNS_TRUSTED_SOURCE_NAMESPACES": json.dumps(["trusted-*"]),
    # the verification after a start reads every DevNamespace again: as fast as it goes here (a few hundred)
    "DEVNS_VERIFY_RATE": "100",
}

#: Results a resume (on.resume: a start-up's reconcile of an existing DevNamespace) can end with.
RESUME_RESULTS = tuple(r.value for r in (Result.UNCHANGED, Result.UPDATED, Result.CREATED, Result.SKIPPED,
                                          Result.FAILED, Result.RETRY))
#: A DevNamespace expiring sooner than this after the listing may be found expired by the resume (``skipped``).
EXPIRY_MARGIN = 120.0


def reconciles(operator, *results: str) -> float:
    """devns_reconciles_total of this operator process, summed over ``results`` (one scrape)."""
    samples = operator.metrics() or {}
    return sum(value for (name, labels), value in samples.items()
               if name == "devns_reconciles_total" and dict(labels).get("result") in results)


def resume_expectations(dns) -> tuple[list[str], set[str], set[str]]:
    """Every DevNamespace a start-up will resume (all but those being deleted: Kopf finalizes those), the ones
    among them that must resume as ``unchanged`` (not deleting, the current generation Ready or Expiring, not
    about to expire), and those that may resume either way (Ready but expiring within ``EXPIRY_MARGIN``)."""
    now, margin = dt.datetime.now(dt.timezone.utc), dt.timedelta(seconds=EXPIRY_MARGIN)
    live, settled, near = [], set(), set()
    for obj in dns.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)["items"]:
        meta, status = obj["metadata"], obj.get("status") or {}
        if meta.get("deletionTimestamp"):
            continue
        live.append(meta["name"])
        if status.get("phase") in ("Ready", "Expiring") and status.get("observedGeneration") == meta["generation"]:
            expires = status.get("expiresAt")  # RFC 3339 with Z, which fromisoformat reads since Python 3.11
            soon = expires is not None and dt.datetime.fromisoformat(expires) - now < margin
            (near if soon else settled).add(meta["name"])
    return live, settled, near


def wait_resumed(operator, live: list[str], expected: set[str], either: set[str]) -> None:
    """Wait until a freshly started ``operator`` has resumed every DevNamespace in ``live`` (from
    ``resume_expectations`` before the start) and assert the ``expected`` ones resumed as unchanged. The counter
    belongs to the new process, so it counts exactly this start-up's resumes."""
    wait_for(lambda: reconciles(operator, *RESUME_RESULTS) >= len(live), timeout=60,
             what=f"the resume of all {len(live)} DevNamespaces")
    wait_for(lambda: reconciles(operator, Result.UNCHANGED.value) >= len(expected), timeout=30,
             what=f"{len(expected)} DevNamespaces resumed as unchanged")
    unchanged = reconciles(operator, Result.UNCHANGED.value)
    assert len(expected) <= unchanged <= len(expected) + len(either), (unchanged, sorted(expected), sorted(either))


@contextlib.contextmanager
def operator_with(operator, **env):
    """Run the session's operator with other settings for the duration of a test, then restore it."""
    operator.restart(**env)
    try:
        yield operator
    finally:
        operator.restart()


def events(dns, name: str, reason: str, namespace: str | None = None) -> list:
    if namespace:
        items = dns.core.list_namespaced_event(namespace).items
    else:
        items = dns.core.list_event_for_all_namespaces(field_selector=f"involvedObject.name={name}").items
    return [e for e in items if e.reason == reason and e.involved_object.name == name]


# -- owners' workloads (idle namespaces) ---------------------------------------------------------------------------

_POD_TEMPLATE = {"metadata": {"labels": {"app": "web"}},
                 "spec": {"containers": [{"name": "web", "image": "registry.example/web:1"}]}}


def deployment(name: str, replicas: int) -> dict:
    """A Deployment body (no kubelet is needed: its replicas are what idle sleep changes)."""
    return {"metadata": {"name": name}, "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                                                 "template": _POD_TEMPLATE}}


def stateful_set(name: str, replicas: int) -> dict:
    return {"metadata": {"name": name}, "spec": {**deployment(name, replicas)["spec"], "serviceName": name}}


def cron_job(name: str) -> dict:
    """A nightly CronJob body."""
    return {"metadata": {"name": name}, "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {
        "spec": {"restartPolicy": "Never", "containers": [{"name": "job", "image": "registry.example/job:1"}]}}}}}}
