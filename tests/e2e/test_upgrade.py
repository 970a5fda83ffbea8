"""Upgrades cost two writes per namespace, once: DevNamespaces provisioned by the last released operator are taken
over by this code, every one Ready, with exactly two writes each: a merge patch of its namespace that adds the proof
bound to the namespace's uid (the released proof, an HMAC of name and DevNamespace uid only, is one a copy of the
namespace would carry too) and, in the same patch, any annotation the new version adds (the requester); and a
status write recording ``status.rendered`` (a digest of what the namespace now matches, with which a later start
resumes it without reading the namespace: issue 17). A DevNamespace that lists sources of ingress
(``spec.network.allowFromNamespaces``) says in that same status write which sources devns trusts
(``trustedSources``, the ``SourcesTrusted`` condition; here the source is a DevNamespace sharing an owner, so its
policy stays as it was; an untrusted one would also lose its allow-from policy, which is the point of the change).
A second restart then writes nothing.

The released operator runs from its own source at ``RELEASED`` (``git archive`` of that revision's ``operator/``,
first on PYTHONPATH, with the same dependencies), on the session's control plane and under the operator's identity;
the session's operator is stopped meanwhile. When a release is cut, move ``RELEASED`` to it. A change that makes
the upgrade cost writes (e.g. a new annotation on every namespace) must change this test and say why.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from support import OPERATOR_ENV, resume_expectations, unique, wait_resumed
from testkit.audit import AuditLog, describe_writes
from testkit.operator_process import OPERATOR_USER, OperatorProcess
from testkit.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
#: The last released revision: main before the reconcile package (issue 12).
RELEASED = "2962581648f5990b9ba726ddc1482d85fa4020a8"


@pytest.fixture(scope="module")
def released_source(tmp_path_factory) -> Path:
    """The released revision's operator source tree (its ``operator/`` folder)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", RELEASED, "operator"], capture_output=True)
    assert archive.returncode == 0, (f"revision {RELEASED} is not in this clone (a shallow clone?): "
                                     f"{archive.stderr.decode(errors='replace').strip()}")
    dest = tmp_path_factory.mktemp("released")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    source = dest / "operator"
    which = subprocess.run([sys.executable, "-c", "import devns; print(devns.__file__)"], capture_output=True,
                           text=True, env={"PYTHONPATH": str(source)}, check=True)
    assert which.stdout.strip().startswith(str(source)), which.stdout  # the released code wins the import
    return source


#: What the released operator provisions: the spec features whose rendering an upgrade must keep identical.
SPECS = {
    "default": {},
    "full": {"team": "payments", "purpose": "upgrade test", "contact": "#payments", "ttl": "7d", "clusterView": True},
    "tuned": {"role": "view", "quota": {"pods": 5, "requests.cpu": "500m"},
              "limits": {"default": {"cpu": "1"}, "max": {"memory": "2Gi"}},
              "labels": {"cost-center": "42"}, "annotations": {"example.com/note": "kept"},
              "network": {"allowDNS": False}, "owners": [{"kind": "Group", "name": "team-payments"}]},
    # (+ network.allowFromNamespaces: the namespace of "shared", which shares the Group owner)
    "renamed": {"podSecurity": "baseline", "expiresAt": "2099-01-01T00:00:00Z"},  # + spec.namespace
    "shared": {"owners": [{"kind": "Group", "name": "team-payments"},
                          {"kind": "ServiceAccount", "name": "ci", "namespace": "ci-system"}]},
}


def test_released_operator_is_taken_over_with_one_proof_per_namespace(dns, operator, operator_kubeconfig, cluster,
                                                                      released_source):
    names = {key: unique(f"upgrade-{key}") for key in SPECS}
    specs = {names[key]: dict(spec) for key, spec in SPECS.items()}
    specs[names["renamed"]]["namespace"] = unique("upgraded")
    tuned = names["tuned"]
    specs[tuned]["network"] = {**SPECS["tuned"]["network"], "allowFromNamespaces": [names["shared"]]}
    released = OperatorProcess(operator_kubeconfig, cluster.state_dir / "logs" / "operator-released.log",
                               env={**OPERATOR_ENV, "PYTHONPATH": str(released_source)})
    audit = AuditLog(cluster.audit_log)
    operator.stop()
    try:
        released.start()
        for name, spec in specs.items():
            dns.create(name, **spec)
        for name in specs:
            dns.wait_phase(name, "Ready")
            wait_for(lambda: "last-handled-configuration" in (dns.get(name)["status"].get("kopf") or {}),
                     what="Kopf's bookkeeping written")
            dns.wait_event(name, "Provisioned")
        before = {name: dns.get(name)["status"] for name in specs}
        namespaces = {name: spec.get("namespace") or name for name, spec in specs.items()}
        legacy = [dns.core.read_namespace(ns).metadata.annotations["devns.io/proof"] for ns in namespaces.values()]
        assert all(len(proof) == 64 and ":" not in proof for proof in legacy), legacy  # the released format
        released.stop()
        live, expected, either = resume_expectations(dns)
        mark = audit.mark()
    finally:
        released.stop()
        operator.start()

    assert set(specs) <= expected
    # Re-proved, the upgraded ones resume as "updated". DevNamespaces left by earlier tests carry v2 proofs, which
    # the released operator cannot read: it marked them Failed (NamespaceConflict, nothing deleted), and this start
    # makes them Ready again; so no resume here is required to be "unchanged".
    wait_resumed(operator, live, set(), set(live))
    # the status comes with Kopf's patch after the handler (and its counter): wait for it before counting
    wait_for(lambda: dns.get(tuned)["status"].get("trustedSources"), what="the trusted sources recorded")
    touching = set(specs) | set(namespaces.values())
    for name in specs:
        wait_for(lambda: dns.get(name)["status"].get("rendered"), what="the rendered digest recorded")
        audit.wait_logged(mark, OPERATOR_USER, "patch devnamespaces/status", name)
    writes = audit.writes(mark, OPERATOR_USER, touching=touching)
    assert sorted((w.action, w.name) for w in writes) == sorted(
        [("patch namespaces", ns) for ns in namespaces.values()] +
        [("patch devnamespaces/status", name) for name in specs]), \
        f"the upgrade wrote: {describe_writes(writes, limit=20)}"
    trust = dns.get(tuned)["status"]
    assert trust.pop("trustedSources") == [names["shared"]]
    assert [c["status"] for c in trust["conditions"] if c["type"] == "SourcesTrusted"] == ["True"]
    trust["conditions"] = [c for c in trust["conditions"] if c["type"] != "SourcesTrusted"]  # the rest as before
    for name, ns in namespaces.items():
        status = trust if name == tuned else dns.get(name)["status"]
        assert len(status.pop("rendered")) == 16
        assert status == before[name], f"{name}: the status changed on upgrade"
        meta = dns.core.read_namespace(ns).metadata
        version, key_id, _ = meta.annotations["devns.io/proof"].split(":")
        assert (version, len(key_id)) == ("v2", 8), f"{ns}: not re-proved"
        assert dns.get(name)["status"]["phase"] == "Ready"

    # once: the next start finds every proof in order
    live, expected, either = resume_expectations(dns)
    mark = audit.mark()
    operator.restart()
    wait_resumed(operator, live, expected, either)
    writes = audit.writes(mark, OPERATOR_USER, touching=touching)
    assert writes == [], f"the second start wrote: {describe_writes(writes)}"
