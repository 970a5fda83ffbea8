"""The real control plane for e2e tests: one per test session, started by the project itself.

There is no skip: if the control plane cannot start, the session errors loudly with the component's log tail.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import kubernetes
import pytest

from localk8s.binaries import find_binaries
from localk8s.cluster import LocalCluster
from support import client


@pytest.fixture(scope="session")
def binaries():
    return find_binaries()


@pytest.fixture(scope="session")
def cluster(binaries):
    c = LocalCluster(state_dir=Path(tempfile.mkdtemp(prefix="devns-e2e-k8s-")), binaries=binaries)
    c.start()
    yield c
    c.stop()


@pytest.fixture(scope="session")
def kubeconfig(cluster) -> str:
    return str(cluster.kubeconfig)


@pytest.fixture(scope="session")
def api(kubeconfig):
    return client(kubeconfig)


@pytest.fixture(scope="session")
def core(api):
    return kubernetes.client.CoreV1Api(api)
