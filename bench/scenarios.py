"""One function per measurement. Each takes the ``Bench`` (environment, clients, results), does its work, appends
rows to the report and prints one line when it finishes. Waiting is always for a condition (a watch event, a
metric, a quiet audit log) with a timeout, never a fixed sleep; the only sleep is the idle-cost window itself.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from kubernetes.client import CustomObjectsApi
from kubernetes.client.exceptions import ApiException

from devns.contract import (ANN_PROOF, API_VERSION, DENY_POLICY, GROUP, KIND, KINDS, LABEL_DEVNAMESPACE,
                            MANAGED_BY, MANAGED_SELECTOR, PLURAL, VERSION)
from devns import gc
from devns.desired import desired_for
from devns.kube import Kube
from devns.render import Rendered
from devns.settings import Settings
from devns.status import ready_status
from devns.units import format_time, parse_time
from testkit.audit import READ_VERBS, AuditLog, describe_writes, writes_among
from testkit.operator_process import OPERATOR_USER

from . import classes as bench_class
from .cluster import BenchEnv
from .measure import CpuMeter, Distribution, FirstSeen, Watch, apiserver_requests, fmt_s
from .profile import Profiler, describe
from .report import Report

DN_PATH = f"{KINDS[KIND].path_prefix}/{PLURAL}"
NS_PATH = f"{KINDS['Namespace'].path_prefix}/namespaces"
NETPOL_PATH = f"{KINDS['NetworkPolicy'].path_prefix}/networkpolicies"
BASELINE_MANAGER = "devns-bench-baseline"
THREADS = 32
NR = "not restored"


@dataclass
class Bench:
    env: BenchEnv
    report: Report
    threads: int = THREADS
    settle: float = 5.0  # seconds without operator writes before a memory sample
    log: Callable[[str], None] = print
    present: list[str] = field(default_factory=list)  # DevNamespaces that exist (and are Ready) right now
    audit: AuditLog = field(init=False)

    def __post_init__(self) -> None:
        self.audit = AuditLog(self.env.cluster.audit_log)

    @property
    def api(self):
        return self.env.api

    @property
    def custom(self) -> CustomObjectsApi:
        return CustomObjectsApi(self.env.api)

    @property
    def operator(self):
        return self.env.operator

    def processes(self) -> dict[str, int]:
        """Every process that shares the machine's CPUs during a measurement, by name."""
        return {"operator": self.operator.pid, **self.env.cluster.pids, "benchmark client": os.getpid()}


@dataclass
class Throughput:
    """Developers provisioned per second, and the CPU seconds each took, per process."""

    rate: float
    cpu: dict[str, float]

    def describe_cpu(self) -> str:
        return ", ".join(f"{name} {sec * 1000:.1f}" for name, sec in self.cpu.items()) + " ms"


# -- helpers ------------------------------------------------------------------------------------------------------

def devnamespace(name: str, **spec: Any) -> dict[str, Any]:
    """The DevNamespace of the README's example: one owner, a team and a 7-day TTL (so every object has an
    expiry to plan and warnings ahead), everything else defaulted; of the class ``bench`` (``classes``: it
    renders what the settings alone would, until ``class_rollout`` edits it)."""
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name},
            "spec": {"owners": [{"kind": "User", "name": f"{name}@example.com"}], "team": "bench", "ttl": "7d",
                     "class": bench_class.NAME, **spec}}


def ready_recorder() -> FirstSeen:
    return FirstSeen(lambda t, o: o["metadata"]["name"] if (o.get("status") or {}).get("phase") == "Ready"
                     else None)


def deleted_recorder(names: Iterable[str] | None = None) -> FirstSeen:
    wanted = set(names) if names is not None else None
    return FirstSeen(lambda t, o: o["metadata"]["name"] if t == "DELETED" and
                     (wanted is None or o["metadata"]["name"] in wanted) else None)


