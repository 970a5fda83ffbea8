"""`make bench ARGS=--scale`: the cluster's limit of 10,000 DevNamespaces on one operator. Provisioned in stages
(operator RSS, the control plane's memory and CPU per object at each), then with all of them present: 100 expiring
together, drift repair, the idle cost, a restart (every one resumed, its writes, and a DevNamespace created during
the resume), and last the floor for the final stage's throughput. Writes the "Scale" part of BENCHMARKS.md and
leaves the rest of the file as the full run wrote it.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from testkit.audit import describe_writes, writes_among
from testkit.operator_process import OPERATOR_USER

from .measure import CpuMeter, FirstSeen, Watch, cpu_seconds, fmt_s
from .report import Report, results
from .scenarios import (DN_PATH, Bench, Throughput, create_devnamespaces, drift, expiry, floor, idle, memory,
                        ready_recorder)

SECTION = "Scale"
BEGIN, END = "<!-- scale: begin -->", "<!-- scale: end -->"


def rss_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def stages(b: Bench, points: list[int]) -> Throughput:
    """Grow to each count in ``points`` (DevNamespaces created at the rate the machine allows, every one Ready),
    sampling RSS at each; returns the last stage's throughput and CPU per object."""
    r, result = b.report, Throughput(0.0, {})
    for point in points:
        names = [f"scale-{i:05d}" for i in range(len(b.present), point)]
        ready, started = ready_recorder(), {}
        cpu = CpuMeter(b.processes)
        cpu.start()
        t0 = time.monotonic()
        with Watch(b.api, DN_PATH, [ready]):
            failed = create_devnamespaces(b, names, started)
            missing = ready.wait([x for x in names if x not in failed], timeout=max(300.0, len(names) * 1.0))
        done = [ready.times[x] for x in names if x in ready.times]
        took = (max(done) if done else time.monotonic()) - t0
        cpu.stop()
        b.present += [x for x in names if x in ready.times]
        result = Throughput(len(done) / took if took > 0 else 0.0, cpu.per(len(done)))
        if failed or missing:
            r.note(f"scale: {len(failed | missing)} of {len(names)} DevNamespaces for N={point} not Ready")
        r.add(SECTION, f"provisioning {point - len(names)} -> {point}: throughput, operator CPU per DevNamespace",
              f"{result.rate:.1f} /s, {result.cpu.get('operator', 0) * 1000:.0f} ms")
        b.log(f"[scale] {len(done)} more Ready in {took:.1f} s ({len(b.present)} present); CPU per object: "
              f"{result.describe_cpu()}")
        b.audit.wait_quiet(OPERATOR_USER, quiet_for=b.settle, timeout=600.0)
        memory(b, len(b.present), f"after growing to {point}")
    return result


def control_plane_memory(b: Bench) -> None:
    pids = b.env.cluster.pids
    parts = ", ".join(f"{name} {rss_of(pid) / 2**20:.0f} MiB" for name, pid in pids.items())
    b.report.add(SECTION, f"control plane RSS at N={len(b.present)}", parts)
    b.log(f"[scale] control plane RSS: {parts}")


def restart_with_a_newcomer(b: Bench, resume_target: float = 60.0, newcomer_target: float = 5.0) -> None:
    """Restart over every DevNamespace present; one new DevNamespace is created as soon as the new process is
    healthy: its create -> Ready while the others resume, the time to resume them all, the writes to them."""
    n, op, r = len(b.present), b.operator, b.report
    b.audit.wait_quiet(OPERATOR_USER, quiet_for=3.0)
    op.stop()
    mark = b.audit.mark()
    op.spawn()
    op.wait_healthy(timeout=300.0)
    newcomer, started = "scale-newcomer", {}
    ready = FirstSeen(lambda t, o: o["metadata"]["name"] if o["metadata"]["name"] == newcomer and
                      (o.get("status") or {}).get("phase") == "Ready" else None)
    with Watch(b.api, DN_PATH, [ready]):
        create_devnamespaces(b, [newcomer], started)
        ready.wait([newcomer], timeout=600.0)
        resumed_after = math.inf
        deadline = time.monotonic() + max(600.0, n * 0.2)
        while time.monotonic() < deadline:
            if op.metric_sum("devns_startup_pending_devnamespaces") == 0:  # Kopf resumed every one listed
                resumed_after = time.monotonic() - op.started_at
                break
            time.sleep(0.2)
    newcomer_took = ready.times[newcomer] - started[newcomer] if newcomer in ready.times else math.inf
    unchanged = op.metric_sum("devns_reconciles_total", result="unchanged") or 0
    writes = [w for w in writes_among(b.audit.requests(mark, OPERATOR_USER, until=time.time()), b.present)]
    cpu = cpu_seconds(op.pid)
    r.add(SECTION, f"restart: start -> all {n} resumed", fmt_s(resumed_after), f"≤ {resume_target:g} s",
          resumed_after <= resume_target)
    r.add(SECTION, "restart: resumed as unchanged", f"{unchanged:.0f}/{n}", f"{n}/{n}", unchanged >= n)
    r.add(SECTION, "restart: operator writes to them", str(len(writes)), "0", not writes)
    r.add(SECTION, "restart: a DevNamespace created during the resume, create -> Ready", fmt_s(newcomer_took),
          f"≤ {newcomer_target:g} s", newcomer_took <= newcomer_target)
    r.add(SECTION, "restart: operator CPU until all resumed", f"{cpu:.0f} s ({cpu / max(1, n) * 1000:.1f} ms each)")
    if writes:
        r.note(f"scale restart: writes during resume: {describe_writes(writes)}")
    b.present.append(newcomer)
    b.log(f"[scale] restart: {n} resumed after {fmt_s(resumed_after)} ({unchanged:.0f} unchanged), newcomer Ready "
          f"after {fmt_s(newcomer_took)}; {len(writes)} writes")


