"""The real control plane for e2e tests: one per test session, started by the project itself.

There is no skip: if the control plane cannot start, the session errors loudly with the component's log tail.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import kubernetes
import pytest

from class_support import Classes
from localk8s.binaries import find_binaries
from localk8s.cluster import LocalCluster
from self_service_support import applied
from support import OPERATOR_ENV, DevNamespaces, born_with_finalizer, gone, status_of
from testkit.clients import client
from testkit.install import install
from testkit.operator_process import OPERATOR_USER, OperatorProcess
from testkit.waiting import wait_for


@pytest.fixture(scope="session")
def binaries():
    return find_binaries()


#: Where the logs of a session with failures are kept (the last few), for a post-mortem after the CI's clone is gone.
FAILED_SESSIONS = Path.home() / ".cache" / "devns" / "e2e-failures"
KEEP_FAILED = 5


@pytest.fixture(scope="session")
def cluster(binaries, request):
    c = LocalCluster(state_dir=Path(tempfile.mkdtemp(prefix="devns-e2e-k8s-")), binaries=binaries)
    c.start()
    yield c
    if request.session.testsfailed:
        kept = keep_logs(c.state_dir / "logs")
        request.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"e2e logs of this failed session kept in {kept}")
    # DEVNS_KEEP_STATE=1 keeps the whole state dir (etcd's data too) for a post-mortem.
    c.stop(remove_state=not os.environ.get("DEVNS_KEEP_STATE"))


def keep_logs(logs: Path) -> Path:
    """Copy the session's logs (operator, components, audit) to FAILED_SESSIONS/<UTC time>, keeping the last
    KEEP_FAILED sessions; where they are."""
    target = FAILED_SESSIONS / dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    shutil.copytree(logs, target, dirs_exist_ok=True)
    for old in sorted(FAILED_SESSIONS.iterdir())[:-KEEP_FAILED]:
        shutil.rmtree(old, ignore_errors=True)
    return target


@pytest.fixture(scope="session")
def kubeconfig(cluster) -> str:
    return str(cluster.kubeconfig)


@pytest.fixture(scope="session")
def api(kubeconfig):
    return client(kubeconfig)


@pytest.fixture(scope="session")
def core(api):
    return kubernetes.client.CoreV1Api(api)


@pytest.fixture(scope="session")
def installed(cluster, binaries, kubeconfig):
    """What a platform admin applies for devns (testkit.install: the CRDs, the cluster-view ClusterRole, the
    admission policies)."""
    install(binaries.kubectl, kubeconfig)
    # Established is not yet served, and policies load in the background: wait until a create would work as
    # installed (a server-side dry run, nothing stays).
    admin = DevNamespaces(client(kubeconfig))
    wait_for(lambda: born_with_finalizer(admin), what="DevNamespaces served, the finalizer policy in effect")
    return True


@pytest.fixture(scope="session")
def operator_kubeconfig(cluster) -> str:
    """The operator's own identity (a cluster admin for now), distinct from the tests' in the audit log."""
    return str(cluster.kubeconfig_for(OPERATOR_USER, ("system:masters",)))


@pytest.fixture(scope="session")
def operator(installed, operator_kubeconfig, cluster):
    proc = OperatorProcess(operator_kubeconfig, cluster.state_dir / "logs" / "operator.log", env=OPERATOR_ENV)
    proc.start()
    yield proc
    proc.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, show the operator's last log lines next to the traceback."""
    outcome = yield
    report = outcome.get_result()
    proc = item.funcargs.get("operator") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(proc, OperatorProcess):
        report.sections.append(("operator warnings and errors (tail)", proc.log_tail(30, ("WARNING", "ERROR"))))
        report.sections.append(("operator log (tail)", proc.log_tail(60)))


@pytest.fixture(scope="session")
def dns(api):
    """DevNamespaces as a platform admin sees them."""
    return DevNamespaces(api)


@pytest.fixture(scope="module")
def created() -> list[str]:
    """Names of every DevNamespace a test of the module asked to create (deleted by ``self_service`` at the end)."""
    return []


@pytest.fixture(scope="module")
def self_service(installed, operator, binaries, kubeconfig, api, created):
    """`kubectl apply --server-side -k manifests/optional/self-service` for the module using it, removed afterwards
    (self_service_support.applied). The operator runs: DevNamespaces are born with its finalizer, so only it lets
    them go at the end."""
    with applied(binaries, kubeconfig, api, created):
        yield


@pytest.fixture
def classes(api, dns):
    """DevNamespaceClasses (and DevNamespaces of them, ``classes.devnamespaces``) deleted after the test."""
    made = Classes(api)
    created: list[str] = []
    made.devnamespaces = created
    yield made
    for name in created:
        if status_of(lambda: dns.delete(name)) not in (200, 404):
            raise AssertionError(f"could not delete DevNamespace {name}")
    for name in created:
        wait_for(lambda: gone(lambda: dns.get(name)), timeout=60, what=f"DevNamespace {name} gone")
    for name in made.made:
        status_of(lambda: made.delete(name))
    for name in made.made:
        wait_for(lambda: gone(lambda: made.get(name)), timeout=60, what=f"DevNamespaceClass {name} gone")