def in_parallel(b: Bench, items: list, work: Callable[[Any], Any]) -> dict[Any, BaseException]:
    """Run ``work(item)`` for every item on the thread pool; return the failures by item."""
    errors: dict[Any, BaseException] = {}

    def run(item):
        try:
            work(item)
        except Exception as exc:  # noqa: BLE001 - collected and reported
            errors[item] = exc
    with ThreadPoolExecutor(max_workers=b.threads) as pool:
        list(pool.map(run, items))
    return errors


def create_devnamespaces(b: Bench, names: list[str], started: dict[str, float], **spec: Any) -> set[str]:
    """Create concurrently, stamping each create's start; return the names that could not be created."""
    custom = b.custom

    def create(name: str) -> None:
        body = devnamespace(name, **spec)
        for attempt in range(3):
            started[name] = time.monotonic()
            try:
                custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, body)
                return
            except ApiException as exc:
                if exc.status not in (429, 500, 503, 504) or attempt == 2:
                    raise
    errors = in_parallel(b, names, create)
    for name, exc in list(errors.items())[:3]:
        b.report.note(f"create DevNamespace {name} failed: {exc}")
    return set(errors)


def delete_devnamespaces(b: Bench, names: list[str], what: str, timeout: float = 180.0) -> None:
    """Delete and wait until the DevNamespaces are gone (their finalizer waits for the namespace)."""
    if not names:
        return
    gone = deleted_recorder(names)
    custom = b.custom
    with Watch(b.api, DN_PATH, [gone]):
        in_parallel(b, names, lambda n: custom.delete_cluster_custom_object(GROUP, VERSION, PLURAL, n))
        missing = gone.wait(names, timeout)
    b.present = [n for n in b.present if n not in set(names)]
    if missing:
        b.report.note(f"clean-up of {what}: {len(missing)} DevNamespaces still there after {timeout:.0f} s")


def mean(values: Iterable[float]) -> float:
    v = list(values)
    return sum(v) / len(v) if v else math.nan


# -- 1. provisioning ----------------------------------------------------------------------------------------------

def kubectl_script(b: Bench, count: int) -> float:
    """The seed's approach: per developer, four kubectl processes. Returns the mean seconds per developer."""
    times = []
    names = [f"script-{uuid.uuid4().hex[:6]}-{i}" for i in range(count)]
    with tempfile.TemporaryDirectory(prefix="devns-bench-script-") as tmp:
        for name in names:
            rb, quota = Path(tmp) / f"{name}-rb.yaml", Path(tmp) / f"{name}-quota.yaml"
            rb.write_text(f"""apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: owners-edit, namespace: {name}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}}
subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: User, name: {name}@example.com}}]
""")
            quota.write_text(f"""apiVersion: v1
kind: ResourceQuota
metadata: {{name: quota, namespace: {name}}}
spec: {{hard: {{requests.cpu: "2", requests.memory: 4Gi, limits.cpu: "4", limits.memory: 8Gi, pods: "50"}}}}
""")
            started = time.monotonic()
            b.env.kubectl("create", "namespace", name)
            b.env.kubectl("annotate", "namespace", name, f"devns.io/owner=User:{name}@example.com",
                          "devns.io/purpose=benchmark")
            b.env.kubectl("create", "-f", str(rb))
            b.env.kubectl("create", "-f", str(quota))
            times.append(time.monotonic() - started)
    per_dev = mean(times)
    b.report.add("Provisioning", f"kubectl script, per developer (n={count})", fmt_s(per_dev))
    b.log(f"[script] {count} developers with 4 kubectl calls each: {fmt_s(per_dev)} per developer")
    return per_dev


def rendered(name: str, uid: str, created: dt.datetime, settings: Settings) -> tuple[dt.datetime | None, Rendered]:
    """The expiry and the objects the operator renders for ``devnamespace(name)``, from the operator's own
    desired-state function (the namespace without its proof, which devns adds with a patch once the namespace
    exists)."""
    body = devnamespace(name)
    body["metadata"].update(uid=uid, creationTimestamp=format_time(created), generation=1)
    desired = desired_for(body, settings, classes=bench_class.CLASSES)
    return desired.expires_at, desired.objects


