"""`localk8s`: the command behind `make binaries`, `make cluster` and `make cluster-down`.

    localk8s binaries            find or build the pinned binaries, print where they are
    localk8s up   [--dir .cluster] start a detached control plane (idempotent), print how to use it
    localk8s down [--dir .cluster] stop every process `up` started and remove its state
    localk8s status [--dir .cluster]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .binaries import BinariesError, find_binaries
from .cluster import ClusterError, LocalCluster
from .versions import KUBERNETES_VERSION


def _usage(cluster: LocalCluster) -> str:
    return (f"Kubernetes v{KUBERNETES_VERSION} control plane at {cluster.server}\n"
            f"  source {cluster.env_file}        # KUBECONFIG, the pinned kubectl and kubectl devns on PATH\n"
            f"  kubectl get namespaces\n"
            f"  logs: {cluster.state_dir / 'logs'}/   stop: make cluster-down")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localk8s", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("binaries", help="find or build the pinned binaries")
    for name in ("up", "down", "status"):
        p = sub.add_parser(name)
        p.add_argument("--dir", type=Path, default=Path(".cluster"), help="state directory (default .cluster)")
        if name == "up":
            p.add_argument("--port", type=int, default=None, help="kube-apiserver port (default: a free one)")
    args = parser.parse_args(argv)

    try:
        started = time.monotonic()
        binaries = find_binaries(log=lambda m: print(m, file=sys.stderr))
        if args.command == "binaries":
            print(f"{binaries.directory} ({binaries.source}; {time.monotonic() - started:.2f}s)")
            return 0
        state_dir = args.dir.resolve()
        existing = LocalCluster.load(state_dir, binaries)
        if args.command == "status":
            ok = existing is not None and existing.healthy()
            print(_usage(existing) if ok else f"no healthy cluster in {state_dir}")
            return 0 if ok else 1
        if args.command == "down":
            if existing is None:
                print(f"no cluster recorded in {state_dir}; nothing to stop")
            else:
                existing.stop()
                print(f"stopped the cluster in {state_dir}")
            return 0
        # up
        if existing is not None:
            if existing.healthy():
                print("already running\n" + _usage(existing))
                return 0
            existing.stop()  # stale state from a crashed or half-stopped cluster
        cluster = LocalCluster(state_dir=state_dir, binaries=binaries, apiserver_port=args.port)
        cluster.start()
        print(f"ready in {time.monotonic() - started:.1f}s\n" + _usage(cluster))
        return 0
    except (BinariesError, ClusterError) as exc:
        print(f"localk8s: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
