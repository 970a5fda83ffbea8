"""The onboarding KPI: from an admin starting to onboard a new developer to that developer's first successful
`kubectl create deployment` with the kubeconfig they were handed, done two ways on the same control plane:

- devns: one `kubectl devns onboard USER --team T -f FILE` (through kubectl's plugin discovery), then the
  developer's `kubectl create deployment` (no -n: the kubeconfig's context names their namespace);
- the book's manual recipe, scripted: openssl for the key and CSR, then one kubectl call per step (create the CSR,
  approve, poll for the certificate, create the namespace, annotate it, bind the role, add a quota, build the
  kubeconfig, delete the CSR), then the same `kubectl create deployment`. It does less than devns (no LimitRange,
  NetworkPolicies, Pod Security labels, expiry).

Each developer's clock stops at the first `create deployment` that succeeds (RBAC takes effect through a watch
in the API server; a refusal is retried at once). p50/p99 over ``count`` developers each way.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from .measure import Distribution, fmt_s
from .scenarios import Bench, delete_devnamespaces

SECTION = "Onboarding"
TARGET_P50 = 3.0  # seconds
TARGET_SPEEDUP = 5.0  # times faster than the scripted recipe
IMAGE = "registry.k8s.io/pause:3.10"


def _run(args: list[str], env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])}... failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def _first_deployment(kubectl: str, kubeconfig: Path, started: float, timeout: float = 60.0) -> float:
    """Seconds from ``started`` to the developer's first successful `kubectl create deployment`."""
    deadline = time.monotonic() + timeout
    while True:
        proc = _run([kubectl, "--kubeconfig", str(kubeconfig), "create", "deployment", "app", f"--image={IMAGE}"],
                    check=False)
        if proc.returncode == 0:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise RuntimeError(f"the developer's create deployment still fails: {proc.stderr.strip()}")


def _plugin_env(b: Bench) -> dict[str, str]:
    """PATH with this venv's bin (kubectl-devns) and the pinned kubectl, as an admin's shell would have."""
    path = os.pathsep.join([str(Path(sys.executable).parent), str(Path(b.env.binaries.kubectl).parent),
                            os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path}


def with_devns(b: Bench, count: int, workdir: Path) -> tuple[Distribution, list[str]]:
    kubectl, admin, env = str(b.env.binaries.kubectl), str(b.env.cluster.kubeconfig), _plugin_env(b)
    times, names = [], []
    for i in range(count):
        user, out = f"kpi{i}-{uuid.uuid4().hex[:4]}@example.com", workdir / f"devns-{i}.kubeconfig"
        started = time.monotonic()
        _run([kubectl, "devns", "--kubeconfig", admin, "onboard", user, "--team", "kpi", "--ttl", "1h",
              "-f", str(out)], env=env)
        times.append(_first_deployment(kubectl, out, started))
        names.append(f"{user.split('@')[0]}-kpi")
    return Distribution.of(times), names


def _csr_yaml(name: str, request_pem: bytes) -> str:
    return f"""apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {{name: {name}}}
spec:
  request: {base64.b64encode(request_pem).decode()}
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 2592000
  usages: [client auth]
"""


def by_recipe(b: Bench, count: int, workdir: Path) -> tuple[Distribution, list[str]]:
    """The book's steps, one process each, as a platform engineer would script them."""
    kubectl, admin = str(b.env.binaries.kubectl), str(b.env.cluster.kubeconfig)
    server, ca = b.env.cluster.server, str(b.env.cluster.state_dir / "pki" / "ca.crt")
    k = lambda *args, check=True: _run([kubectl, "--kubeconfig", admin, *args], check=check)  # noqa: E731
    times, namespaces = [], []
    for i in range(count):
        user = f"manual{i}-{uuid.uuid4().hex[:4]}"
        key, csr, crt, cfg = (workdir / f"{user}.{ext}" for ext in ("key", "csr", "crt", "kubeconfig"))
        started = time.monotonic()
        _run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key)])
        _run(["openssl", "req", "-new", "-key", str(key), "-subj", f"/CN={user}/O=kpi", "-out", str(csr)])
        manifest = workdir / f"{user}-csr.yaml"
        manifest.write_text(_csr_yaml(user, csr.read_bytes()))
        k("create", "-f", str(manifest))
        k("certificate", "approve", user)
        while not (cert := k("get", "csr", user, "-o", "jsonpath={.status.certificate}").stdout.strip()):
            pass  # the book: "wait for the certificate"; polled as fast as kubectl starts
        crt.write_bytes(base64.b64decode(cert))
        k("create", "namespace", user)
        k("annotate", "namespace", user, f"owner={user}", "team=kpi", "purpose=onboarding")
        k("create", "rolebinding", "owner-edit", "--clusterrole=edit", f"--user={user}", "-n", user)
        k("create", "quota", "dev-quota", "--hard=requests.cpu=2,requests.memory=4Gi,pods=50", "-n", user)
        c = lambda *args: _run([kubectl, "--kubeconfig", str(cfg), "config", *args])  # noqa: E731
        c("set-cluster", "dev", f"--server={server}", f"--certificate-authority={ca}", "--embed-certs")
        c("set-credentials", user, f"--client-certificate={crt}", f"--client-key={key}", "--embed-certs")
        c("set-context", "dev", "--cluster=dev", f"--user={user}", f"--namespace={user}")
        c("use-context", "dev")
        k("delete", "csr", user)
        times.append(_first_deployment(kubectl, cfg, started))
        namespaces.append(user)
    return Distribution.of(times), namespaces


def onboarding(b: Bench, count: int) -> None:
    """Both ways, ``count`` developers each; the devns DevNamespaces are deleted again, the recipe's namespaces
    too."""
    with tempfile.TemporaryDirectory(prefix="devns-bench-onboard-") as tmp:
        ours, names = with_devns(b, count, Path(tmp))
        manual, namespaces = by_recipe(b, count, Path(tmp))
    speedup = manual.p50 / ours.p50
    b.report.add(SECTION, f"kubectl devns onboard -> first deployment, p50 (n={count})", fmt_s(ours.p50),
                 f"<= {TARGET_P50:g} s", ours.p50 <= TARGET_P50)
    b.report.add(SECTION, f"kubectl devns onboard -> first deployment, p99 (n={count})", fmt_s(ours.p99))
    b.report.add(SECTION, f"book's recipe scripted (openssl + kubectl per step), p50 (n={count})",
                 fmt_s(manual.p50))
    b.report.add(SECTION, f"book's recipe scripted, p99 (n={count})", fmt_s(manual.p99))
    b.report.add(SECTION, "devns vs the scripted recipe (p50)", f"{speedup:.1f}x faster",
                 f">= {TARGET_SPEEDUP:g}x", speedup >= TARGET_SPEEDUP)
    b.log(f"[onboarding] devns p50 {fmt_s(ours.p50)} p99 {fmt_s(ours.p99)}; recipe p50 {fmt_s(manual.p50)} "
          f"p99 {fmt_s(manual.p99)}: {speedup:.1f}x")
    delete_devnamespaces(b, names, "onboarded developers")
    b.env.kubectl("delete", "namespace", "--wait=false", *namespaces)
