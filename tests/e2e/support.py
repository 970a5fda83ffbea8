"""Helpers shared by the e2e tests: waiting for a condition, API clients, impersonation, the operator process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Callable, TypeVar

import kubernetes
from kubernetes.client import ApiClient, CustomObjectsApi
from kubernetes.client.rest import ApiException

T = TypeVar("T")
GROUP, VERSION, PLURAL = "devns.io", "v1alpha1", "devnamespaces"


def wait_for(check: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; fail with the last value (or error) after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = value
        except (ApiException, AssertionError, KeyError, TypeError) as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def client(kubeconfig: str, *, user: str | None = None, groups: tuple[str, ...] = ()) -> ApiClient:
    """An API client for the kubeconfig's identity, or impersonating ``user`` (and at most one group)."""
    api = kubernetes.config.new_client_from_config(config_file=kubeconfig)
    if user:
        api.set_default_header("Impersonate-User", user)
        for group in groups[:1]:  # the client sends one value per header name
            api.set_default_header("Impersonate-Group", group)
    return api


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


class OperatorProcess:
    """`devns-operator` as a real subprocess against the local control plane, with its own log file."""

    def __init__(self, kubeconfig: str, log_path: Path, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = (), command: list[str] | None = None):
        """``command`` replaces ``python -m devns --kubeconfig K --liveness URL``; then ``args`` must pass a
        liveness URL on ``health_port`` and ``env`` the KUBECONFIG."""
        self.kubeconfig, self.log_path, self.args, self.command = kubeconfig, log_path, args, command
        self.metrics_port = free_port()
        self.health_port = free_port()
        self.base_env = {**os.environ, "DEVNS_METRICS_PORT": str(self.metrics_port), **(env or {})}
        self.env = dict(self.base_env)
        self.proc: subprocess.Popen | None = None

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self, timeout: float = 30.0) -> "OperatorProcess":
        log = open(self.log_path, "ab")
        command = self.command or [sys.executable, "-m", "devns", "--kubeconfig", self.kubeconfig,
                                   "--liveness", f"http://127.0.0.1:{self.health_port}/healthz"]
        self.proc = subprocess.Popen(
            [*command, *self.args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

        def healthy() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/healthz", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_for(healthy, timeout=timeout, what="operator liveness endpoint")
        return self

    def restart(self, **env: str) -> "OperatorProcess":
        """Stop, then start again with these DEVNS_* overrides on top of the original environment."""
        self.stop()
        self.env = {**self.base_env, **env}
        return self.start()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: a crash, no clean-up."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """Current value of one sample scraped from /metrics (None if absent)."""
        from prometheus_client.parser import text_string_to_metric_families
        with urllib.request.urlopen(self.metrics_url, timeout=5) as resp:
            text = resp.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in (labels or {}).items()):
                    return sample.value
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kubectl(binaries, kubeconfig: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the pinned kubectl against the test cluster."""
    return subprocess.run([str(binaries.kubectl), "--kubeconfig", kubeconfig, *args], capture_output=True,
                          text=True, check=check, timeout=60)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


class DevNamespaces:
    """Create, read, patch and wait on DevNamespaces as a platform admin."""

    def __init__(self, api):
        self.custom = CustomObjectsApi(api)
        self.core = kubernetes.client.CoreV1Api(api)

    def create(self, name: str, **spec) -> dict:
        spec.setdefault("owners", [{"kind": "User", "name": f"{name}@example.com"}])
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DevNamespace", "metadata": {"name": name},
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
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DevNamespace", "metadata": {"name": unique("probe")},
            "spec": {"owners": [{"kind": "User", "name": "probe@example.com"}]}}
    created = dns.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, body, dry_run="All")
    return "devns.io/finalizer" in (created["metadata"].get("finalizers") or [])


WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


class AuditLog:
    """The local control plane's audit log (Metadata level): who did what, counted from a mark onwards."""

    def __init__(self, path: Path):
        self.path = path

    def mark(self) -> int:
        return self.path.stat().st_size

    def requests(self, since: int, user: str) -> list[tuple[str, str, str, str]]:
        """(verb, resource, subresource, namespace/name) of every completed request by ``user`` after ``since``."""
        out = []
        with open(self.path, "rb") as f:
            f.seek(since)
            for line in f:
                entry = json.loads(line)
                if entry.get("user", {}).get("username") == user and entry.get("stage") == "ResponseComplete":
                    ref = entry.get("objectRef") or {}
                    out.append((entry["verb"], ref.get("resource", ""), ref.get("subresource", ""),
                                f"{ref.get('namespace', '')}/{ref.get('name', '')}"))
        return out

    def writes(self, since: int, user: str, touching: set[str] | None = None) -> list[tuple[str, str, str, str]]:
        """Write requests, optionally only those on objects named in ``touching`` or inside those namespaces."""
        return [r for r in self.requests(since, user) if r[0] in WRITE_VERBS and (
            touching is None or any(part in touching for part in r[3].split("/")))]
