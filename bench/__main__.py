"""`make bench` / `python -m bench`: benchmark devns on a fresh local control plane; writes BENCHMARKS.md.

Measures, in one run: provisioning latency and throughput (vs. a plain client creating the same objects, and vs.
the kubectl script devns replaces), single-object latency, expiry precision, drift repair, the idle API cost,
operator memory, and a restart's resume time and writes. `--quick` is a small run (well under a minute plus the
control plane's start).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
import time
from pathlib import Path

from .cluster import ROOT, BenchEnv
from .profile import Profiler
from .report import Report, code_version, markdown
from .scale import kept_block, scale, scale_markdown, splice

FULL = dict(n=500, expiry_n=100, drift_k=50, idle_seconds=300.0, script_n=10, single_n=30, expiry_lead=25.0,
            settle=5.0, onboard_n=20)
QUICK = dict(n=20, expiry_n=10, drift_k=5, idle_seconds=10.0, script_n=3, single_n=10, expiry_lead=3.0, settle=2.0,
             onboard_n=3)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help=f"small run: {', '.join(f'{k}={v:g}' for k, v in QUICK.items())}")
    p.add_argument("--n", type=int, help=f"DevNamespaces for provisioning, idle cost and restart ({FULL['n']})")
    p.add_argument("--expiry-n", type=int, help=f"DevNamespaces expiring together ({FULL['expiry_n']})")
    p.add_argument("--drift-k", type=int, help=f"NetworkPolicies deleted for drift repair ({FULL['drift_k']})")
    p.add_argument("--idle-seconds", type=float, help=f"idle-cost window ({FULL['idle_seconds']:g} s)")
    p.add_argument("--script-n", type=int, help=f"developers for the kubectl script ({FULL['script_n']})")
    p.add_argument("--onboard-n", type=int,
                   help=f"developers onboarded by kubectl devns, and by the scripted recipe ({FULL['onboard_n']})")
    p.add_argument("--single-n", type=int, help=f"sequential single creates ({FULL['single_n']})")
    p.add_argument("--expiry-lead", type=float,
                   help=f"seconds from patching expiresAt to the expiry moment ({FULL['expiry_lead']:g})")
    p.add_argument("--settle", type=float,
                   help=f"seconds without operator writes before each memory sample ({FULL['settle']:g})")
    p.add_argument("--memory-ns", default="0,500,1000,5000",
                   help="object counts at which operator RSS is sampled (N itself always); provisioning runs in "
                        "stages ending at each one <= N, the larger ones are reached at the end of the run "
                        "(default: 0,500,1000,5000; --quick: up to N)")
    p.add_argument("--scale", action="store_true",
                   help="the 10,000 scenario instead (bench/scale.py: RSS at each of --scale-points, expiry, drift, "
                        "idle and a restart with all present, the floor); rewrites only the Scale part of "
                        "BENCHMARKS.md")
    p.add_argument("--scale-points", default="1000,2500,5000,9000,10000",
                   help="DevNamespace counts the scale run grows through (the last stage's throughput is compared "
                        "with the floor)")
    p.add_argument("--threads", type=int, default=32, help="client threads creating objects (32)")
    p.add_argument("--worker-limit", type=int, help="DEVNS_WORKER_LIMIT for the operator (default: its default)")
    p.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md", help="where to write the results")
    p.add_argument("--keep-state", action="store_true", help="keep the control plane's state dir (logs) at the end")
    p.add_argument("--profile", action="store_true",
                   help="run py-spy on the operator while it provisions: its CPU split by Kopf, devns code and API "
                        "calls, and the folded stacks in the state dir (the profiler slows the operator down)")
    args = p.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    points = sorted({int(x) for x in args.memory_ns.split(",") if x.strip()})
    args.stops = sorted({x for x in points if 0 < x < args.n} | {args.n})
    args.beyond = [] if args.quick else [x for x in points if x > args.n]
    args.drift_k = min(args.drift_k, args.n)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # `kill`/`make` stopping us must also stop the control plane and the operator (the `with` below does).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from devns.settings import Settings
    from localk8s.versions import KUBERNETES_VERSION

    from . import scenarios as s
    from . import classes as bench_class
    from .onboarding import onboarding
    from .reclaim import reclaim

    operator_env = {"DEVNS_WORKER_LIMIT": str(args.worker_limit)} if args.worker_limit else {}
    os.environ.update(operator_env)  # so Settings() here sees what the operator sees
    settings = Settings()
    report = Report()
    started, t0 = dt.datetime.now(dt.timezone.utc), time.monotonic()
    commit, digest = code_version(ROOT)
    log = lambda line: print(f"{time.monotonic() - t0:6.1f}s {line}", flush=True)  # noqa: E731
    if args.scale:
        return run_scale(args, operator_env, log, started, t0)
    try:
        with BenchEnv(operator_env=operator_env, keep_state=args.keep_state, log=log) as env:
            b = s.Bench(env=env, report=report, threads=args.threads, settle=args.settle, log=log)
            metrics_port = env.operator.metrics_port
            per_developer = s.kubectl_script(b, args.script_n)
            bench_class.create(b)  # every DevNamespace of the benchmark names it
            b.audit.wait_quiet(s.OPERATOR_USER, quiet_for=args.settle)
            s.memory(b, 0, "after start")
            profiler = Profiler(env.operator.pid, env.state_dir / "operator-profile.txt") if args.profile else None
            provisioned = s.provisioning(b, args.n, args.stops)
            if profiler is not None:
                s.profiled(b, profiler)
            # Right after the burst (informational, with a long timeout to see the real delay), then settled.
            s.drift(b, b.present[:args.drift_k], when="right after provisioning", timeout=120.0, judged=False)
            s.expiry(b, args.expiry_n, args.expiry_lead)
            s.idle(b, args.idle_seconds)
            s.drift(b, b.present[-args.drift_k:], when="after the idle window")
            # On a settled operator with N objects; they stay (deleting waits ~7 s for the namespace controller),
            # so the restart resumes N + single_n.
            s.single(b, args.single_n)
            s.restart(b)
            onboarding(b, args.onboard_n)  # on a populated cluster, as a platform team's would be
            bench_class.class_rollout(b, "3", "first")  # every DevNamespace present is of the class
            bench_class.class_rollout(b, "4", "second")
            bench_class.seed_rotation(b)
            reclaim(b)  # idle namespaces: sleep and wake every one present
            s.grow(b, args.beyond)
            # Last: their namespaces stay (the operator does not see them: other labels), and the floor stops the
            # operator for good.
            base = s.baseline(b, args.n)
            least = s.floor(b, args.n)
            s.compare(b, provisioned, base, least, per_developer)
    except KeyboardInterrupt:
        print("\ninterrupted; control plane and operator stopped", file=sys.stderr)
        if report.rows:
            print(report.table())
        return 130
    except BaseException:
        if report.rows:
            print("results so far:\n" + report.table(), file=sys.stderr)
        raise
    duration = time.monotonic() - t0
    if code_version(ROOT)[1] != digest:
        report.note("the operator's sources (operator/devns/**/*.py) changed during the run: the restarted operator "
                    "ran different code than the first one; re-run for consistent numbers")
    parameters = {
        "Mode": "quick" if args.quick else "full",
        "Objects": f"N={args.n} (provisioning, idle; restart: N + single creates), expiry {args.expiry_n} (lead "
                   f"{args.expiry_lead:g} s), drift {args.drift_k}, single creates {args.single_n}, kubectl "
                   f"script {args.script_n}, onboarded developers {args.onboard_n} each way",
        "Idle window": f"{args.idle_seconds:g} s; memory sampled after {args.settle:g} s without operator writes",
        "DevNamespace": "spec " + json.dumps(s.devnamespace("NAME")["spec"]) + " (the README's example)",
        "Client": f"{args.threads} threads, official kubernetes client, admin kubeconfig",
        "Profiler": "py-spy on the operator while provisioning (slows it down)" if args.profile else "none",
        "Memory samples at": ", ".join(str(x) for x in [0, *args.stops, *args.beyond]),
    }
    shown = {k: v for k, v in settings.model_dump().items() if not isinstance(v, dict)}  # quota/limits: defaults
    shown["metrics_port"] = f"{metrics_port} (a free port)"
    command = "make bench" + (" ARGS=" + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    text = markdown(report, kubernetes_version=KUBERNETES_VERSION, devns_version=f"{commit} (sources {digest})",
                    parameters=parameters, settings=shown, started=started, duration=duration, command=command)
    args.output.write_text(text + "\n" + kept_block(args.output.read_text() if args.output.exists() else ""))
    print()
    print(report.table())
    print(report.summary())
    for note in report.notes:
        print(f"note: {note}")
    print(f"wrote {args.output} ({duration:.0f} s)")
    return 0


def run_scale(args: argparse.Namespace, operator_env: dict[str, str], log, started: dt.datetime, t0: float) -> int:
    """``--scale``: bench/scale.py's scenario; its block replaces the Scale part of the output file."""
    from . import classes as bench_class
    from . import scenarios as s

    report = Report()
    points = [int(x) for x in args.scale_points.split(",") if x.strip()]
    commit, digest = code_version(ROOT)
    with BenchEnv(operator_env=operator_env, keep_state=args.keep_state, log=log) as env:
        b = s.Bench(env=env, report=report, threads=args.threads, settle=args.settle, log=log)
        bench_class.create(b)
        b.audit.wait_quiet(s.OPERATOR_USER, quiet_for=args.settle)
        scale(b, points, args.idle_seconds)
    parameters = {"Stages": ", ".join(str(x) for x in points) + " DevNamespaces (the README's example spec)",
                  "Then": f"100 expiring together, drift of 50, idle {args.idle_seconds:g} s, restart with one new "
                          "DevNamespace created during the resume, the floor (as many as the last stage, operator stopped)",
                  "Client": f"{args.threads} threads"}
    command = "make bench ARGS=" + " ".join(sys.argv[1:] or ["--scale"])
    block = scale_markdown(report, command=command, started=started, duration=time.monotonic() - t0,
                           devns_version=f"{commit} (sources {digest})", parameters=parameters)
    existing = args.output.read_text() if args.output.exists() else "# devns benchmarks\n"
    args.output.write_text(splice(existing, block))
    print(report.table())
    print(report.summary())
    print(f"wrote the Scale part of {args.output} ({time.monotonic() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
