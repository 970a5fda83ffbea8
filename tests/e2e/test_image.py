"""The operator's container image, built and run on this machine: `make image`'s build (localk8s.image, podman on
bases made from Debian packages; the bases once per machine, the layers cached), then the container as the
Deployment runs it (uid 10001, read-only root filesystem, no capabilities, its args), with host networking
against the session's control plane and a real token of the operator's ServiceAccount under the RBAC
manifests/base installs. It replaces a test that ran the entrypoint from a fresh venv: this one runs the image.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from localk8s import image as images
from support import OPERATOR_ENV, gone, kubectl, token_kubeconfig, unique
from testkit.audit import AuditLog
from testkit.operator_process import OperatorProcess
from testkit.waiting import wait_for

BASE = images.ROOT / "manifests" / "base"
SA = "system:serviceaccount:devns-system:devns-operator"
#: The Deployment's container securityContext, as podman flags (the user is the image's own, 10001:10001).
LOCKED_DOWN = ("--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges")
KUBECONFIG = "/etc/devns/kubeconfig"
#: Run inside the image: who it runs as, whether / is read-only, and what must not be there.
PROBE = """
import importlib.util, json, os, devns
mounts = [line.split() for line in open("/proc/self/mountinfo")]
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "devns": devns.__file__,
    "root_options": [m[5] for m in mounts if m[4] == "/"][-1].split(","),
    "present": [m for m in ("pip", "setuptools", "wheel", "localk8s", "testkit", "pytest", "kubernetes.aio")
                if importlib.util.find_spec(m.split(".")[0]) and importlib.util.find_spec(m)],
}))
"""


def deployment_args() -> list[str]:
    deployment = yaml.safe_load((BASE / "deployment" / "deployment.yaml").read_text())
    return deployment["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.fixture(scope="module")
def image() -> images.Built:
    """The image, as `make image` builds it (without exporting the archive)."""
    return images.build(archive=None, engine="podman", log=lambda _line: None)


@pytest.fixture(scope="module")
def podman() -> images.Podman:
    return images.podman()


@pytest.fixture(scope="module")
def operator_rbac(binaries, kubeconfig):
    """The operator's ServiceAccount and RBAC as manifests/base installs them, on the session's control plane;
    removed at the end (rbac-seeds.yaml stays: it holds the seed source namespace other modules use)."""
    files = [str(BASE / f) for f in ("serviceaccount.yaml", "rbac.yaml", "rbac-seeds.yaml")]
    kubectl(binaries, kubeconfig, "apply", "--server-side", "--force-conflicts", *(a for f in files for a in ("-f", f)))
    yield
    kubectl(binaries, kubeconfig, "delete", "--ignore-not-found", *(a for f in files[:2] for a in ("-f", f)))


def test_the_image_runs_as_10001_read_only_and_holds_only_the_operator(image, podman):
    config = json.loads(podman("image", "inspect", "--format", "{{json .Config}}", image.tag))
    assert config["User"] == "10001:10001" and config["Entrypoint"] == ["devns-operator"]
    probe = json.loads(podman("run", "--rm", *LOCKED_DOWN, "--entrypoint", "python3", image.tag, "-c", PROBE))
    assert (probe["uid"], probe["gid"]) == (10001, 10001)
    assert "ro" in probe["root_options"], probe
    assert probe["devns"].startswith("/opt/venv/"), probe
    assert probe["present"] == [], f"not for the image: {probe['present']}"
    assert image.size_bytes < 200e6, f"the image grew to {image.size_bytes / 1e6:.0f} MB (README states 176 MB)"


def test_the_image_provisions_with_the_serviceaccount_and_stops_cleanly_on_sigterm(
        image, podman, operator_rbac, cluster, binaries, kubeconfig, installed, operator, dns, core, tmp_path):
    token = token_kubeconfig(cluster, lambda *a: kubectl(binaries, kubeconfig, *a), "devns-operator")
    os.chown(token, 10001, 10001)  # mode 0600: readable by the container's user only
    name, container = unique("image"), unique("devns-image")
    proc = OperatorProcess(token, tmp_path / "image.log", env=podman.env)
    settings = {**OPERATOR_ENV, "KUBECONFIG": KUBECONFIG, "DEVNS_METRICS_PORT": str(proc.metrics_port)}
    proc.command = ["podman", "run", "--rm", "--name", container, "--network", "host", *LOCKED_DOWN,
                    "-v", f"{token}:{KUBECONFIG}:ro", *(a for k, v in settings.items() for a in ("-e", f"{k}={v}")),
                    image.tag]
    proc.args = tuple(a.replace("0.0.0.0:8081", f"127.0.0.1:{proc.health_port}") for a in deployment_args())
    audit = AuditLog(cluster.audit_log)
    operator.stop()  # one operator acting at a time
    try:
        proc.start(timeout=60)
        mark = audit.mark()
        dns.create(name)
        dns.wait_phase(name, "Ready")
        audit.wait_logged(mark, SA, "create namespaces", name)  # the namespace is the ServiceAccount's work
        records = [json.loads(line) for line in proc.log_path.read_text().splitlines() if line.startswith("{")]
        assert any(f"devnamespace/{name}: created" in r.get("message", "") for r in records)

        dns.delete(name)
        wait_for(lambda: gone(lambda: dns.get(name)), timeout=60, what="DevNamespace gone")
        wait_for(lambda: gone(lambda: core.read_namespace(name)), timeout=60, what="namespace gone")

        podman("stop", "--time", "20", container)  # SIGTERM, SIGKILL only after 20 s
        assert proc.proc.wait(timeout=30) == 0, proc.log_tail(40)
        about = [line for line in proc.log_path.read_text(errors="replace").splitlines() if name in line]
        assert about and not [line for line in about if "orbidden" in line], proc.log_tail(80)
    finally:
        proc.stop()
        subprocess.run(["podman", "rm", "--force", "--ignore", container], env=podman.env, capture_output=True)
        operator.start()
