"""The results table: one row per measurement (value, target, PASS/MISS), printed and written to BENCHMARKS.md
with the machine, the Kubernetes version, the settings and the date."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

SECTIONS = ("Onboarding", "Provisioning", "Classes", "Expiry", "Drift repair", "Idle cost", "Memory", "Restart")


@dataclass
class Row:
    section: str
    name: str
    value: str
    target: str | None = None
    ok: bool | None = None

    @property
    def result(self) -> str:
        return "" if self.ok is None else "PASS" if self.ok else "MISS"


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, section: str, name: str, value: str, target: str | None = None, ok: bool | None = None) -> None:
        self.rows.append(Row(section, name, value, target, ok))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def ordered(self) -> list[Row]:
        rank = {s: i for i, s in enumerate(SECTIONS)}
        return sorted(self.rows, key=lambda r: rank.get(r.section, len(SECTIONS)))  # stable within a section

    def table(self) -> str:
        """A Markdown table (also readable as plain text)."""
        head = ("Section", "Measurement", "Value", "Target", "Result")
        body = [(r.section, r.name, r.value, r.target or "", r.result) for r in self.ordered()]
        widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
        line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
        return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])

    def summary(self) -> str:
        judged = [r for r in self.rows if r.ok is not None]
        missed = [r for r in judged if not r.ok]
        return f"{len(judged) - len(missed)}/{len(judged)} targets met" + (
            f"; missed: {', '.join(r.name for r in missed)}" if missed else "")


def code_version(root: Path) -> tuple[str, str]:
    """(git commit, with '+changes' if the working tree differs; digest of the operator's sources)."""
    import hashlib
    import subprocess
    digest = hashlib.sha256()
    package = root / "operator" / "devns"
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "operator"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    return (commit or "unknown") + ("+changes" if dirty else ""), digest.hexdigest()[:12]


def machine_info() -> dict[str, str]:
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    cpu_model = ""
    try:
        cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                          if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "CPUs": f"{os.cpu_count()}" + (f" ({cpu_model})" if cpu_model else ""),
        "Memory": mem,
        "Python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
    }


def markdown(report: Report, *, kubernetes_version: str, devns_version: str, parameters: dict[str, str],
             settings: dict[str, str], started: dt.datetime, duration: float, command: str) -> str:
    info = machine_info()
    lines = [
        "# devns benchmarks",
        "",
        f"Written by `{command}` on {started.strftime('%Y-%m-%d %H:%M UTC')} (run took {duration / 60:.1f} min). "
        "Every number comes from one run on a fresh local control plane (etcd, kube-apiserver, "
        "kube-controller-manager on loopback; no kubelet) that shares the machine with the operator and the "
        "benchmark client. Latencies are nearest-rank percentiles, timed by watch events received by the "
        "benchmark; API request counts come from the API server's audit log, filtered to the operator's own "
        "identity (`devns-operator`).",
        "",
        "## Environment",
        "",
        *(f"- {k}: {v}" for k, v in info.items()),
        f"- Kubernetes: v{kubernetes_version} (localk8s)",
        f"- devns: {devns_version}",
        f"- Date (UTC): {started.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "",
        "## Settings",
        "",
        *(f"- {k}: {v}" for k, v in parameters.items()),
        "- Operator settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()),
        "",
        "## Results",
        "",
        *results(report, "## Notes"),
    ]
    return "\n".join(lines)


def results(report: Report, notes_heading: str) -> list[str]:
    """The table, the summary line and the notes (under ``notes_heading``), as Markdown lines."""
    lines = [report.table(), "", report.summary() + ".", ""]
    if report.notes:
        lines += [notes_heading, "", *(f"- {n}" for n in report.notes), ""]
    return lines
