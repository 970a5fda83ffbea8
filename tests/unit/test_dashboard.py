"""The Grafana dashboard of manifests/optional/monitoring: provisioning-ready (its data source a variable), every
panel's PromQL parses (promtool checks it as record rules) and reads only metrics and labels the operator exports,
and it shows what a platform team watches."""

from __future__ import annotations

import re
import subprocess

import yaml

from testkit import monitoring

BOARD = monitoring.dashboard()
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def test_the_dashboard_is_provisioning_ready_with_its_datasource_a_variable():
    assert BOARD["uid"] and BOARD["title"] and "id" not in BOARD and "__inputs" not in BOARD
    [var] = [v for v in BOARD["templating"]["list"] if v["name"] == "datasource"]
    assert var["type"] == "datasource" and var["query"] == "prometheus"
    for panel in monitoring.panels(BOARD):
        if panel["type"] != "row":
            assert panel["datasource"] == DATASOURCE, panel["title"]
            assert panel["targets"] and all(t["datasource"] == DATASOURCE for t in panel["targets"]), panel["title"]
            assert panel["description"], panel["title"]
    for var in BOARD["templating"]["list"]:
        if var["type"] == "query":
            assert var["datasource"] == DATASOURCE, var["name"]


def test_panels_have_unique_ids_and_fit_the_grid():
    ids = [p["id"] for p in monitoring.panels(BOARD)]
    assert len(ids) == len(set(ids))
    for panel in monitoring.panels(BOARD):
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]


def test_every_expression_parses(tmp_path):
    """promtool parses each expression as the expression of a record rule."""
    exprs = monitoring.dashboard_exprs(BOARD)
    rules = [{"record": f"devns:dashboard:expr_{i}", "expr": expr} for i, expr in enumerate(exprs.values())]
    path = tmp_path / "dashboard.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run([monitoring.tool("promtool"), "check", "rules", str(path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_the_check_that_expressions_parse_can_fail(tmp_path):
    path = tmp_path / "bad.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [
        {"record": "x:y", "expr": "sum by (phase (devns_devnamespaces)"}]}]}))
    result = subprocess.run([monitoring.tool("promtool"), "check", "rules", str(path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0


def test_panels_read_only_metrics_and_labels_the_operator_exports():
    assert monitoring.unknown_references(monitoring.dashboard_exprs(BOARD), monitoring.exported_metrics()) == []


def test_the_dashboard_shows_what_a_platform_team_watches():
    titles = " | ".join(p["title"] for p in monitoring.panels(BOARD))
    read = set().union(*(monitoring.references(e).metrics for e in monitoring.dashboard_exprs(BOARD).values()))
    for metric in ("devns_devnamespaces", "devns_reconcile_duration_seconds_bucket", "devns_reconciles_total",
                   "devns_objects_applied_total", "devns_expiry_deletions_total", "devns_orphan_deletions_total",
                   "devns_drift_repairs_total", "process_cpu_seconds_total", "process_resident_memory_bytes"):
        assert metric in read, metric
    for title in ("DevNamespaces by phase", "Reconcile duration", "Provisioning", "Expiry and orphan deletions",
                  "Drift repairs", "API errors", "CPU", "Memory"):
        assert title in titles, title
    api_errors = [t["expr"] for p in monitoring.panels(BOARD) if p["title"].startswith("API errors")
                  for t in p["targets"]]
    assert any(re.search(r'result=~"[^"]*retry', e) for e in api_errors)


def test_the_kustomization_ships_the_dashboard_for_grafanas_sidecar():
    kustomization = yaml.safe_load((monitoring.MONITORING / "kustomization.yaml").read_text())
    [generator] = kustomization["configMapGenerator"]
    assert generator["files"] == [monitoring.DASHBOARD.name]
    assert generator["options"]["labels"]["grafana_dashboard"] == "1"
    assert generator["options"]["disableNameSuffixHash"] is True  # a stable name to refer to


def test_references_reads_selectors_and_grouping_labels_from_promql():
    refs = monitoring.references('sum(rate(a_total{x="1", y=~"}{"}[5m] offset 1h30m)) by (z) / on(w) group_left '
                                 '(v) max without (u) (b) > bool 0.5e1 and topk(3, c{t!=""})')
    assert refs.selectors == (("a_total", frozenset({"x", "y"})), ("b", frozenset()), ("c", frozenset({"t"})))
    assert refs.grouping == {"z", "w", "v", "u"}