def baseline_bodies(name: str, settings: Settings) -> list[dict[str, Any]]:
    """The namespace and children devns renders, minus what would make them look like devns's (owner references
    to a DevNamespace that does not exist, the managed-by label)."""
    _, desired = rendered(name, str(uuid.uuid4()), dt.datetime.now(dt.timezone.utc), settings)
    objects = [desired.namespace, *desired.children]
    for obj in objects:
        meta = obj["metadata"]
        meta.pop("ownerReferences", None)
        meta["labels"][MANAGED_BY] = BASELINE_MANAGER
        meta["labels"].pop(LABEL_DEVNAMESPACE, None)
    return objects


def plain_client_rate(b: Bench, label: str, names: list[str], work: Callable[[str], None]) -> Throughput:
    """Run ``work(name)`` for every name on the client's threads; developers per second and CPU per developer."""
    cpu = CpuMeter(b.processes)
    cpu.start()
    started = time.monotonic()
    errors = in_parallel(b, names, work)
    took = time.monotonic() - started
    cpu.stop()
    if errors:
        b.report.note(f"{label}: {len(errors)} developers failed, e.g. {next(iter(errors.values()))}")
    done = len(names) - len(errors)
    result = Throughput(done / took, cpu.per(done))
    b.log(f"[{label}] {done} developers in {took:.1f} s: {result.rate:.1f} /s; CPU per developer: "
          f"{result.describe_cpu()}")
    return result


def baseline(b: Bench, n: int) -> Throughput:
    """The same objects created directly by a plain concurrent client; returns developers per second and the CPU
    each process spent per developer. Its namespaces are left in place (the run ends soon after); the operator
    does not watch them."""
    settings = Settings()
    names = [f"base-{i:04d}" for i in range(n)]
    bodies = {name: baseline_bodies(name, settings) for name in names}
    kube = Kube(b.api)

    def create(name: str) -> None:
        for obj in bodies[name]:
            kube.create(obj, parse=False)
    result = plain_client_rate(b, "baseline", names, create)
    count = len(bodies[names[0]])
    b.report.add("Provisioning", f"baseline: same {count} objects, plain client, {b.threads} threads",
                 f"{result.rate:.1f} /s")
    b.report.add("Provisioning", "baseline: CPU per developer, every process", result.describe_cpu())
    return result


def floor(b: Bench, n: int) -> Throughput:
    """What every DevNamespace costs whoever provisions it, sent by a plain client while the operator is stopped:
    the user's create, one POST per object (exactly what the operator renders, owner references included), the
    namespace's proof (one patch: it is bound to the uid the POST returns), one status patch (with Kopf's
    bookkeeping, as the operator writes it) and one Event. Its rate is what an operator that itself cost nothing
    could reach on this machine. The operator stays stopped: run it last."""
    settings = Settings()
    names = [f"floor-{i:04d}" for i in range(n)]
    kube = Kube(b.api)

    def provision(name: str) -> None:
        body = devnamespace(name)
        meta = kube.create(body)["metadata"]
        expires, desired = rendered(name, meta["uid"], parse_time(meta["creationTimestamp"]), settings)
        ns_uid = kube.create(desired.namespace)["metadata"]["uid"]
        kube.annotate("Namespace", name, {ANN_PROOF: gc.proof_for(b"bench", name, ns_uid, meta["uid"])}, uid=ns_uid)
        for obj in desired.children:
            kube.create(obj, parse=False)
        now = dt.datetime.now(dt.timezone.utc)
        status = ready_status(None, phase="Ready", ready=True, reason="Provisioned", generation=1, namespace=name,
                              message=f"namespace {name} is ready", expires_at=expires, now=now)
        kube.patch_status("DevNamespace", name, {**status, "kopf": {
            "last-handled-configuration": json.dumps({"spec": body["spec"]}, separators=(",", ":"))}})
        stamp = format_time(now)
        kube.create({"apiVersion": "v1", "kind": "Event", "type": "Normal", "reason": "Provisioned",
                     "metadata": {"generateName": f"{name}.", "namespace": "default"},
                     "involvedObject": {"apiVersion": API_VERSION, "kind": KIND, "name": name},
                     "message": f"namespace {name} created", "firstTimestamp": stamp, "lastTimestamp": stamp,
                     "count": 1, "source": {"component": "devns-bench-floor"}}, parse=False)
    b.operator.stop()
    result = plain_client_rate(b, "floor", names, provision)
    b.report.add("Provisioning", "floor: what each DevNamespace needs (create, 7 POSTs, proof, status, Event), plain "
                 "client, operator stopped", f"{result.rate:.1f} /s")
    b.report.add("Provisioning", "floor: CPU per developer, every process", result.describe_cpu())
    return result


