"""Set-up for a benchmark run: a fresh local control plane in a temp dir, the CRD, and the operator as a subprocess
running under its own identity (``devns-operator``) so the audit log can tell its requests apart.

``BenchEnv`` is a context manager: whatever happens (an exception, Ctrl-C), the operator and the control plane
are stopped on exit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Callable

import kubernetes
from kubernetes.client import ApiClient

from localk8s.binaries import Binaries, find_binaries
from localk8s.cluster import LocalCluster

ROOT = Path(__file__).resolve().parents[1]
OPERATOR_USER = "devns-operator"
#: From manifests/base: the ClusterRole clusterView grants, and the admission policies.
INSTALLED = ("cluster-view-clusterrole.yaml", "guardrails-policy.yaml", "finalizer-policy.yaml")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], object], *, timeout: float, what: str, interval: float = 0.1):
    """Call ``check`` until it returns something truthy; raise TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def api_client(kubeconfig: Path, pool: int = 64) -> ApiClient:
    """An official-client ApiClient whose connection pool is large enough for ``pool`` concurrent threads."""
    config = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(kubeconfig), client_configuration=config)
    config.connection_pool_maxsize = pool
    return ApiClient(config)


class Operator:
    """``python -m devns`` as a subprocess (own session: Ctrl-C in the terminal reaches only the benchmark)."""

    def __init__(self, kubeconfig: Path, log_path: Path, env: dict[str, str]):
        self.kubeconfig, self.log_path = kubeconfig, log_path
        self.metrics_port, self.health_port = free_port(), free_port()
        self.env = {**os.environ, **env, "DEVNS_METRICS_PORT": str(self.metrics_port)}
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0  # monotonic time of the last spawn

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def spawn(self) -> None:
        """Start the process and return at once (``wait_healthy`` waits for it)."""
        with open(self.log_path, "ab") as log:
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "devns", "--kubeconfig", str(self.kubeconfig),
                 "--liveness", f"http://127.0.0.1:{self.health_port}/healthz"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)

    def _get(self, path: str, port: int) -> bytes | None:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"operator exited with {self.proc and self.proc.returncode}; last lines of "
                               f"{self.log_path}:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
                return resp.read() if resp.status == 200 else None
        except OSError:
            return None

    def wait_healthy(self, timeout: float = 60.0) -> float:
        """Wait for the liveness endpoint; return seconds since spawn."""
        wait_for(lambda: self._get("/healthz", self.health_port) is not None, timeout=timeout,
                 what="operator liveness endpoint")
        return time.monotonic() - self.started_at

    def start(self, timeout: float = 60.0) -> float:
        self.spawn()
        return self.wait_healthy(timeout)

    def stop(self, grace: float = 15.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        """All samples from /metrics as {(name, sorted labels): value}, or None while it does not answer."""
        from prometheus_client.parser import text_string_to_metric_families
        raw = self._get("/metrics", self.metrics_port)
        if raw is None:
            return None
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(raw.decode()) for s in family.samples}

    def metric_sum(self, name: str, **labels: str) -> float | None:
        samples = self.metrics()
        if samples is None:
            return None
        return sum(v for (n, ls), v in samples.items()
                   if n == name and all(dict(ls).get(k) == want for k, want in labels.items()))

    def rss_bytes(self) -> int:
        """Resident set size from /proc/<pid>/status (VmRSS)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS in /proc status")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


class BenchEnv:
    """A fresh control plane with devns installed and the operator running; stops everything on exit."""

    def __init__(self, *, operator_env: dict[str, str], keep_state: bool = False, log=print):
        self.operator_env, self.keep_state, self.log = operator_env, keep_state, log
        self.binaries: Binaries | None = None
        self.cluster: LocalCluster | None = None
        self.operator: Operator | None = None
        self.api: ApiClient | None = None

    def __enter__(self) -> "BenchEnv":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def state_dir(self) -> Path:
        assert self.cluster is not None
        return self.cluster.state_dir

    def start(self) -> None:
        started = time.monotonic()
        self.binaries = find_binaries(log=self.log)
        self.cluster = LocalCluster(state_dir=Path(tempfile.mkdtemp(prefix="devns-bench-")), binaries=self.binaries)
        # Installed before the controllers start, as on a cluster where devns has been installed for a while: the
        # garbage collector watches DevNamespaces from the start instead of GETting the owner of every new child.
        self.cluster.start(before_controllers=self.install)
        self.api = api_client(self.cluster.kubeconfig)
        operator_kubeconfig = self.cluster.kubeconfig_for(OPERATOR_USER, ("system:masters",))
        self.operator = Operator(operator_kubeconfig, self.cluster.log_path("operator"), self.operator_env)
        self.operator.start()
        self.log(f"[setup] control plane {self.cluster.server} ({self.state_dir}) and operator pid "
                 f"{self.operator.pid} ready in {time.monotonic() - started:.1f} s")

    def install(self) -> None:
        """What the install bundle (manifests/base) puts into the API server, so its cost is measured too."""
        self.kubectl("apply", "--server-side", "-f", str(ROOT / "crds"),
                     *(arg for name in INSTALLED for arg in ("-f", str(ROOT / "manifests/base" / name))))
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/devnamespaces.devns.io")

    def stop(self) -> None:
        started = time.monotonic()
        if self.operator is not None:
            self.operator.stop()
        stopped = time.monotonic()
        if self.api is not None:
            self.api.close()
        if self.cluster is not None:
            self.cluster.stop(remove_state=not self.keep_state)
            kept = f"; state kept in {self.cluster.state_dir}" if self.keep_state else ""
            self.log(f"[teardown] operator stopped in {stopped - started:.1f} s, control plane in "
                     f"{time.monotonic() - stopped:.1f} s{kept}")

    def kubectl(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        assert self.binaries is not None and self.cluster is not None
        proc = subprocess.run([str(self.binaries.kubectl), "--kubeconfig", str(self.cluster.kubeconfig), *args],
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc
