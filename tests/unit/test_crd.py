"""devns.crd: the committed CRD is the generated one, and it is a structural schema."""

from pathlib import Path

import pytest
import yaml

from devns import apirules
from devns import crd, models
from devns.units import QUANTITY_PATTERN

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


@pytest.mark.parametrize("file", list(crd.FILES))
def test_committed_crds_are_regenerated(file):
    assert (CRD_PATH.parent / file).read_text() == crd.render_yaml(file), "crds/ is stale: run `make crds`"


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
    network = spec["properties"]["network"]["properties"]
    assert {"allowDNS", "allowSameNamespace", "allowFromNamespaces"} <= network.keys()
    assert "defaultRequest" in spec["properties"]["limits"]["properties"]
    status = schema["properties"]["status"]
    assert {"phase", "namespace", "expiresAt", "conditions", "warningsSent"} <= status["properties"].keys()


def test_cel_rules_present(schema):
    spec = schema["properties"]["spec"]
    messages = {r["message"] for r in spec["x-kubernetes-validations"]}
    assert messages == {"spec.namespace is immutable", "set either ttl or expiresAt, not both"}
    owner_rules = spec["properties"]["owners"]["items"]["x-kubernetes-validations"]
    assert [r for r in owner_rules if "__namespace__" in r["rule"]] == owner_rules[:2]
    assert "x-kubernetes-validations" in spec["properties"]["labels"]
    assert "x-kubernetes-validations" in spec["properties"]["quota"]


def messages(node):
    return [r["message"] for r in node.get("x-kubernetes-validations", [])]


def test_owner_rules_refuse_system_names_and_bad_service_account_names(schema):
    owner = schema["properties"]["spec"]["properties"]["owners"]["items"]
    assert apirules.SYSTEM_OWNER in owner["x-kubernetes-validations"]
    assert apirules.SERVICE_ACCOUNT_NAME in owner["x-kubernetes-validations"]
    assert owner["properties"]["name"]["maxLength"] == apirules.MAX_OWNER_NAME


def test_map_rules_are_the_models_rules(schema):
    """Admission and pydantic check the same rules: each map carries the CEL of the rule pydantic applies."""
    spec = schema["properties"]["spec"]["properties"]
    assert messages(spec["labels"])[1:] == [apirules.LABEL_KEYS.validation()["message"],
                                            apirules.LABEL_VALUES["message"]]
    assert messages(spec["annotations"])[1:] == [apirules.ANNOTATION_KEYS.validation()["message"],
                                                 apirules.ANNOTATIONS_SIZE["message"]]
    assert messages(spec["quota"]) == [apirules.QUOTA_KEYS.validation()["message"], apirules.QUOTA_COUNTS["message"]]
    for field in ("default", "defaultRequest", "max", "min"):
        assert messages(spec["limits"]["properties"][field]) == [apirules.CONTAINER_KEYS.validation()["message"]]
    assert messages(spec["limits"]) == [models._NO_OVERCOMMIT["message"]]
    assert spec["annotations"]["additionalProperties"]["maxLength"] == apirules.MAX_ANNOTATION_VALUE
    assert spec["labels"]["additionalProperties"]["maxLength"] == 63


@pytest.mark.parametrize("rule", [apirules.LABEL_KEYS, apirules.ANNOTATION_KEYS, apirules.QUOTA_KEYS,
                                  apirules.CONTAINER_KEYS])
def test_key_rules_use_the_shared_pattern_and_bounds(rule):
    """The CEL rule embeds the very regular expression pydantic matches with (escaped for a CEL string), and the
    bounds a regular expression cannot express (prefix and total length)."""
    cel = rule.validation()["rule"]
    assert apirules._cel(apirules.QUALIFIED_NAME) in cel
    assert f"k.indexOf('/') <= {apirules.MAX_PREFIX}" in cel and f"k.size() <= {apirules.MAX_QUALIFIED_NAME}" in cel


def test_every_rule_has_a_message(schema):
    rules = [r for _, node in walk(schema) for r in node.get("x-kubernetes-validations", [])]
    assert rules and all(r.get("message") for r in rules)


def test_quantities_are_bounded_and_non_negative(schema):
    spec = schema["properties"]["spec"]["properties"]
    nodes = [spec["quota"]["additionalProperties"]] + [
        spec["limits"]["properties"][f]["additionalProperties"] for f in ("default", "defaultRequest", "max", "min")]
    for node in nodes:
        assert node["pattern"] == QUANTITY_PATTERN and node["maxLength"] == apirules.MAX_QUANTITY
        assert node["minimum"] == 0


def test_expires_at_pattern_and_range(schema):
    expires = schema["properties"]["spec"]["properties"]["expiresAt"]
    assert expires["format"] == "date-time" and expires["pattern"] == models.RFC3339
    assert messages(expires) == [models._EXPIRES_AT_RANGE["message"]]


def test_printer_columns(version):
    assert [c["name"] for c in version["additionalPrinterColumns"]] == [
        "Namespace", "Owner", "Team", "Class", "Requester", "Phase", "Expires", "Because", "Age"]
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
