"""Idle reclamation at scale (issue 16): every DevNamespace present gets one Deployment (its owner's use, 1 replica),
then the class ``bench`` gets ``defaults.idle.sleepAfter``. Measured: when each namespace's sleep starts after its
deadline (its Deployment's last use + sleepAfter), the reads and writes that costs per namespace, that a window
with every namespace asleep writes nothing, and how long `kubectl devns wake` takes to restore the replicas.
Afterwards the class drops the idle policy, which wakes them all (the next scenarios want them as they were).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from kubernetes.client import AppsV1Api

from devns.contract import ANN_WAKE, CLASS_PLURAL, GROUP, KINDS, PLURAL, VERSION
from devns.units import format_time, parse_time
from testkit.audit import writes_among
from testkit.operator_process import OPERATOR_USER

from .classes import NAME as CLASS
from .measure import Distribution, FirstSeen, Watch, fmt_s

if TYPE_CHECKING:
    from .scenarios import Bench

SLEEP_AFTER = 30  # seconds: long enough to create every Deployment first, short enough for a benchmark
DEPLOYMENTS = f"{KINDS['Deployment'].path_prefix}/deployments"
APP = "app"


def _deployment() -> dict:
    labels = {"app": APP}
    return {"metadata": {"name": APP}, "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
        "metadata": {"labels": labels}, "spec": {"containers": [{"name": APP, "image": "registry.example/app:1"}]}}}}


def _replicas(value: int):
    return lambda t, o: o["metadata"]["namespace"] if o["metadata"]["name"] == APP and \
        (o.get("spec") or {}).get("replicas") == value else None


def reclaim(b: Bench, wakes: int = 50, timeout: float = 600.0) -> None:
    apps, namespaces, r = AppsV1Api(b.api), list(b.present), b.report
    n = len(namespaces)
    with ThreadPoolExecutor(16) as pool:  # the owners' use: one Deployment each
        made = list(pool.map(lambda ns: apps.create_namespaced_deployment(ns, _deployment()), namespaces))
    used = {d.metadata.namespace: parse_time(format_time(d.metadata.creation_timestamp)) for d in made}
    b.audit.wait_quiet(OPERATOR_USER, quiet_for=3.0)
    mark = b.audit.mark()
    asleep = FirstSeen(_replicas(0))
    with Watch(b.api, DEPLOYMENTS, [asleep]):
        mono, wall = time.monotonic(), dt.datetime.now(dt.timezone.utc)
        b.custom.patch_cluster_custom_object(GROUP, VERSION, CLASS_PLURAL, CLASS, {
            "spec": {"defaults": {"idle": {"sleepAfter": f"{SLEEP_AFTER}s"}}}})
        missing = asleep.wait(namespaces, timeout)
    late = Distribution.of((wall + dt.timedelta(seconds=asleep.times[ns] - mono) - used[ns]).total_seconds()
                           - SLEEP_AFTER for ns in namespaces if ns in asleep.times)
    b.audit.wait_quiet(OPERATOR_USER, quiet_for=3.0)
    requests = b.audit.requests(mark, OPERATOR_USER)
    mine = set(namespaces)
    lists = [q for q in requests if q.verb == "list" and q.namespace in mine]
    writes = [w for w in writes_among(requests) if w.resource != "events"]
    r.add("Idle namespaces", f"all {n} asleep after sleepAfter {SLEEP_AFTER} s", f"{n - len(missing)}/{n}", f"{n}/{n}",
          not missing)
    r.add("Idle namespaces", "sleep start after the deadline, p50 / p99", f"{fmt_s(late.p50)} / {fmt_s(late.p99)}")
    r.add("Idle namespaces", "operator list requests per namespace until asleep (a look: 8; here two looks, the "
          "sleep's 3 and the class change's re-render)", f"{len(lists) / max(1, n):.1f}")
    r.add("Idle namespaces", "operator writes per namespace until asleep (Events aside)",
          f"{len(writes) / max(1, n):.2f}")
    b.log(f"[reclaim] {n - len(missing)}/{n} asleep ({late} after the deadline); {len(lists)} lists, writes "
          f"{dict(Counter(w.action for w in writes))}")

    window = SLEEP_AFTER + 10  # every sleeping namespace is looked at again within it: reads only
    mark = b.audit.mark()
    time.sleep(window)  # the measurement window itself
    quiet = writes_among(b.audit.requests(mark, OPERATOR_USER, until=mark[1] + window))
    r.add("Idle namespaces", f"operator writes in {window} s with all asleep", str(len(quiet)), "0", not quiet)

    woken = FirstSeen(_replicas(1))
    sample = namespaces[:wakes]
    asked: dict[str, float] = {}
    with Watch(b.api, DEPLOYMENTS, [woken]):
        for ns in sample:  # one `kubectl devns wake` after the other, as developers would
            asked[ns] = time.monotonic()
            b.custom.patch_cluster_custom_object(GROUP, VERSION, PLURAL, ns, {"metadata": {"annotations": {
                ANN_WAKE: format_time(dt.datetime.now(dt.timezone.utc))}}})
        missing = woken.wait(sample, 60)
    latency = Distribution.of(woken.times[ns] - asked[ns] for ns in sample if ns in woken.times)
    r.add("Idle namespaces", f"wake -> replicas restored, p50 / p99 ({len(sample)} woken)",
          f"{fmt_s(latency.p50)} / {fmt_s(latency.p99)}" if not missing else f"{len(sample) - len(missing)} woken")
    b.log(f"[reclaim] wake -> replicas restored: {latency}")

    # back as they were for what follows: no idle policy (which wakes the rest), no Deployments
    awake = FirstSeen(_replicas(1))
    with Watch(b.api, DEPLOYMENTS, [awake]):
        b.custom.patch_cluster_custom_object(GROUP, VERSION, CLASS_PLURAL, CLASS,
                                             {"spec": {"defaults": {"idle": None}}})
        still = awake.wait([ns for ns in namespaces if ns not in woken.times], timeout)
    r.add("Idle namespaces", "the idle policy removed -> all awake again", f"{n - len(still)}/{n}", f"{n}/{n}",
          not still)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda ns: apps.delete_namespaced_deployment(APP, ns), namespaces))
