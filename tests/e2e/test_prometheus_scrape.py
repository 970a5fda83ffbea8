"""A real Prometheus (Debian's package, as `make tools` installs it) scrapes the running operator and loads devns's
alert rules: every metric the alerts and the dashboard read is exposed with the labels they use, the rules load and
evaluate without error, and the dashboard's queries run."""

from __future__ import annotations

import json
import math
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from localk8s.cluster import free_port
from support import unique
from testkit import monitoring
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")

#: Metrics that must have series once a DevNamespace was provisioned (the others may have none yet: a labelled
#: counter without an increment, e.g. drift repairs, is only declared; for those the scrape's metadata is checked).
PROVISIONED = ("up", "devns_devnamespaces", "devns_reconciles_total", "devns_reconcile_duration_seconds_bucket",
               "devns_objects_applied_total", "devns_event_loop_lag_seconds", "devns_expiry_overdue_devnamespaces",
               "process_cpu_seconds_total", "process_resident_memory_bytes")


class Prometheus:
    """``prometheus`` on a free loopback port with its own storage, scraping the operator every second and
    evaluating devns's rules every second."""

    def __init__(self, workdir: Path, target: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "prometheus.log"
        monitoring.write_rules(workdir / "devns.rules.yaml")
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "rule_files": ["devns.rules.yaml"],
                  "scrape_configs": [{"job_name": monitoring.JOB, "static_configs": [{"targets": [target]}]}]}
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [monitoring.tool("prometheus"), f"--config.file={workdir / 'prometheus.yml'}",
                 f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}"],
                cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def get(self, path: str, **params: str) -> dict:
        """The ``data`` of a successful API answer; RuntimeError (not tolerated by wait_for) once Prometheus died."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=5) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return body["data"]

    def ready(self) -> bool:
        try:
            self.get("/api/v1/status/buildinfo")
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def value(self, query: str) -> float | None:
        """The value of an instant query with one result, or None while it has none."""
        result = self.get("/api/v1/query", query=query)["result"]
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def prometheus(operator, tmp_path_factory):
    prom = Prometheus(tmp_path_factory.mktemp("prometheus"), f"127.0.0.1:{operator.metrics_port}")
    try:
        wait_for(prom.ready, timeout=60, what="prometheus ready")
        yield prom
    finally:
        prom.stop()


@pytest.fixture(scope="module")
def scraped(prometheus, dns, operator):
    """A DevNamespace provisioned, and Prometheus has scraped the operator since then."""
    name = unique("scraped")
    dns.create(name, ttl="1h")
    dns.wait_phase(name, "Ready")
    created = wait_for(lambda: operator.metric("devns_reconciles_total", {"result": "created"}),
                       what="the create counted")
    wait_for(lambda: (prometheus.value(f'devns_reconciles_total{{job="{monitoring.JOB}", result="created"}}')
                      or 0) >= created, timeout=30, what="prometheus scraped the created DevNamespace")
    yield name
    dns.delete(name)


def referenced() -> dict[str, str]:
    """``{where: PromQL}`` of every alert and every dashboard query."""
    return {**{f"alert {r['alert']}": r["expr"] for r in monitoring.alert_rules()},
            **monitoring.dashboard_exprs(monitoring.dashboard())}


def family_of(name: str, families: set[str]) -> str | None:
    """The metadata family of sample name ``name`` (OpenMetrics names a counter without ``_total``)."""
    for suffix in ("", "_total", "_bucket", "_count", "_sum"):
        if name.removesuffix(suffix) in families:
            return name.removesuffix(suffix)
    return None


def test_every_metric_the_alerts_and_dashboard_read_is_scraped_with_its_labels(prometheus, scraped):
    metadata = prometheus.get("/api/v1/targets/metadata", match_target=f'{{job="{monitoring.JOB}"}}')
    families = {m["metric"] for m in metadata}
    declared = monitoring.exported_metrics()
    exprs = referenced()
    names = set().union(*(monitoring.references(e).metrics for e in exprs.values()))
    labels: dict[str, frozenset[str]] = {}
    for name in sorted(names):
        series = prometheus.get("/api/v1/series", **{"match[]": f'{{__name__="{name}", job="{monitoring.JOB}"}}'})
        if series:
            labels[name] = frozenset(k for s in series for k in s) - {"__name__"}
        else:  # declared, never observed yet: the family is in the scrape, its labels are the definition's
            assert name not in PROVISIONED, f"{name} has no series after a DevNamespace was provisioned"
            assert name != "up" and family_of(name, families), f"{name} is not exposed by the operator"
            labels[name] = declared[name] | {"job", "instance"}
    assert set(PROVISIONED) <= names, "the alerts and dashboard read what provisioning exports"
    assert monitoring.unknown_references(exprs, labels) == []


def test_the_rules_load_and_evaluate_without_errors(prometheus, scraped):
    alerts = {r["alert"] for r in monitoring.alert_rules()}

    def evaluated() -> list[dict]:
        rules = [r for g in prometheus.get("/api/v1/rules")["groups"] for r in g["rules"]]
        assert {r["name"] for r in rules} == alerts
        assert all(r["health"] == "ok" for r in rules), [(r["name"], r["health"], r.get("lastError")) for r in rules]
        return rules

    rules = wait_for(evaluated, timeout=30, what="every rule evaluated")
    assert not any(r.get("lastError") for r in rules)

    def quiet() -> bool:  # (before the first scrape DevnsOperatorDown is pending: the operator was not seen yet)
        states = {r["name"]: r["state"] for r in evaluated()}
        return states["DevnsOperatorDown"] == states["DevnsEventLoopStalled"] == "inactive"

    wait_for(quiet, timeout=30, what="the operator is scraped: DevnsOperatorDown and DevnsEventLoopStalled inactive")


def test_the_operator_reports_a_running_event_loop(prometheus, scraped):
    lag = prometheus.value(f'devns_event_loop_lag_seconds{{job="{monitoring.JOB}"}}')
    assert lag is not None and math.isfinite(lag) and lag < 10, f"event loop lag {lag}: the heartbeat is not running"
    overdue = prometheus.value(f'devns_expiry_overdue_devnamespaces{{job="{monitoring.JOB}"}}')
    assert overdue is not None and overdue >= 0


def test_every_dashboard_query_runs(prometheus, scraped):
    for where, expr in monitoring.dashboard_exprs(monitoring.dashboard()).items():
        data = prometheus.get("/api/v1/query", query=expr)
        assert data["resultType"] in ("vector", "scalar"), where
