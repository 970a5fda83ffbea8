"""The image's command, run for real: ENTRYPOINT `devns-operator` plus the Deployment's args, from a fresh venv
with a plain `pip install .` of the package (what the Dockerfile's builder stage does). No Docker engine here,
so this is as close to `docker run` as the machine allows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support import unique
from testkit.operator_process import OperatorProcess

ROOT = Path(__file__).resolve().parents[2]


def entrypoint() -> list[str]:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    final = [l for l in lines if l.startswith("ENTRYPOINT")][-1]
    return json.loads(final.split(None, 1)[1])


def deployment_args() -> list[str]:
    deployment = yaml.safe_load((ROOT / "manifests/base/deployment/deployment.yaml").read_text())
    return deployment["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("image-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
                   check=True, timeout=600)
    return venv


def test_the_image_command_runs_the_operator_with_json_logs(fresh_venv, installed, operator_kubeconfig, dns,
                                                             operator, tmp_path):
    command = entrypoint()
    assert command == ["devns-operator"]
    image = OperatorProcess(operator_kubeconfig, tmp_path / "image.log", env={"KUBECONFIG": operator_kubeconfig},
                            command=[str(fresh_venv / "bin" / command[0])])
    image.args = tuple(a.replace("0.0.0.0:8081", f"127.0.0.1:{image.health_port}") for a in deployment_args())
    operator.stop()  # one operator acting at a time
    try:
        image.start(timeout=60)
        name = unique("image")
        dns.create(name)
        dns.wait_phase(name, "Ready")
        records = [json.loads(line) for line in image.log_path.read_text().splitlines() if line.startswith("{")]
        assert any(f"devnamespace/{name}: created" in r.get("message", "") for r in records)
        dns.delete(name)
    finally:
        image.stop()
        operator.start()
