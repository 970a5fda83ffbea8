"""The alerts of manifests/optional/monitoring/prometheusrule.yaml: promtool reads them as a plain rules file and
`promtool test rules` (tests/unit/alerts.promtool.yaml) proves every alert fires on its symptom once its `for:`
has passed and stays quiet on healthy series; each alert is documented (summary, what to do, a runbook entry in
the README) and reads only metrics the operator exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from testkit import monitoring

HERE = Path(__file__).resolve().parent
PROMTOOL_TESTS = HERE / "alerts.promtool.yaml"
README = monitoring.ROOT / "README.md"
RUNBOOKS = "https://github.com/devns/devns/blob/main/README.md#"
SEVERITIES = ("critical", "warning")  # critical pages: devns cannot do its job until a human acts

ALERTS = monitoring.alert_rules()


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([monitoring.tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def minutes(duration: str) -> float:
    match = re.fullmatch(r"(\d+)([smh])", duration)
    assert match, f"unexpected duration {duration!r}"
    return int(match.group(1)) * {"s": 1 / 60, "m": 1, "h": 60}[match.group(2)]


def readme_anchors() -> set[str]:
    """The anchors GitHub gives the README's headings (lower case, punctuation dropped, spaces as hyphens)."""
    headings = re.findall(r"^#+ (.+)$", README.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_promtool_checks_the_rules_file_extracted_from_the_prometheusrule(tmp_path):
    rules = monitoring.write_rules(tmp_path / "devns.rules.yaml")
    result = promtool("check", "rules", str(rules), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in result.stdout


def test_promtool_unit_tests_of_every_alert_pass(tmp_path):
    """The rules as in the PrometheusRule, with only their summary (rendered with the series' values in the
    expectations: the descriptions are long prose, checked below)."""
    groups = monitoring.rule_groups()
    for rule in (r for g in groups["groups"] for r in g["rules"]):
        rule["annotations"] = {"summary": rule["annotations"]["summary"]}
    (tmp_path / "devns.rules.yaml").write_text(yaml.safe_dump(groups, sort_keys=False))
    shutil.copy(PROMTOOL_TESTS, tmp_path)
    result = promtool("test", "rules", PROMTOOL_TESTS.name, cwd=tmp_path)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_every_alert_has_a_case_that_fires_it_and_one_that_must_not():
    cases = [case for test in yaml.safe_load(PROMTOOL_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    for rule in ALERTS:
        mine = [case for case in cases if case["alertname"] == rule["alert"]]
        assert any(case["exp_alerts"] for case in mine), f"{rule['alert']}: no case where it fires"
        assert any(not case["exp_alerts"] for case in mine), f"{rule['alert']}: no case where it stays quiet"
    assert {case["alertname"] for case in cases} == {rule["alert"] for rule in ALERTS}, "a case of an unknown alert"


@pytest.mark.parametrize("rule", ALERTS, ids=lambda r: r["alert"])
def test_every_alert_says_what_to_do_and_where_its_runbook_is(rule):
    annotations, labels = rule["annotations"], rule["labels"]
    assert annotations["summary"].strip() and len(annotations["description"].split()) >= 20
    assert annotations["runbook_url"] == RUNBOOKS + rule["alert"].lower()
    assert rule["alert"].lower() in readme_anchors(), f"README has no section {rule['alert']}"
    assert labels["severity"] in SEVERITIES and labels["owner"]
    assert minutes(rule["for"]) >= 5, "thresholds hold for at least 5 minutes"


def test_alerts_read_only_metrics_the_operator_exports():
    exprs = {rule["alert"]: rule["expr"] for rule in ALERTS}
    assert monitoring.unknown_references(exprs, monitoring.exported_metrics()) == []


def test_the_check_of_references_finds_what_is_not_exported():
    """The check above can fail: an unknown metric, label or grouping label is reported."""
    exported = monitoring.exported_metrics()
    assert monitoring.unknown_references({"x": 'sum by (phase) (devns_devnamespaces{phase="Ready"})'}, exported) == []
    assert monitoring.unknown_references({"x": "rate(devns_reconcile_seconds_total[5m]) > 0"}, exported) == [
        "x: metric devns_reconcile_seconds_total is not exported"]
    assert monitoring.unknown_references({"x": 'devns_drift_repairs_total{phase="Ready"}'}, exported) == [
        "x: devns_drift_repairs_total has no label phase"]
    assert monitoring.unknown_references({"x": "sum by (kind) (devns_devnamespaces)"}, exported) == [
        "x: no metric it reads has the label kind"]
