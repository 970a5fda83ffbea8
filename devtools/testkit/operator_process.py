"""The devns operator as a real subprocess on a dev cluster, as the e2e tests and the benchmark run it.

Not named ``operator``: a module of that name on ``sys.path`` would shadow the standard library's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from os import PathLike
from pathlib import Path

from localk8s.cluster import free_port

from .waiting import wait_for

#: The user name the operator's own kubeconfig is issued for, so the audit log tells its requests apart.
OPERATOR_USER = "devns-operator"

#: One sample's key in ``OperatorProcess.metrics()``: (name, sorted (label, value) pairs).
SampleKey = tuple[str, tuple[tuple[str, str], ...]]


class OperatorProcess:
    """``python -m devns`` (or ``command``) as a subprocess with its own log file, liveness and metrics ports.

    ``start`` spawns and waits for the liveness endpoint; ``spawn`` and ``wait_healthy`` do the same in two steps,
    for a caller that times the start-up. ``stop`` is SIGTERM (then SIGKILL after ``grace``), ``kill`` a crash,
    ``restart`` a stop and a start with other settings."""

    def __init__(self, kubeconfig: str | PathLike, log_path: Path, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = (), command: list[str] | None = None, new_session: bool = False):
        """``env`` goes on top of this process's environment (``DEVNS_METRICS_PORT`` is always this object's free
        port). ``command`` replaces ``python -m devns --kubeconfig K --liveness URL``; then ``args`` must pass a
        liveness URL on ``health_port`` and ``env`` the KUBECONFIG. ``new_session``: the operator gets a session
        of its own, so a Ctrl-C in the terminal reaches only the caller (who stops the operator on its way out)."""
        self.kubeconfig, self.log_path, self.args, self.command = str(kubeconfig), Path(log_path), args, command
        self.new_session = new_session
        self.metrics_port, self.health_port = free_port(), free_port()
        self.base_env = {**os.environ, **(env or {}), "DEVNS_METRICS_PORT": str(self.metrics_port)}
        self.env = dict(self.base_env)
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0  # time.monotonic() of the last spawn

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "the operator was never started"
        return self.proc.pid

    # -- life cycle -----------------------------------------------------------------------------------------------

    def spawn(self) -> None:
        """Start the process and return at once (``wait_healthy`` waits for it); never a second one beside it."""
        assert self.proc is None or self.proc.poll() is not None, "the operator is running already"
        command = self.command or [sys.executable, "-m", "devns", "--kubeconfig", self.kubeconfig,
                                   "--liveness", f"http://127.0.0.1:{self.health_port}/healthz"]
        with open(self.log_path, "ab") as log:
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen([*command, *self.args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=self.new_session)

    def wait_healthy(self, timeout: float = 60.0) -> float:
        """Wait until the liveness endpoint answers 200; return the seconds since the spawn. Fails at once, with
        the log's tail, if the process exits meanwhile."""
        wait_for(lambda: self._get("/healthz", self.health_port) is not None, timeout=timeout,
                 what="operator liveness endpoint")
        return time.monotonic() - self.started_at

    def start(self, timeout: float = 60.0) -> float:
        """``spawn`` and ``wait_healthy``: the seconds the start-up took. Already running (a test's ``finally``
        after a failure that came before its stop): nothing to start, 0."""
        if self.proc is not None and self.proc.poll() is None:
            return 0.0
        self.spawn()
        return self.wait_healthy(timeout)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM, and SIGKILL if it has not exited after ``grace`` seconds."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: a crash, no clean-up."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self, **env: str) -> float:
        """Stop, then start again with these overrides (``DEVNS_*``) on top of the original environment; an empty
        call restores the original settings. Returns the seconds the start-up took."""
        self.stop()
        self.env = {**self.base_env, **env}
        return self.start()

    # -- observing ------------------------------------------------------------------------------------------------

    def _get(self, path: str, port: int) -> bytes | None:
        """The body of a 200 answer from the operator's own HTTP server, or None while it does not answer; raises
        RuntimeError (not tolerated by ``wait_for``) when the process is gone."""
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"operator exited with {self.proc and self.proc.returncode}; last lines of "
                               f"{self.log_path}:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
                return resp.read() if resp.status == 200 else None
        except OSError:
            return None

    def metrics(self) -> dict[SampleKey, float] | None:
        """Every sample on /metrics as {(name, sorted labels): value}, or None while it does not answer."""
        from prometheus_client.parser import text_string_to_metric_families
        raw = self._get("/metrics", self.metrics_port)
        if raw is None:
            return None
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(raw.decode()) for s in family.samples}

    @staticmethod
    def _matching(samples: dict[SampleKey, float], name: str, labels: dict[str, str]) -> list[float]:
        return [value for (n, pairs), value in samples.items()
                if n == name and all(dict(pairs).get(k) == want for k, want in labels.items())]

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """The value of the one sample ``name`` with these labels (others may be present); None when there is no
        such sample (a labelled counter not incremented yet) or /metrics does not answer."""
        samples = self.metrics()
        found = self._matching(samples, name, labels or {}) if samples is not None else []
        return found[0] if found else None

    def metric_sum(self, name: str, **labels: str) -> float | None:
        """The sum of every sample ``name`` with these labels (0 if none); None while /metrics does not answer."""
        samples = self.metrics()
        return None if samples is None else sum(self._matching(samples, name, labels))

    def rss_bytes(self) -> int:
        """Resident set size from /proc/<pid>/status (VmRSS)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS in /proc status")

    def log_tail(self, lines: int = 40, levels: tuple[str, ...] = ()) -> str:
        """The last ``lines`` lines of the operator's log; with ``levels`` (e.g. "WARNING"), of those only."""
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        if levels:
            text = [line for line in text if any(f"[{level}" in line for level in levels)]
        return "\n".join(text[-lines:])
