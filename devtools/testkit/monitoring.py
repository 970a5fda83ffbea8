"""The monitoring devns ships (manifests/optional/monitoring), as its tests read it: the alert rules as a plain
Prometheus rules file, the dashboard's PromQL, the metric names and labels an expression references, the metrics
the operator exports, and the Prometheus tools (promtool, prometheus) from Debian's package (`make tools`).

One source of truth: the rules live only in the PrometheusRule; ``write_rules`` writes its ``spec.groups`` as the
rules file promtool and Prometheus read.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

#: The repository root, three levels above devtools/testkit/monitoring.py (testkit is installed editable).
ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "manifests" / "optional" / "monitoring"
PROMETHEUS_RULE = MONITORING / "prometheusrule.yaml"
DASHBOARD = MONITORING / "devns-dashboard.json"

#: The scrape job of the operator: the metrics Service's name, the job label a ServiceMonitor gives its targets.
JOB = "devns-operator-metrics"

#: Labels Prometheus adds to every series of a target (a ServiceMonitor's, a plain scrape config's).
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod", "service", "endpoint", "container"})

#: Grafana's variables in the dashboard's expressions, and what stands for them in plain PromQL.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$job": ".*", "$instance": ".*"}


# -- the rules and the dashboard ------------------------------------------------------------------------------------

def rule_groups() -> dict:
    """The PrometheusRule's ``spec``: ``{"groups": [...]}``, a plain Prometheus rules file."""
    return yaml.safe_load(PROMETHEUS_RULE.read_text())["spec"]


def alert_rules() -> list[dict]:
    return [rule for group in rule_groups()["groups"] for rule in group["rules"] if "alert" in rule]


def write_rules(path: Path) -> Path:
    """Write the rules file promtool and Prometheus read (``rule_files``) to ``path``."""
    path.write_text(yaml.safe_dump(rule_groups(), sort_keys=False))
    return path


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels(board: dict) -> list[dict]:
    """Every panel, those inside rows too."""
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def promql(expr: str) -> str:
    """A dashboard expression as plain PromQL: Grafana's variables replaced by values they can take."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"an unknown Grafana variable in {expr!r}"
    return expr


def dashboard_exprs(board: dict) -> dict[str, str]:
    """``{where: PromQL}`` for every panel target and the selector of every query variable (``label_values(SEL,
    label)``), as plain PromQL."""
    exprs = {f"panel {p['id']} ({p['title']}) {t['refId']}": promql(t["expr"])
             for p in panels(board) for t in p.get("targets", [])}
    for var in board["templating"]["list"]:
        if var["type"] == "query":
            match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", var["definition"])
            assert match, f"variable {var['name']}: only label_values(SELECTOR, LABEL) is supported"
            exprs[f"variable {var['name']}"] = promql(match.group(1))
    return exprs


# -- what an expression references ---------------------------------------------------------------------------------

AGGREGATIONS = frozenset({"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                          "bottomk", "topk", "quantile", "limitk", "limit_ratio"})
KEYWORDS = AGGREGATIONS | {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
TOKENS = re.compile(r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
                      |(?P<range>\[[^\]]*\])
                      |(?P<duration>(?:\d+(?:ms|[smhdwy]))+)
                      |(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
                      |(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
                      |(?P<punct>[{}(),=!~<>+\-*/%^@]+)
                      |(?P<space>\s+)""", re.VERBOSE)


@dataclass(frozen=True)
class References:
    """What one PromQL expression reads: ``selectors`` (metric name, the label names its matchers use) and the
    label names of its ``by``/``without``/``on``/``ignoring``/``group_*`` clauses."""

    selectors: tuple[tuple[str, frozenset[str]], ...]
    grouping: frozenset[str]

    @property
    def metrics(self) -> set[str]:
        return {name for name, _ in self.selectors}


def references(expr: str) -> References:
    """The metric names and label names ``expr`` references (a small tokenizer: enough for selectors, functions,
    aggregations and vector matching; promtool checks that the expression parses)."""
    tokens = []
    pos = 0
    while pos < len(expr):
        match = TOKENS.match(expr, pos)
        assert match, f"cannot read {expr[pos:]!r} in {expr!r}"
        pos = match.end()
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
    selectors, grouping = [], set()
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind == "name" and text in GROUPING and following.startswith("("):
            i, labels = _names_until(tokens, i + 2, ")")
            grouping |= labels
            continue
        if kind == "name" and text not in KEYWORDS and not following.startswith("("):
            labels: set[str] = set()
            if following.startswith("{"):  # the label names of its matchers (a name stands before an operator)
                i, labels = _names_until(tokens, i + 2, "}")
                i -= 1  # on the closing brace: the loop steps past it
            selectors.append((text, frozenset(labels)))
        elif kind == "punct" and text.endswith("{"):
            raise AssertionError(f"a selector without a metric name in {expr!r}")
        i += 1
    return References(tuple(selectors), frozenset(grouping))


def _names_until(tokens: list[tuple[str, str]], i: int, end: str) -> tuple[int, set[str]]:
    """The names from ``tokens[i]`` up to the token that starts with ``end``, and the index after that token."""
    names = set()
    while not tokens[i][1].startswith(end):
        if tokens[i][0] == "name":
            names.add(tokens[i][1])
        i += 1
    return i + 1, names


# -- what the operator exports ---------------------------------------------------------------------------------------

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "summary": ("_count", "_sum", ""),
            "info": ("_info",)}


def exported_metrics() -> dict[str, frozenset[str]]:
    """``{sample name: label names}`` of every series the operator process exports: devns's metrics as
    ``devns.metrics`` declares them (label names from the definitions: a labelled counter has no series before
    its first increment) and the client library's own process and python metrics, plus Prometheus's ``up``."""
    from prometheus_client import REGISTRY
    from prometheus_client.metrics import MetricWrapperBase

    from devns import metrics

    declared = {m.describe()[0].name: set(m._labelnames)  # noqa: SLF001 (the definition, not a series)
                for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)}
    found: dict[str, frozenset[str]] = {"up": frozenset()}
    families = list(REGISTRY.collect())
    assert set(declared) <= {family.name for family in families}, "a devns metric is not registered"
    for family in families:
        for suffix in SUFFIXES.get(family.type, ("",)):
            name = family.name + suffix
            found[name] = frozenset(declared.get(family.name, set()) | ({"le"} if suffix == "_bucket" else set())
                                    | {k for s in family.samples if s.name == name for k in s.labels})
    return found


def unknown_references(exprs: dict[str, str], exported: dict[str, frozenset[str]]) -> list[str]:
    """What ``exprs`` (``{where: PromQL}``) reference that ``exported`` lacks: metric names, and label names
    neither the metric nor the scrape target has; an empty list when all is known."""
    problems = []
    for where, expr in exprs.items():
        refs = references(expr)
        known = set(TARGET_LABELS)
        for name, labels in refs.selectors:
            if name not in exported:
                problems.append(f"{where}: metric {name} is not exported")
                continue
            known |= exported[name]
            problems += [f"{where}: {name} has no label {label}"
                         for label in sorted(labels - exported[name] - TARGET_LABELS)]
        problems += [f"{where}: no metric it reads has the label {label}" for label in sorted(refs.grouping - known)]
    return problems


# -- the tools -------------------------------------------------------------------------------------------------------

def tool(name: str) -> str:
    """The path of ``promtool`` or ``prometheus``; a clear failure when it is missing."""
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} is not installed: run `make tools` (Debian's package prometheus)")
    return path
