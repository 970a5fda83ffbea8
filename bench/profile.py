"""``--profile``: py-spy samples the operator while it provisions, and its CPU is split by whose code was running.

py-spy records only the thread holding the GIL (``--gil``), so the samples are the operator's Python CPU. Each
sample is charged to the innermost frame that belongs to devns's API module, to other devns code, or to Kopf (the
libraries below them count for their caller): so "Kopf" is the framework's own work on each watch event (queues,
per-object workers, cause detection, handler invocation, its status patches and Event posting), "API calls" is
sending devns's requests through the official client.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

#: (frame file prefix, category), innermost match wins.
CATEGORIES = (
    ("devns/kube.py", "devns API calls (kube.py, official client)"),
    ("devns/", "devns handlers, reconcile, drift checks"),
    ("kopf/", "Kopf"),
)
OTHER = "other (interpreter, event loop)"
#: Frames that are on every stack (the process's entry point): never what a sample is charged to.
ROOTS = ("devns/__main__.py", "devns/cli.py")


def py_spy() -> str | None:
    """The py-spy next to this interpreter (the dev extra installs it), else on PATH."""
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def category(stack: str) -> str:
    """The category of one folded stack (frames root first, ';'-separated, each 'function (file:line)')."""
    for frame in reversed(stack.split(";")):
        where = frame.rpartition(" (")[2]
        if where.startswith(ROOTS):
            continue
        for prefix, name in CATEGORIES:
            if where.startswith(prefix):
                return name
    return OTHER


def split(folded: str) -> Counter:
    """Samples per category from py-spy's raw (folded) output: one 'stack count' line per distinct stack."""
    shares: Counter = Counter()
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            shares[category(stack)] += int(count)
    return shares


class Profiler:
    """``py-spy record`` on a running process until ``stop()``; ``output`` receives the folded stacks."""

    def __init__(self, pid: int, output: Path, rate: int = 100):
        executable = py_spy()
        if executable is None:
            raise RuntimeError("--profile needs py-spy (pip install py-spy; the dev extra has it)")
        self.output = output
        self.proc = subprocess.Popen(
            [executable, "record", "--pid", str(pid), "--gil", "--nonblocking", "--rate", str(rate),
             "--format", "raw", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> Counter:
        self.proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        _, err = self.proc.communicate(timeout=60)
        if not self.output.exists():
            raise RuntimeError(f"py-spy wrote no profile: {err.decode(errors='replace').strip()[-500:]}")
        return split(self.output.read_text())


def describe(shares: Counter) -> str:
    total = sum(shares.values()) or 1
    return ", ".join(f"{name} {count / total:.0%}" for name, count in shares.most_common())
