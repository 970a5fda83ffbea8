"""devns.crd: the committed CRD is the generated one, and it is a structural schema."""

from pathlib import Path

import pytest
import yaml

from devns import crd

CRD_PATH = Path(__file__).resolve().parents[2] / "crds" / crd.CRD_FILE


@pytest.fixture(scope="module")
def built():
    return crd.build_crd()


@pytest.fixture(scope="module")
def version(built):
    (v,) = built["spec"]["versions"]
    return v


@pytest.fixture(scope="module")
def schema(version):
    return version["schema"]["openAPIV3Schema"]


def walk(node, path="$"):
    """Every (path, dict) in a schema tree."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")


def schemas(node, path="$"):
    """Every schema node (not property-name maps or validation rules)."""
    yield path, node
    for name, sub in (node.get("properties") or {}).items():
        yield from schemas(sub, f"{path}.properties.{name}")
    if isinstance(node.get("items"), dict):
        yield from schemas(node["items"], f"{path}.items")
    if isinstance(node.get("additionalProperties"), dict):
        yield from schemas(node["additionalProperties"], f"{path}.additionalProperties")
    for i, sub in enumerate(node.get("anyOf") or []):
        yield from schemas(sub, f"{path}.anyOf[{i}]")


def test_committed_crd_is_regenerated():
    assert CRD_PATH.read_text() == crd.render_yaml(), "crds/ is stale: run `make crds`"


def test_rendered_yaml_parses_to_build_crd(built):
    assert yaml.safe_load(crd.render_yaml()) == built


def test_main_writes_the_file(tmp_path):
    assert crd.main(["--write", str(tmp_path)]) == 0
    assert (tmp_path / crd.CRD_FILE).read_text() == crd.render_yaml()


@pytest.mark.parametrize("key", ["$ref", "$defs", "title", "patternProperties", "propertyNames"])
def test_schema_has_no_non_structural_keys(schema, key):
    found = [path for path, node in schemas(schema) if key in node]
    assert found == []


def test_no_additional_properties_false(schema):
    assert [p for p, node in walk(schema) if node.get("additionalProperties") is False] == []


def test_no_nullable_any_of(schema):
    bad = [p for p, node in schemas(schema)
           if any(isinstance(a, dict) and a.get("type") == "null" for a in node.get("anyOf") or [])]
    assert bad == []
    assert [p for p, node in schemas(schema) if node.get("type") == "null"] == []


def test_any_of_only_for_int_or_string(schema):
    for path, node in schemas(schema):
        if "anyOf" in node:
            assert node.get("x-kubernetes-int-or-string") is True, path
            assert node["anyOf"] == [{"type": "integer"}, {"type": "string"}], path


def test_every_schema_has_a_type(schema):
    untyped = [p for p, node in schemas(schema)
               if "type" not in node and not node.get("x-kubernetes-int-or-string") and ".anyOf[" not in p]
    assert untyped == []


def test_no_null_or_empty_defaults(schema):
    assert [p for p, node in schemas(schema) if "default" in node and node["default"] in (None, {}, [])] == []


def test_date_time_fields_are_strings(schema):
    for path, node in schemas(schema):
        if node.get("format") == "date-time":
            assert node["type"] == "string", path


def test_spec_and_status_schemas(schema):
    assert schema["required"] == ["spec"]
    spec = schema["properties"]["spec"]
    assert spec["required"] == ["owners"]
    assert {"clusterView", "podSecurity", "expiresAt", "quota", "limits", "network"} <= spec["properties"].keys()
    assert {"allowDNS", "allowSameNamespace", "allowFromNamespaces"} <= spec["properties"]["network"]["properties"].keys()
    assert "defaultRequest" in spec["properties"]["limits"]["properties"]
    status = schema["properties"]["status"]
    assert {"phase", "namespace", "expiresAt", "conditions", "warningsSent"} <= status["properties"].keys()


def test_cel_rules_present(schema):
    spec = schema["properties"]["spec"]
    messages = {r["message"] for r in spec["x-kubernetes-validations"]}
    assert messages == {"spec.namespace is immutable", "set either ttl or expiresAt, not both"}
    owner_rules = spec["properties"]["owners"]["items"]["x-kubernetes-validations"]
    assert all("__namespace__" in r["rule"] for r in owner_rules)
    assert "x-kubernetes-validations" in spec["properties"]["labels"]
    assert "x-kubernetes-validations" in spec["properties"]["quota"]


def test_printer_columns(version):
    assert [c["name"] for c in version["additionalPrinterColumns"]] == [
        "Namespace", "Owner", "Team", "Phase", "Expires", "Age"]
    age = version["additionalPrinterColumns"][-1]
    assert age == {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def test_scope_names_and_subresources(built, version):
    spec = built["spec"]
    assert built["metadata"]["name"] == "devnamespaces.devns.io"
    assert spec["group"] == "devns.io"
    assert spec["scope"] == "Cluster"
    assert spec["names"]["kind"] == "DevNamespace"
    assert spec["names"]["plural"] == "devnamespaces"
    assert spec["names"]["shortNames"] == ["devns"]
    assert version["name"] == "v1alpha1"
    assert version["served"] is True and version["storage"] is True
    assert version["subresources"] == {"status": {}}
