"""What a platform admin applies for devns to work on a dev cluster, in one place, and applying it.

The e2e session fixture, the benchmark and ``make run`` (through ``python -m testkit.install``) all install this
list. It is what tenants meet in manifests/base (the CRD, the cluster-view role, the admission policies about
their objects, with devns-system for the service policy's settings) without the operator's own Deployment, RBAC,
settings and operator-policy.yaml (which limits only the operator's ServiceAccount and reads its settings): those
are what the e2e tests of the install bundle (tests/e2e/test_manifests.py) apply with ``-k manifests/base``.

    python -m testkit.install --kubeconfig .cluster/kubeconfig --kubectl kubectl
"""

from __future__ import annotations

import argparse
import sys
from os import PathLike
from pathlib import Path

import yaml

from .kubectl import KubectlError, kubectl

#: The repository root, three levels above devtools/testkit/install.py (testkit is installed editable).
ROOT = Path(__file__).resolve().parents[2]

#: Applied in this order, paths relative to the repository.
FILES = (
    "crds/devnamespaces.devns.io.yaml",  # the DevNamespace CRD
    "crds/devnamespaceclasses.devns.io.yaml",  # the DevNamespaceClass CRD
    "manifests/base/cluster-view-clusterrole.yaml",  # what clusterView: true grants to owners
    "manifests/base/guardrails-policy.yaml",  # only devns (and admins) may change managed objects
    "manifests/base/namespace.yaml",  # devns-system, where the service policy's settings live
    "manifests/base/service-policy.yaml",  # no ExternalName/externalIPs Services in devns namespaces
    "manifests/base/finalizer-policy.yaml",  # DevNamespaces are born with devns's finalizer
    "manifests/base/requester-policy.yaml",  # the API server records who asked for each DevNamespace
    # ClusterKopfPeering, read only by an operator started with --peering; harmless (unwatched) otherwise, and it
    # lets `make run ARGS=--peering=...` and the e2e tests run peering on a dev cluster.
    "manifests/base/kopf-peering-crd.yaml",
)


def paths(root: Path | None = None) -> list[Path]:
    """The files to apply, as absolute paths; fails clearly when ``root`` is not a devns checkout (testkit
    installed from a copy instead of editable)."""
    root = root or ROOT
    found = [root / name for name in FILES]
    missing = [str(p) for p in found if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{root} is not the devns repository (testkit must be installed editable from "
                                f"its devtools/): missing {', '.join(missing)}")
    return found


def crd_names(files: list[Path]) -> list[str]:
    """The CustomResourceDefinitions among ``files``, as ``crd/NAME`` for ``kubectl wait``."""
    return [f"crd/{doc['metadata']['name']}" for path in files for doc in yaml.safe_load_all(path.read_text())
            if doc and doc.get("kind") == "CustomResourceDefinition"]


def install(binary: str | PathLike, kubeconfig: str | PathLike, *, timeout: float = 60) -> list[Path]:
    """``kubectl apply --server-side`` every file, then wait until their CRDs are Established; returns the files.

    Established is not yet "served to every client", and admission policies load in the background: a caller
    that needs a DevNamespace create to behave as installed checks that itself (the e2e fixture does)."""
    files = paths()
    kubectl(binary, kubeconfig, "apply", "--server-side", *(arg for path in files for arg in ("-f", str(path))))
    kubectl(binary, kubeconfig, "wait", "--for=condition=Established", f"--timeout={timeout:.0f}s",
            *crd_names(files), timeout=timeout + 30)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testkit.install", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", required=True, help="the cluster's kubeconfig (as a cluster admin)")
    parser.add_argument("--kubectl", default="kubectl", help="the kubectl to run (default: the one on PATH)")
    args = parser.parse_args(argv)
    try:
        files = install(args.kubectl, args.kubeconfig)
    except (KubectlError, FileNotFoundError) as exc:
        print(f"testkit.install: {exc}", file=sys.stderr)
        return 1
    print("installed: " + ", ".join(str(p.relative_to(ROOT)) for p in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
