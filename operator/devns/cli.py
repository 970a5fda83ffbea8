"""`devns-operator`: run the devns operator (our handlers under `kopf run`, cluster-wide).

With no arguments it uses $KUBECONFIG (else ~/.kube/config, else the in-cluster service account) and runs
standalone. Settings come from DEVNS_* environment variables (see README); flags cover how the process runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="devns-operator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    parser.add_argument("--liveness", metavar="URL", default=None,
                        help="serve Kopf's liveness/readiness probe, e.g. http://0.0.0.0:8081/healthz")
    parser.add_argument("--peering", metavar="NAME", default=None,
                        help="join Kopf peering NAME for high availability (needs the peering CRD); "
                             "default: standalone")
    parser.add_argument("--priority", type=int, default=0, help="peering priority: the highest one acts")
    parser.add_argument("--log-format", choices=["plain", "full", "json"], default="full", help="log format")
    parser.add_argument("--dry-run", action="store_true", help="never delete expired namespaces, only report "
                                                               "(same as DEVNS_DRY_RUN=true)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.kubeconfig:
        os.environ["KUBECONFIG"] = args.kubeconfig
    if args.dry_run:
        os.environ["DEVNS_DRY_RUN"] = "true"
    # Imported only now: the kubernetes client reads $KUBECONFIG when it is first imported.
    import kopf
    from pydantic import ValidationError

    from . import (handlers, handlers_classes, handlers_drift, handlers_lifecycle,  # handlers*: register
                   handlers_network, handlers_newcomers, handlers_seeds, metrics)
    from .deadlines import Deadlines
    from .informer import Informer
    from .memories import DevnsMemories
    from .contract import guarded_kinds
    from .events import Poster
    from .kube import Kube, make_api_client
    from .reconcile import Context, load_signing_key
    from .settings import Settings

    kopf.configure(verbose=args.verbose, quiet=args.quiet, log_format=kopf.LogFormat[args.log_format.upper()])
    try:  # bad settings or no cluster credentials: fail now, clearly, instead of inside Kopf's start-up
        config = Settings()
        kube = Kube(make_api_client(os.environ.get("KUBECONFIG"), pool_size=config.worker_limit))
        signing = load_signing_key(kube, config)
        ctx = Context(kube=kube, settings=config, key=signing.key, key_problem=signing.problem,
                      foreign_proofs=signing.foreign)
        report_signing_key(ctx, metrics)
        handlers_classes.load(ctx, logging.getLogger("devns"))
        seed_versions = handlers_seeds.load(ctx, logging.getLogger("devns"))
        if args.peering is not None:
            handlers_lifecycle.run_with_peering(args.peering)
        class_counts = handlers_classes.Recount()
        indexes = Informer({"devnamespace_peers": handlers.devnamespace_peers,
                            "devnamespace_waiting": handlers.devnamespace_waiting,
                            "devnamespaces_by_uid": handlers.devnamespaces_by_uid,
                            "devnamespace_sources": handlers_network.devnamespace_sources,
                            "devnamespace_listeners": handlers_network.devnamespace_listeners,
                            "devnamespace_class_use": handlers_classes.devnamespace_class_use},
                           on_change=class_counts.changed)
        indexes.prime(kube)  # complete before any handler runs; then kept current by a watch and Kopf's events
        logging.getLogger("devns").info(f"indexed {len(indexes)} DevNamespaces; watching them from here")
    except ValidationError as exc:
        print(f"devns-operator: invalid settings (DEVNS_* environment variables):\n{exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # no credentials (ConfigException), unreachable or forbidden API (ApiError)
        print(f"devns-operator: cannot start: {exc}", file=sys.stderr)
        return 2
    # Kopf hands each object a shallow copy of the memo: what changes at run time is an object inside it.
    memo = kopf.Memo(ctx=ctx, deadlines=Deadlines(), verify=handlers_lifecycle.Verification(),
                     seen_sources=handlers_network.SeenSources(),
                     lanes=handlers.Lanes(config.worker_limit, config.resume_limit),
                     events=Poster(kube, handlers.utcnow, logging.getLogger("devns")), indexes=indexes,
                     class_counts=class_counts, seed_versions=seed_versions,
                     seed_changes=handlers_seeds.SourceChanges(),
                     acting=threading.Event(), guarded_kinds=guarded_kinds(config.seed_kinds))
    memo.guard = handlers_drift.Guard(memo)
    memo.newcomers = handlers_newcomers.Newcomers(indexes.uids())
    metrics.STARTUP_PENDING.set_function(memo.newcomers.pending)
    indexes.follow(kube, then=lambda type_, obj: handlers_newcomers.watched(memo, type_, obj))
    try:
        asyncio.run(kopf.operator(
            memo=memo,
            memories=DevnsMemories(),  # no per-object memory for the ~10 children of each DevNamespace
            clusterwide=True,
            standalone=args.peering is None,
            peering_name=args.peering,
            priority=args.priority,
            liveness_endpoint=args.liveness,
        ))
    except KeyboardInterrupt:
        pass
    return 0


def report_signing_key(ctx, metrics) -> None:
    """Say loudly, at start-up, when devns has no key it may use (it then runs, but signs and deletes nothing) or
    found proofs another key made; the same in the metrics."""
    from .gc import key_id

    problem = ctx.key_problem
    metrics.signing_key(missing=problem is not None and problem.missing, foreign_proofs=ctx.foreign_proofs)
    log = logging.getLogger("devns")
    if problem is not None:
        log.error(f"{problem.reason}: {problem.message}")
    elif ctx.foreign_proofs:
        log.warning(f"{ctx.foreign_proofs} managed namespaces carry a devns proof another key made (this key: "
                    f"{key_id(ctx.key)}, Secret {ctx.settings.operator_namespace}/{ctx.settings.gc_key_secret}): devns "
                    "leaves them alone as look-alikes")


if __name__ == "__main__":
    sys.exit(main())
