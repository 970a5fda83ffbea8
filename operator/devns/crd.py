"""Generate the CustomResourceDefinitions (DevNamespace, DevNamespaceClass) from the pydantic models
(``python -m devns.crd``).

pydantic's JSON Schema is turned into a Kubernetes *structural* schema: references inlined, titles and
``additionalProperties: false`` (and ``true`` next to ``x-kubernetes-preserve-unknown-fields``) dropped,
``Optional[X]`` reduced to ``X``, a one-value ``Literal`` (``const``) made an ``enum``, null and empty defaults
removed.
A unit test fails when ``crds/`` and this output disagree, so the models stay the single source of truth.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from .class_models import DevNamespaceClassSpec, DevNamespaceClassStatus
from .contract import (ANN_DEFAULT_CLASS, ANN_REQUESTER, CLASS_KIND, CLASS_PLURAL, CLASS_SHORT_NAMES, CLASS_SINGULAR,
                       GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION)
from .models import DevNamespaceSpec, DevNamespaceStatus

CRD_FILE = f"{PLURAL}.{GROUP}.yaml"
CLASS_CRD_FILE = f"{CLASS_PLURAL}.{GROUP}.yaml"

PRINTER_COLUMNS = [
    {"name": "Namespace", "type": "string", "jsonPath": ".status.namespace"},
    {"name": "Owner", "type": "string", "jsonPath": ".spec.owners[0].name"},
    {"name": "Team", "type": "string", "jsonPath": ".spec.team"},
    {"name": "Class", "type": "string", "jsonPath": ".status.class"},
    # -o wide: who created it, as the API server recorded it (manifests/base/requester-policy.yaml)
    {"name": "Requester", "type": "string", "priority": 1,
     "jsonPath": ".metadata.annotations." + ANN_REQUESTER.replace(".", "\\.")},  # dots in a key are escaped
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Expires", "type": "string", "jsonPath": ".status.expiresAt"},
    # -o wide: which deadline that is (ttl, or inactivity: spec.idle)
    {"name": "Because", "type": "string", "priority": 1, "jsonPath": ".status.expiresBecause"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]

CLASS_PRINTER_COLUMNS = [
    {"name": "Default", "type": "string",
     "jsonPath": ".metadata.annotations." + ANN_DEFAULT_CLASS.replace(".", "\\.")},
    {"name": "DevNamespaces", "type": "integer", "jsonPath": ".status.devNamespaces"},
    {"name": "Ready", "type": "integer", "jsonPath": ".status.ready"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]

ROOT_RULES = [
    {"rule": "self.metadata.name.size() <= 63",
     "message": "metadata.name must be at most 63 characters (it is used as a label value)"},
    {"rule": "has(self.spec.__namespace__) || self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
     "message": "metadata.name must be a DNS-1123 label (lowercase letters, digits, '-') unless spec.namespace "
                "is set"},
]


def _structural(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_structural(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _structural(merged, defs)
    any_of = node.get("anyOf")
    if any_of and any(a.get("type") == "null" for a in any_of):  # Optional[X] -> X
        rest = [a for a in any_of if a.get("type") != "null"]
        base = {k: v for k, v in node.items() if k != "anyOf"}
        node = {**rest[0], **base} if len(rest) == 1 else {**base, "anyOf": rest}
        return _structural(node, defs)
    if "patternProperties" in node:  # not structural: a value schema plus a CEL rule on the keys
        ((pattern, value_schema),) = node["patternProperties"].items()
        node = {k: v for k, v in node.items() if k != "patternProperties"}
        node["additionalProperties"] = value_schema
        node["x-kubernetes-validations"] = [*node.get("x-kubernetes-validations", []), {
            "rule": f"self.all(k, k.matches('{pattern}'))",
            "message": "keys must be Kubernetes resource names such as requests.cpu, limits.memory or pods"}]
    if "const" in node:  # a one-value Literal: structural schemas know enum, not const
        node = {**{k: v for k, v in node.items() if k != "const"}, "enum": [node["const"]]}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "$defs", "propertyNames"):
            continue
        if key == "additionalProperties" and (value is False or (value is True and
                                                                  node.get("x-kubernetes-preserve-unknown-fields"))):
            continue  # closed objects are the default; open ones say so with preserve-unknown-fields
        if key == "default" and value in (None, {}, []):
            continue
        if key == "properties":
            out[key] = {name: _structural(schema, defs) for name, schema in value.items()}
        else:
            out[key] = _structural(value, defs)
    if out.get("format") == "date-time":
        out["type"] = "string"
    return out


def model_schema(model: type) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return _structural(raw, raw.get("$defs", {}))


def _crd(kind: str, plural: str, singular: str, short_names: list[str], description: str, spec: type,
         status: type, columns: list[dict[str, Any]], rules: list[dict[str, str]] | None = None,
         required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": model_schema(spec),
            "status": model_schema(status),
        },
    }
    if required:
        schema["required"] = list(required)
    if rules:
        schema["x-kubernetes-validations"] = rules
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}", "labels": {"app.kubernetes.io/name": "devns"}},
        "spec": {
            "group": GROUP,
            "scope": "Cluster",
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": singular,
                      "shortNames": short_names, "categories": ["devns"]},
            "versions": [{
                "name": VERSION, "served": True, "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": schema},
            }],
        },
    }


def build_crd() -> dict[str, Any]:
    """The DevNamespace CRD."""
    return _crd(KIND, PLURAL, SINGULAR, SHORT_NAMES,
                "A developer namespace with its owners, guardrails (RBAC, quota, limits, network policy, Pod "
                "Security) and lifetime, managed by the devns operator.",
                DevNamespaceSpec, DevNamespaceStatus, PRINTER_COLUMNS, ROOT_RULES, required=("spec",))


def build_class_crd() -> dict[str, Any]:
    """The DevNamespaceClass CRD."""
    return _crd(CLASS_KIND, CLASS_PLURAL, CLASS_SINGULAR, CLASS_SHORT_NAMES,
                "A tier of DevNamespaces a platform team defines: defaults, maxima, allow-lists and expiry "
                f"warnings. Annotate one class {ANN_DEFAULT_CLASS}: \"true\" to make it the class of every "
                "DevNamespace that names none.",
                DevNamespaceClassSpec, DevNamespaceClassStatus, CLASS_PRINTER_COLUMNS)


#: file name in crds/ -> (builder, the models it comes from)
FILES = {CRD_FILE: (build_crd, "operator/devns/models.py"),
         CLASS_CRD_FILE: (build_class_crd, "operator/devns/class_models.py")}


def render_yaml(file: str = CRD_FILE) -> str:
    build, source = FILES[file]
    header = f"# Generated by `make crds` from {source}. Do not edit by hand.\n"
    return header + yaml.safe_dump(build(), sort_keys=False, width=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, metavar="DIR", help=f"write {', '.join(FILES)} into DIR instead of "
                                                                   "printing them")
    args = parser.parse_args(argv)
    for file in FILES:
        text = render_yaml(file)
        if args.write:
            args.write.mkdir(parents=True, exist_ok=True)
            (args.write / file).write_text(text)
        else:
            sys.stdout.write(("---\n" if file != CRD_FILE else "") + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