def compare(b: Bench, operator: Throughput, base: Throughput, least: Throughput, script_seconds: float) -> None:
    """The throughput ratios with their targets, and the same ratios for the floor (``least``): no operator,
    however cheap, provisions faster on this machine than a plain client sending just the requests a
    DevNamespace needs."""
    r = b.report
    ratio, script_ratio = operator.rate / base.rate, operator.rate * script_seconds
    r.add("Provisioning", "operator / baseline throughput", f"{ratio:.2f}x", "≥ 0.8x", ratio >= 0.8)
    r.add("Provisioning", "operator / kubectl script throughput", f"{script_ratio:.1f}x", "≥ 20x", script_ratio >= 20)
    r.add("Provisioning", "the floor's ratios: floor / baseline, floor / kubectl script (the most any operator "
          "reaches here)", f"{least.rate / base.rate:.2f}x, {least.rate * script_seconds:.1f}x")
    r.add("Provisioning", "operator / floor throughput", f"{operator.rate / least.rate:.2f}x")
    ms = lambda t, name: t.cpu.get(name, 0.0) * 1000  # noqa: E731
    r.note("throughput: with no operator at all, the requests a DevNamespace needs reach "
           f"{least.rate / base.rate:.2f}x the baseline and {least.rate * script_seconds:.1f}x the kubectl script: "
           f"the API server spends {ms(least, 'kube-apiserver'):.1f} ms per DevNamespace on them against "
           f"{ms(base, 'kube-apiserver'):.1f} ms on the baseline's creates (the DevNamespace create and its status "
           "write are custom-resource writes, about twice the cost of a built-in create), and every process shares "
           "the same "
           f"{os.cpu_count()} cores. The operator reaches {operator.rate / least.rate:.2f}x of that floor, spending "
           f"{ms(operator, 'operator'):.1f} ms of CPU per DevNamespace itself.")
    b.log(f"[compare] operator / baseline {ratio:.2f}x, / kubectl script {script_ratio:.1f}x; floor / baseline "
          f"{least.rate / base.rate:.2f}x; operator / floor {operator.rate / least.rate:.2f}x")


