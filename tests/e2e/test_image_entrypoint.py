"""The image's command, run for real: ENTRYPOINT `devns-operator` plus the Deployment's args, from a fresh venv
with a plain `pip install .` of the package (what the Dockerfile's builder stage does). No Docker engine here,
so this is as close to `docker run` as the machine allows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from support import free_port, unique, wait_for

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
    port = free_port()
    args = [a.replace(":8081/", f":{port}/").replace("0.0.0.0", "127.0.0.1") for a in deployment_args()]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DEVNS_")},
           "KUBECONFIG": operator_kubeconfig, "DEVNS_METRICS_PORT": str(free_port())}
    log = tmp_path / "image.log"
    operator.stop()  # one operator acting at a time
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(fresh_venv / "bin" / command[0]), *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        def live() -> bool:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                    return resp.status == 200
            except OSError:
                return False

        wait_for(live, timeout=60, what="liveness endpoint of the image command")
        name = unique("image")
        dns.create(name)
        dns.wait_phase(name, "Ready")
        records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        assert any(f"devnamespace/{name}: created" in r.get("message", "") for r in records)
        dns.delete(name)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        operator.start()
