"""Measuring tools: nearest-rank percentiles, watch-based first-seen timers, the API server's request counters, and
CPU time per process. (The audit log reader is testkit.audit, shared with the e2e tests.)

Timers stamp events with ``time.monotonic()`` in a background thread that reads one watch stream; the objects
are plain dicts (no model deserialisation), so a busy stream does not fall behind.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException


# -- CPU ----------------------------------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds per named process between ``start()`` and ``stop()``, summed over any number of intervals.
    ``pids`` is called at each sample, so a restarted process is followed."""

    def __init__(self, pids: Callable[[], dict[str, int]]):
        self.pids = pids
        self.used: Counter = Counter()
        self._start: dict[str, tuple[int, float]] = {}

    def start(self) -> None:
        self._start = {name: (pid, cpu_seconds(pid)) for name, pid in self.pids().items()}

    def stop(self) -> None:
        for name, (pid, before) in self._start.items():
            self.used[name] += cpu_seconds(pid) - before
        self._start = {}

    def per(self, count: int) -> dict[str, float]:
        """Seconds per unit of work (e.g. per DevNamespace)."""
        return {name: used / max(1, count) for name, used in self.used.items()}


# -- statistics ---------------------------------------------------------------------------------------------------

def percentile(values: Iterable[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Distribution:
    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> "Distribution":
        v = list(values)
        return cls(len(v), percentile(v, 50), percentile(v, 95), percentile(v, 99), max(v) if v else math.nan)

    def __str__(self) -> str:
        return f"p50 {fmt_s(self.p50)}, p95 {fmt_s(self.p95)}, p99 {fmt_s(self.p99)}, max {fmt_s(self.max)}"


def fmt_s(seconds: float, inf: str = "timed out") -> str:
    if math.isnan(seconds):
        return "n/a"
    if math.isinf(seconds):
        return inf
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


# -- watches ------------------------------------------------------------------------------------------------------

class FirstSeen:
    """key -> monotonic time of the first event ``match(type, obj)`` maps to that key (None = not interesting).
    ``wait(keys)`` blocks until every key has been seen or the timeout passes."""

    def __init__(self, match: Callable[[str, dict[str, Any]], str | None]):
        self.match = match
        self.times: dict[str, float] = {}
        self._cond = threading.Condition()

    def __call__(self, type_: str, obj: dict[str, Any], t: float) -> None:
        key = self.match(type_, obj)
        if key is None:
            return
        with self._cond:
            if key not in self.times:
                self.times[key] = t
                self._cond.notify_all()

    def wait(self, keys: Iterable[str], timeout: float) -> set[str]:
        """Return the keys still not seen when all were seen (empty) or ``timeout`` seconds passed."""
        wanted = set(keys)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                missing = wanted - self.times.keys()
                left = deadline - time.monotonic()
                if not missing or left <= 0:
                    return missing
                self._cond.wait(left)


class Watch:
    """One watch on a collection (``/apis/devns.io/v1alpha1/devnamespaces``, ``/api/v1/namespaces``...), from
    the current resourceVersion on, feeding every event to the recorders. Re-connects (from the last seen
    resourceVersion) when the server ends the watch; re-lists after 410 Gone."""

    def __init__(self, api: ApiClient, path: str, recorders: list[Callable[[str, dict, float], None]], *,
                 label_selector: str | None = None):
        self.api, self.path, self.recorders, self.label_selector = api, path, recorders, label_selector
        self.resource_version: str | None = None
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch {path}", daemon=True)
        self._resp = None

    def __enter__(self) -> "Watch":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _request(self, query: list[tuple[str, str]], timeout: tuple[float, float]):
        if self.label_selector:
            query = [*query, ("labelSelector", self.label_selector)]
        _, url, headers, _, _ = self.api.param_serialize(
            method="GET", resource_path=self.path, query_params=query,
            header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
        resp = self.api.call_api("GET", url, headers, _request_timeout=timeout)
        if resp.status != 200:
            body = resp.read()
            raise ApiException(status=resp.status, reason=resp.reason, body=body)
        return resp

    def _list(self, emit: bool) -> None:
        """Learn the current resourceVersion; with ``emit``, also replay every object (stamped now)."""
        data = json.loads(self._request([] if emit else [("limit", "1")], (10, 120)).read())
        self.resource_version = data["metadata"]["resourceVersion"]
        if emit:
            now = time.monotonic()
            for item in data.get("items") or []:
                self._emit("LISTED", item, now)

    def _emit(self, type_: str, obj: dict, t: float) -> None:
        for recorder in self.recorders:
            recorder(type_, obj, t)

    def start(self) -> "Watch":
        self._list(emit=False)  # only changes from now on
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        resp = self._resp
        if resp is not None:
            try:
                resp.response.shutdown()  # unblock the reader thread (urllib3 >= 2.3)
            except Exception:  # noqa: BLE001 - best effort: the thread is a daemon anyway
                pass
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._resp = self._request([("watch", "true"), ("resourceVersion", self.resource_version),
                                            ("allowWatchBookmarks", "true"), ("timeoutSeconds", "290")],
                                           (10, 320))
                buffer = b""
                for chunk in self._resp.response.stream(amt=None, decode_content=False):
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    now = time.monotonic()
                    for line in lines:
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        obj = event["object"]
                        if event["type"] == "ERROR":
                            if obj.get("code") == 410:  # too old: re-list (stamped now) and go on from there
                                self._list(emit=True)
                                break
                            raise ApiException(status=obj.get("code"), reason=obj.get("message"))
                        self.resource_version = obj["metadata"]["resourceVersion"]
                        if event["type"] != "BOOKMARK":
                            self._emit(event["type"], obj, now)
                    if self._stop.is_set():
                        return
            except Exception as exc:  # noqa: BLE001 - reported to the scenario; retried unless stopping
                if self._stop.is_set():
                    return
                self.error = exc
                print(f"watch {self.path}: {exc!r}; re-connecting", file=sys.stderr, flush=True)
                time.sleep(0.5)  # back-off before re-connecting
            finally:
                if self._resp is not None:
                    self._resp.response.release_conn()
                    self._resp = None


# -- the API server's own counters ---------------------------------------------------------------------------------

def apiserver_requests(api: ApiClient) -> Counter:
    """apiserver_request_total summed by verb (every client, every resource), from the API server's /metrics."""
    from prometheus_client.parser import text_string_to_metric_families
    _, url, headers, _, _ = api.param_serialize(method="GET", resource_path="/metrics",
                                                 header_params={"Accept": "text/plain"}, auth_settings=["BearerToken"])
    resp = api.call_api("GET", url, headers, _request_timeout=(10, 60))
    counts: Counter = Counter()
    for family in text_string_to_metric_families(resp.read().decode()):
        for sample in family.samples:
            if sample.name == "apiserver_request_total":
                counts[sample.labels.get("verb", "?").lower()] += int(sample.value)
    return counts