def provisioning(b: Bench, n: int, stops: list[int]) -> Throughput:
    """N DevNamespaces created concurrently (in stages ending at each memory sample point), create -> Ready timed
    by one watch. Samples operator RSS at each stop. Returns the rate and the CPU each process spent per object
    while provisioning (from each stage's first create to its last Ready)."""
    names = [f"bench-{i:04d}" for i in range(n)]
    ready = ready_recorder()
    started: dict[str, float] = {}
    busy = 0.0
    failed: set[str] = set()
    cpu = CpuMeter(b.processes)
    mark = b.audit.mark()
    with Watch(b.api, DN_PATH, [ready]):
        previous = 0
        for stop in stops:
            batch = names[previous:stop]
            cpu.start()
            t0 = time.monotonic()
            failed |= create_devnamespaces(b, batch, started)
            missing = ready.wait([x for x in batch if x not in failed], timeout=max(120.0, len(batch) * 1.0))
            done = [ready.times[x] for x in batch if x in ready.times]
            busy += (max(done) if done else time.monotonic()) - t0
            cpu.stop()
            if missing:
                b.report.note(f"provisioning: {len(missing)} DevNamespaces not Ready after the timeout, e.g. "
                              f"{sorted(missing)[:3]}")
            b.present += [x for x in batch if x in ready.times]
            if len(stops) > 1:
                b.log(f"[provisioning] stage {previous}->{stop}: {len(done)} Ready in {busy:.1f} s so far")
            b.audit.wait_quiet(OPERATOR_USER, quiet_for=b.settle)
            memory(b, stop, f"after {stop} Ready")
            if done:
                last_ready_wall = time.time() - (time.monotonic() - max(done))
                tail = b.audit.last_write(OPERATOR_USER) - last_ready_wall
                if tail > 1:
                    b.report.note(f"provisioning: the operator kept writing until {tail:.1f} s after the last "
                                  "DevNamespace was Ready")
            previous = stop
    latencies = [ready.times[x] - started[x] for x in names if x in ready.times]
    dist = Distribution.of(latencies)
    rate = len(latencies) / busy
    entries = b.audit.requests(mark, OPERATOR_USER)
    verbs = AuditLog.by_verb(entries)
    per_object = ", ".join(f"{v} {c / max(1, len(latencies)):.1f}" for v, c in sorted(verbs.items()))
    staged = f", {len(stops)} stages" if len(stops) > 1 else ""
    r = b.report
    r.add("Provisioning", f"create -> Ready p50 (N={n}, {b.threads} threads{staged})", fmt_s(dist.p50))
    r.add("Provisioning", "create -> Ready p95", fmt_s(dist.p95))
    r.add("Provisioning", "create -> Ready p99", fmt_s(dist.p99))
    r.add("Provisioning", "create -> Ready max", fmt_s(dist.max))
    r.add("Provisioning", "operator throughput", f"{rate:.1f} /s")
    result = Throughput(rate, cpu.per(len(latencies)))
    r.add("Provisioning", "operator CPU per DevNamespace", f"{result.cpu['operator'] * 1000:.0f} ms")
    r.add("Provisioning", "CPU per DevNamespace, every process", result.describe_cpu())
    r.add("Provisioning", "operator API requests per DevNamespace", per_object)
    writes = AuditLog.by_resource(writes_among(entries))
    r.note("provisioning: operator writes per DevNamespace: " + ", ".join(
        f"{k} {c / max(1, len(latencies)):.1f}" for k, c in writes.most_common()))
    b.log(f"[provisioning] {len(latencies)}/{n} Ready: {dist}; {rate:.1f} /s; CPU per object: "
          f"{result.describe_cpu()}; requests per object: {per_object}")
    return result


def profiled(b: Bench, profiler: Profiler) -> None:
    """Stop the profiler started before provisioning and report where the operator's CPU went."""
    shares = profiler.stop()
    b.report.add("Provisioning", "operator CPU by code (py-spy --gil, while provisioning)", describe(shares))
    b.report.note(f"profile: operator stacks (py-spy raw/folded, open in speedscope) in {profiler.output}; "
                  "the throughput of a profiled run is lower than without the profiler")
    b.log(f"[profile] {describe(shares)}; folded stacks: {profiler.output}")


def single(b: Bench, count: int) -> None:
    """Sequential single creates, each timed create -> Ready. They stay (and count as present)."""
    names = [f"single-{i:02d}" for i in range(count)]
    before = len(b.present)
    ready = ready_recorder()
    latencies = []
    with Watch(b.api, DN_PATH, [ready]):
        for name in names:
            t0 = time.monotonic()
            b.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, devnamespace(name))
            if ready.wait([name], timeout=30.0):
                latencies.append(math.inf)
                b.report.note(f"single create {name}: not Ready within 30 s")
                if latencies[-3:] == [math.inf] * 3:
                    b.report.note("single creates: stopped after 3 in a row were not Ready")
                    break
            else:
                latencies.append(ready.times[name] - t0)
    dist = Distribution.of(latencies)
    b.report.add("Provisioning", f"single apply -> Ready p50 ({count} sequential, {before} present)",
                 fmt_s(dist.p50))
    b.report.add("Provisioning", "single apply -> Ready p99", fmt_s(dist.p99), "≤ 2 s", dist.p99 <= 2.0)
    b.report.add("Provisioning", "single apply -> Ready max", fmt_s(dist.max))
    b.present += [x for x in names if x in ready.times]
    b.log(f"[single] {count} sequential creates with {before} present: {dist}")


