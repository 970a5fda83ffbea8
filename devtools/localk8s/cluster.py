"""Run etcd, kube-apiserver and kube-controller-manager on free loopback ports, and stop them again.

The API server runs as upstream ships it: secure serving only, ``--authorization-mode=Node,RBAC``, the default
admission plugins (NamespaceLifecycle, LimitRanger, ServiceAccount, PodSecurity, ResourceQuota,
ValidatingAdmissionPolicy, ...), a service-account signing key and an audit log (Metadata level) so tests can count
who wrote what. The controller manager runs its default controllers (namespace, garbagecollector, resourcequota,
serviceaccount, serviceaccount-token, ...) with per-controller service-account credentials, as kubeadm does.
There is no scheduler and no kubelet: pods stay Pending.

A cluster lives in one state directory: PKI, etcd data, logs, kubeconfig and ``state.json`` (pids and ports), so a
detached cluster (``make cluster``) can be found and stopped by a later process.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .binaries import Binaries
from .pki import Pki, issue_client_cert, make_pki
from .versions import KUBERNETES_VERSION

SERVICE_CIDR = "10.0.0.0/24"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
"""


class ClusterError(RuntimeError):
    """The control plane could not start or is not healthy; the message carries the relevant log tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it; the caller binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


@dataclass
class LocalCluster:
    """One local control plane rooted at ``state_dir``."""

    state_dir: Path
    binaries: Binaries
    apiserver_port: int | None = None
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    _procs: dict[str, subprocess.Popen] = field(default_factory=dict, repr=False)
    _args: dict[str, list[str]] = field(default_factory=dict, repr=False)

    # -- paths ---------------------------------------------------------------------------------------------
    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def env_file(self) -> Path:
        return self.state_dir / "env"

    @property
    def audit_log(self) -> Path:
        return self.state_dir / "logs" / "audit.log"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    def log_path(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self, timeout: float = 90.0, before_controllers: Callable[[], None] | None = None) -> None:
        """Start every process and return once the API server is ready and the controllers run.

        ``before_controllers`` runs once the API server is ready, before kube-controller-manager starts: CRDs
        installed there are watched by its garbage collector from the start, as on a cluster where they were
        installed long ago (CRDs installed later are picked up by a discovery poll every 30 s; until then the
        collector checks the owner of every new object with a GET)."""
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "logs").mkdir(exist_ok=True)
        if self.apiserver_port and port_in_use(self.apiserver_port):
            raise ClusterError(f"port {self.apiserver_port} on 127.0.0.1 is in use: stop what listens there or "
                               "choose another port")
        self.ports = {"etcd": free_port(), "etcd-peer": free_port(), "kcm": free_port(),
                      "apiserver": self.apiserver_port or free_port()}
        pki = make_pki(self.state_dir / "pki")
        (self.state_dir / "audit-policy.yaml").write_text(AUDIT_POLICY)
        self._write_kubeconfig(self.kubeconfig, pki, pki.admin_crt, pki.admin_key, "localk8s-admin")
        kcm_kubeconfig = self.state_dir / "kcm.kubeconfig"
        self._write_kubeconfig(kcm_kubeconfig, pki, pki.kcm_crt, pki.kcm_key, "kube-controller-manager")
        self.env_file.write_text(
            f"# source me: the local control plane's admin kubeconfig; the pinned kubectl and this environment's\n"
            f"# scripts (kubectl-devns, the kubectl plugin) first on PATH\n"
            f"export KUBECONFIG={self.kubeconfig}\n"
            f"export PATH={self.binaries.directory}:{Path(sys.executable).parent}:$PATH\n")
        try:
            self._spawn("etcd", self._etcd_args())
            self._wait(lambda: self._http_ok(f"http://127.0.0.1:{self.ports['etcd']}/health"), "etcd",
                       started + timeout)
            self._spawn("kube-apiserver", self._apiserver_args(pki))
            self._wait(lambda: self._api_ok("/readyz", pki), "kube-apiserver /readyz", started + timeout)
            if before_controllers is not None:
                before_controllers()
            self._spawn("kube-controller-manager", self._kcm_args(pki, kcm_kubeconfig))
            # The serviceaccount controller creating `default/default` proves the controller manager works; pods
            # cannot be created before their namespace's `default` ServiceAccount exists anyway.
            self._wait(lambda: self._api_ok("/api/v1/namespaces/default/serviceaccounts/default", pki),
                       "kube-controller-manager (default ServiceAccount)", started + timeout)
        except BaseException:
            self.stop(remove_state=False)
            raise
        self._save()

    def stop(self, *, remove_state: bool = True, grace: float = 10.0) -> None:
        """Stop every process this cluster started (controllers first, etcd last) and remove its state."""
        for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
            if name in self.pids:
                self._terminate(name, grace)
        self.pids.clear()
        self._procs.clear()
        if remove_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def restart_apiserver(self, timeout: float = 60.0) -> None:
        """Stop kube-apiserver (SIGTERM, then SIGKILL) and start it again with the same flags and port: what a
        control-plane upgrade or crash looks like to clients."""
        self._terminate("kube-apiserver", grace=15.0)
        self._spawn("kube-apiserver", self._args["kube-apiserver"])
        self._wait(lambda: self._api_ok("/readyz", self._pki()), "kube-apiserver /readyz after restart",
                   time.monotonic() + timeout)
        self._save()

    def kubeconfig_for(self, user: str, groups: tuple[str, ...] = ()) -> Path:
        """A kubeconfig authenticating as ``user`` (client certificate) in ``groups``: a distinct identity that
        the audit log and RBAC see as such."""
        pki = self._pki()
        crt, key = issue_client_cert(pki, self.state_dir / "pki", user, groups)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user)
        path = self.state_dir / f"{safe}.kubeconfig"
        self._write_kubeconfig(path, pki, crt, key, user)
        return path

    def healthy(self) -> bool:
        if not self.pids or not all(pid_alive(p) for p in self.pids.values()):
            return False
        return self._api_ok("/readyz", self._pki())

    @classmethod
    def load(cls, state_dir: Path, binaries: Binaries) -> "LocalCluster | None":
        """The cluster recorded in ``state_dir`` by an earlier process, or None."""
        try:
            state = json.loads((state_dir / "state.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        return cls(state_dir=state_dir, binaries=binaries, ports=state["ports"], pids=state["pids"])

    # -- internals -----------------------------------------------------------------------------------------
    def _save(self) -> None:
        state = {"kubernetes": KUBERNETES_VERSION, "ports": self.ports, "pids": self.pids,
                 "kubeconfig": str(self.kubeconfig)}
        (self.state_dir / "state.json").write_text(json.dumps(state, indent=2) + "\n")

    def _pki(self) -> Pki:
        d = self.state_dir / "pki"
        return Pki(*(d / f for f in ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt",
                                     "admin.key", "kcm.crt", "kcm.key", "sa.key", "sa.pub")))

    def _alive(self, name: str) -> bool:
        proc = self._procs.get(name)
        if proc is not None:
            return proc.poll() is None
        pid = self.pids.get(name)
        return pid is not None and pid_alive(pid)

    def _terminate(self, name: str, grace: float) -> None:
        """SIGTERM to the component's process group, SIGKILL after ``grace`` seconds; return once it is gone."""
        pid = self.pids[name]
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                return
            deadline = None if wait is None else time.monotonic() + wait
            while self._alive(name) and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.05)
            if not self._alive(name):
                return

    def _spawn(self, name: str, args: list[str]) -> None:
        binary = {"etcd": self.binaries.etcd, "kube-apiserver": self.binaries.kube_apiserver,
                  "kube-controller-manager": self.binaries.kube_controller_manager}[name]
        with open(self.log_path(name), "ab") as log:
            proc = subprocess.Popen([str(binary), *args], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.state_dir)
        self._procs[name] = proc
        self.pids[name] = proc.pid
        self._args[name] = args

    def _wait(self, check, what: str, deadline: float) -> None:
        while True:
            for name in list(self._procs):
                if not self._alive(name):
                    code = self._procs[name].poll()
                    raise ClusterError(f"{name} exited with code {code} while waiting for {what}; last lines of "
                                       f"{self.log_path(name)}:\n{log_tail(self.log_path(name))}")
            if check():
                return
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {n} ---\n{log_tail(self.log_path(n), 15)}" for n in self._procs)
                raise ClusterError(f"timed out waiting for {what}\n{logs}")
            time.sleep(0.1)

    @staticmethod
    def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def _api_ok(self, path: str, pki: Pki) -> bool:
        ctx = ssl.create_default_context(cafile=str(pki.ca_crt))
        ctx.load_cert_chain(str(pki.admin_crt), str(pki.admin_key))
        return self._http_ok(self.server + path, ctx)

    def _etcd_args(self) -> list[str]:
        client, peer = f"http://127.0.0.1:{self.ports['etcd']}", f"http://127.0.0.1:{self.ports['etcd-peer']}"
        return [
            "--name=localk8s", f"--data-dir={self.state_dir / 'etcd'}",
            f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=localk8s={peer}",
            "--unsafe-no-fsync",  # throw-away data: durability buys nothing, fsync costs seconds under load
            # room for the cluster's limit of 10,000 namespaces (~100,000 objects, `make bench ARGS=--scale`):
            # the default 2 GiB quota is the etcd size, history included, at which etcd refuses writes
            "--quota-backend-bytes=8589934592",
            "--log-level=warn",
        ]

    def _apiserver_args(self, pki: Pki) -> list[str]:
        return [
            f"--etcd-servers=http://127.0.0.1:{self.ports['etcd']}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={self.ports['apiserver']}",
            f"--cert-dir={self.state_dir / 'pki'}",
            f"--tls-cert-file={pki.serving_crt}", f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_crt}",
            "--authorization-mode=Node,RBAC",
            f"--service-account-issuer={SA_ISSUER}",
            f"--service-account-key-file={pki.sa_pub}", f"--service-account-signing-key-file={pki.sa_key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--allow-privileged=true",
            "--endpoint-reconciler-type=none",  # the `kubernetes` Service cannot point at a loopback address
            f"--audit-policy-file={self.state_dir / 'audit-policy.yaml'}",
            f"--audit-log-path={self.audit_log}", "--audit-log-maxsize=200", "--audit-log-maxbackup=1",
            "--profiling=true",
        ]

    def _kcm_args(self, pki: Pki, kubeconfig: Path) -> list[str]:
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
            "--authentication-skip-lookup=true",  # no front-proxy CA here: do not look for one
            "--bind-address=127.0.0.1", f"--secure-port={self.ports['kcm']}",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki.sa_key}", f"--root-ca-file={pki.ca_crt}",
            f"--cluster-signing-cert-file={pki.ca_crt}", f"--cluster-signing-key-file={pki.ca_key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--profiling=false",
        ]

    def _write_kubeconfig(self, path: Path, pki: Pki, crt: Path, key: Path, user: str) -> None:
        b64 = lambda p: base64.b64encode(p.read_bytes()).decode()  # noqa: E731
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "localk8s",
            "clusters": [{"name": "localk8s", "cluster": {"server": self.server,
                                                          "certificate-authority-data": b64(pki.ca_crt)}}],
            "users": [{"name": user, "user": {"client-certificate-data": b64(crt), "client-key-data": b64(key)}}],
            "contexts": [{"name": "localk8s", "context": {"cluster": "localk8s", "user": user}}],
        }
        path.write_text(json.dumps(config, indent=2) + "\n")  # JSON is valid YAML: no extra dependency
        path.chmod(0o600)