def scale(b: Bench, points: list[int], idle_seconds: float) -> None:
    """The whole scenario; rows go to the report's "Scale" section (and the judged ones also to their usual
    sections' targets)."""
    memory(b, 0, "after start")
    before_last = points[-2] if len(points) > 1 else 0
    stages(b, [p for p in points if p <= before_last])
    last = stages(b, [points[-1]]) if points[-1] > before_last else Throughput(0.0, {})
    control_plane_memory(b)
    rss = [row for row in b.report.rows if row.section == "Memory"]
    if len(rss) >= 2:
        first_mib = float(rss[1].value.split()[0])
        last_mib = float(rss[-1].value.split()[0])
        per_k = (last_mib - first_mib) / max(0.001, (len(b.present) - points[0]) / 1000)
        b.report.add(SECTION, f"operator RSS at N={len(b.present)}", f"{last_mib:.0f} MiB", "≤ 400 MiB",
                     last_mib <= 400)
        b.report.add(SECTION, "operator RSS per additional 1,000 DevNamespaces", f"{per_k:.1f} MiB", "≤ 25 MiB",
                     per_k <= 25)
    expiry(b, 100, 25.0)
    drift(b, b.present[-50:], when=f"with {len(b.present)} present")
    idle(b, idle_seconds)
    restart_with_a_newcomer(b)
    floor_n = points[-1] - before_last  # as many as the last stage: the same work on the same cluster
    least = floor(b, floor_n)
    ratio = last.rate / least.rate if least.rate else 0.0
    b.report.add(SECTION, f"last stage's throughput / floor ({floor_n} more, same cluster)", f"{ratio:.2f}x",
                 "≥ 0.95x", ratio >= 0.95)


def splice(existing: str, block: str) -> str:
    """BENCHMARKS.md with its scale block replaced by ``block`` (appended when there is none)."""
    wrapped = f"{BEGIN}\n{block.rstrip()}\n{END}\n"
    if BEGIN in existing and END in existing:
        head, rest = existing.split(BEGIN, 1)
        return head + wrapped + rest.split(END, 1)[1].lstrip("\n")
    return existing.rstrip() + "\n\n" + wrapped


def kept_block(existing: str) -> str:
    """The scale block of an existing BENCHMARKS.md (a full run keeps it), or ""."""
    if BEGIN in existing and END in existing:
        return BEGIN + existing.split(BEGIN, 1)[1].split(END, 1)[0] + END + "\n"
    return ""


def scale_markdown(report: Report, *, command: str, started, duration: float, devns_version: str, parameters: dict) -> str:
    """The "Scale" part of BENCHMARKS.md: what ran, the table, the notes."""
    lines = [
        "## Scale: 10,000 DevNamespaces",
        "",
        f"Written by `{command}` on {started.strftime('%Y-%m-%d %H:%M UTC')} (run took {duration / 60:.1f} min), "
        f"devns {devns_version}, same machine and control plane as above; its own run, so its numbers are not "
        "those of the full run's table.",
        "",
        *(f"- {k}: {v}" for k, v in parameters.items()),
        "",
        *results(report, "Notes:"),
    ]
    return "\n".join(lines)
