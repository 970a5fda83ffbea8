"""Set-up for a benchmark run: a fresh local control plane in a temp dir, what a platform admin installs
(testkit.install), and the operator as a subprocess running under its own identity (``devns-operator``) so the
audit log can tell its requests apart.

``BenchEnv`` is a context manager: whatever happens (an exception, Ctrl-C), the operator and the control plane
are stopped on exit.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from kubernetes.client import ApiClient

from localk8s.binaries import Binaries, find_binaries
from localk8s.cluster import LocalCluster
from testkit.clients import client
from testkit.install import install
from testkit.kubectl import kubectl
from testkit.operator_process import OPERATOR_USER, OperatorProcess

ROOT = Path(__file__).resolve().parents[1]


class BenchEnv:
    """A fresh control plane with devns installed and the operator running; stops everything on exit."""

    def __init__(self, *, operator_env: dict[str, str], keep_state: bool = False, log=print):
        self.operator_env, self.keep_state, self.log = operator_env, keep_state, log
        self.binaries: Binaries | None = None
        self.cluster: LocalCluster | None = None
        self.operator: OperatorProcess | None = None
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
        self.api = client(self.cluster.kubeconfig, pool=64)  # shared by the scenarios' client threads
        operator_kubeconfig = self.cluster.kubeconfig_for(OPERATOR_USER, ("system:masters",))
        # its own session: Ctrl-C in the terminal reaches only the benchmark, which stops the operator on exit
        self.operator = OperatorProcess(operator_kubeconfig, self.cluster.log_path("operator"), self.operator_env,
                                        new_session=True)
        self.operator.start()
        self.log(f"[setup] control plane {self.cluster.server} ({self.state_dir}) and operator pid "
                 f"{self.operator.pid} ready in {time.monotonic() - started:.1f} s")

    def install(self) -> None:
        """What a platform admin applies (testkit.install), put into the API server so its cost is measured too."""
        install(self.binaries.kubectl, self.cluster.kubeconfig)

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
        """The pinned kubectl as the cluster admin."""
        assert self.binaries is not None and self.cluster is not None
        return kubectl(self.binaries.kubectl, self.cluster.kubeconfig, *args, check=check, timeout=timeout)