# -- 2. expiry ----------------------------------------------------------------------------------------------------

def expiry(b: Bench, m: int, lead: float) -> None:
    """M Ready DevNamespaces get the same expiresAt ``lead`` seconds ahead; time from it to each namespace's
    deletion start (deletionTimestamp, or the namespace gone) and to all gone."""
    names = [f"exp-{i:04d}" for i in range(m)]
    ready = ready_recorder()
    with Watch(b.api, DN_PATH, [ready]):
        failed = create_devnamespaces(b, names, {})
        missing = ready.wait([x for x in names if x not in failed], timeout=max(120.0, m * 1.0))
    names = [x for x in names if x in ready.times]
    if missing:
        b.report.note(f"expiry: {len(missing)} DevNamespaces never Ready; measured the other {len(names)}")
    wanted = set(names)
    deleting = FirstSeen(lambda t, o: o["metadata"]["name"] if o["metadata"]["name"] in wanted and
                         (t == "DELETED" or o["metadata"].get("deletionTimestamp")) else None)
    gone = deleted_recorder(names)
    b.audit.wait_quiet(OPERATOR_USER, quiet_for=1.0)
    with Watch(b.api, NS_PATH, [deleting, gone], label_selector=MANAGED_SELECTOR):
        wall = math.ceil(time.time() + lead)
        moment = time.monotonic() + (wall - time.time())
        expires_at = dt.datetime.fromtimestamp(wall, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        custom = b.custom
        errors = in_parallel(b, names, lambda x: custom.patch_cluster_custom_object(
            GROUP, VERSION, PLURAL, x, {"spec": {"ttl": None, "expiresAt": expires_at}}))
        if errors:
            b.report.note(f"expiry: {len(errors)} patches failed, e.g. {next(iter(errors.values()))}")
        patched = time.monotonic()
        if patched > moment - 2:
            b.report.note(f"expiry: patching took until {moment - patched:.1f} s before the expiry moment; "
                          "use a longer lead")
        names = [x for x in names if x not in errors]
        timeout = max(0.0, moment - time.monotonic()) + max(60.0, len(names) * 1.0)
        not_started = deleting.wait(names, timeout)
        not_gone = gone.wait(names, max(0.0, moment - time.monotonic()) + max(120.0, len(names) * 1.0))
    delays = [deleting.times[x] - moment if x in deleting.times else math.inf for x in names]
    dist = Distribution.of(delays)
    all_gone = max(gone.times.values()) - moment if gone.times and not not_gone else math.inf
    r = b.report
    r.add("Expiry", f"expiry -> deletion start p50 (N={len(names)})", fmt_s(dist.p50))
    r.add("Expiry", "expiry -> deletion start p99", fmt_s(dist.p99), "≤ 5 s", dist.p99 <= 5.0)
    r.add("Expiry", "expiry -> all namespaces gone", fmt_s(all_gone) if not not_gone else
          f"{len(not_gone)} left", None, None)
    if not_started:
        r.note(f"expiry: {len(not_started)} namespaces not deleted, e.g. {sorted(not_started)[:3]}")
    b.log(f"[expiry] {len(names)} expiring together: deletion start {dist}; all gone "
          f"{fmt_s(all_gone)} after the deadline")
    delete_devnamespaces(b, [f"exp-{i:04d}" for i in range(m)], "expired DevNamespaces")


# -- 3. drift -----------------------------------------------------------------------------------------------------

def drift(b: Bench, namespaces: list[str], *, when: str, timeout: float = 30.0, judged: bool = True) -> None:
    """Delete the default-deny NetworkPolicy in each namespace, one after the other; time each re-creation (the
    ADDED event of the new one). ``judged``: the measurement with the target; otherwise informational."""
    wanted = set(namespaces)
    restored = FirstSeen(lambda t, o: o["metadata"]["namespace"] if t == "ADDED" and
                         o["metadata"]["name"] == DENY_POLICY and o["metadata"]["namespace"] in wanted else None)
    kube = Kube(b.api)
    deleted: dict[str, float] = {}
    with Watch(b.api, NETPOL_PATH, [restored], label_selector=MANAGED_SELECTOR):
        for ns in namespaces:
            deleted[ns] = time.monotonic()
            kube.delete("NetworkPolicy", DENY_POLICY, ns)
        missing = restored.wait(namespaces, timeout)
    delays = [restored.times[ns] - deleted[ns] if ns in restored.times else math.inf for ns in namespaces]
    dist = Distribution.of(delays)
    r, k = b.report, len(namespaces)
    if judged:
        r.add("Drift repair", f"NetworkPolicy deleted -> re-created p50 (K={k}, {when})", fmt_s(dist.p50, NR))
        r.add("Drift repair", "NetworkPolicy deleted -> re-created p99", fmt_s(dist.p99, NR), "≤ 2 s",
              dist.p99 <= 2.0)
        r.add("Drift repair", f"restored within {timeout:.0f} s", f"{k - len(missing)}/{k}", f"{k}/{k}", not missing)
    else:
        r.add("Drift repair", f"deleted -> re-created p50 / p99, {when} (K={k})", f"{fmt_s(dist.p50, NR)} / "
              f"{fmt_s(dist.p99, NR)}" + (f" ({len(missing)} not restored in {timeout:.0f} s)" if missing else ""))
    if missing:
        r.note(f"drift ({when}): {len(missing)}/{k} NetworkPolicies not restored within {timeout:.0f} s "
               "(recorded as 'not restored')")
    b.log(f"[drift] {when}: {k - len(missing)}/{k} restored: {dist}")


# -- 4. idle cost -------------------------------------------------------------------------------------------------

def idle(b: Bench, seconds: float) -> None:
    """Count the operator's API requests by verb (audit log) over a window with every DevNamespace Ready, and
    its CPU. The API server's own counter (apiserver_request_total) is shown beside them: it has no label for
    who asked, which is why the operator's share comes from the audit log."""
    b.audit.wait_quiet(OPERATOR_USER, quiet_for=3.0)
    mark = b.audit.mark()
    counted = apiserver_requests(b.api)
    cpu = CpuMeter(lambda: {"operator": b.operator.pid})
    cpu.start()
    time.sleep(seconds)  # the measurement window itself
    cpu.stop()
    everyone = apiserver_requests(b.api) - counted
    entries = b.audit.requests(mark, OPERATOR_USER, until=mark[1] + seconds)
    verbs = AuditLog.by_verb(entries)
    writes = writes_among(entries)
    minutes = seconds / 60
    r = b.report
    label = f"{seconds:.0f} s, N={len(b.present)} Ready"
    r.add("Idle cost", f"operator writes ({label})", str(len(writes)), "0", not writes)
    for verb in READ_VERBS:
        r.add("Idle cost", f"operator {verb} requests per minute", f"{verbs.get(verb, 0) / minutes:.1f}")
    r.add("Idle cost", "operator CPU per minute", f"{cpu.used['operator'] / minutes * 1000:.0f} ms")
    r.add("Idle cost", "every client, per minute (apiserver_request_total delta)",
          ", ".join(f"{verb} {count / minutes:.1f}" for verb, count in sorted(everyone.items())) or "none")
    if writes:
        r.note(f"idle: operator writes: {describe_writes(writes)}")
    reads = ", ".join(f"{v} {verbs.get(v, 0) / minutes:.1f}/min" for v in READ_VERBS)
    b.log(f"[idle] {seconds:.0f} s with {len(b.present)} Ready: {len(writes)} writes; {reads}; operator CPU "
          f"{cpu.used['operator'] / minutes * 1000:.0f} ms/min; every client: {dict(everyone)}")


# -- 5. memory ----------------------------------------------------------------------------------------------------

def grow(b: Bench, points: list[int], reserve: int = 4 * 2**30) -> None:
    """Create more DevNamespaces until each count in ``points`` is present, sampling operator RSS at each; a point
    is skipped when the machine has less than ``reserve`` bytes available (the control plane grows too)."""
    for point in points:
        if available_memory() < reserve:
            b.report.note(f"memory: N={point} skipped, less than {reserve / 2**30:.0f} GiB available")
            break
        names = [f"grow-{i:05d}" for i in range(len(b.present), point)]
        ready = ready_recorder()
        t0 = time.monotonic()
        with Watch(b.api, DN_PATH, [ready]):
            failed = create_devnamespaces(b, names, {})
            missing = ready.wait([x for x in names if x not in failed], timeout=max(120.0, len(names) * 1.0))
        b.present += [x for x in names if x in ready.times]
        if failed or missing:
            b.report.note(f"memory: {len(failed | missing)} of {len(names)} DevNamespaces for N={point} did not "
                          "become Ready; RSS sampled with those present")
        b.log(f"[grow] {len(names)} more Ready in {time.monotonic() - t0:.1f} s ({len(b.present)} present)")
        b.audit.wait_quiet(OPERATOR_USER, quiet_for=b.settle)
        memory(b, len(b.present), f"after growing to {point}")


def available_memory() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def memory(b: Bench, n: int, when: str) -> int:
    rss = b.operator.rss_bytes()
    b.report.add("Memory", f"operator RSS at N={n}", f"{rss / 2**20:.0f} MiB")
    b.log(f"[memory] operator RSS at N={n} ({when}, {b.settle:g} s without writes): {rss / 2**20:.0f} MiB")
    return rss


# -- 6. restart ---------------------------------------------------------------------------------------------------

def restart(b: Bench) -> None:
    """Stop the operator, start a new one, time until it has resumed every DevNamespace; count its writes."""
    n = len(b.present)
    op = b.operator
    b.audit.wait_quiet(OPERATOR_USER, quiet_for=3.0)
    op.stop()
    mark = b.audit.mark()
    op.spawn()
    healthy = op.wait_healthy()

    # Done when every object has been reconciled once; given up when the count stops moving for 60 s.
    done, last_count, last_change = math.inf, -1.0, time.monotonic()
    deadline = time.monotonic() + max(180.0, n * 1.0)
    while time.monotonic() < deadline:
        count = op.metric_sum("devns_reconciles_total") or 0
        if count >= n:
            done = time.monotonic() - op.started_at
            break
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > 60:
            break
        time.sleep(0.05)
    took = done
    if math.isinf(took):
        b.report.note(f"restart: stalled at {last_count:.0f}/{n} reconciles (no progress for 60 s, "
                      f"{time.monotonic() - op.started_at:.0f} s after start); operator log tail: "
                      + " | ".join(op.log_tail(3).splitlines()))
    until = time.time()
    unchanged = op.metric_sum("devns_reconciles_total", result="unchanged") or 0
    entries = b.audit.requests(mark, OPERATOR_USER, until=until)
    writes = writes_among(entries)
    r = b.report
    r.add("Restart", f"start -> all {n} resumed", fmt_s(took, f"stalled at {last_count:.0f}/{n}"))
    r.add("Restart", "resumed as unchanged", f"{unchanged:.0f}/{n}", f"{n}/{n}", unchanged >= n)
    if math.isinf(took):  # nothing resumed: zero writes proves nothing
        r.add("Restart", "operator writes during resume", f"{len(writes)} (resume stalled)", "0", None)
    else:
        r.add("Restart", "operator writes during resume", str(len(writes)), "0", not writes)
    if writes:
        r.note(f"restart: writes during resume: {describe_writes(writes)}")
    b.log(f"[restart] healthy after {fmt_s(healthy)}, {n} resumed after {fmt_s(took, 'never (stalled)')} "
          f"({unchanged:.0f} "
          f"unchanged); {len(writes)} writes, {len(entries)} requests")
