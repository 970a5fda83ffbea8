"""What a platform team installs: the Dockerfile and the kustomize manifests, checked as files (no cluster, no
Docker). Rendering and applying them on the real control plane is in tests/e2e/test_manifests.py."""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from devns.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


# -- Dockerfile -------------------------------------------------------------------------------------------------

def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; comments dropped, line continuations joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def stages(path: Path) -> list[list[tuple[str, str]]]:
    """The instructions of each stage, each list starting with its FROM."""
    result: list[list[tuple[str, str]]] = []
    for keyword, args in instructions(path):
        if keyword == "FROM":
            result.append([(keyword, args)])
        elif result:
            result[-1].append((keyword, args))
        else:
            assert keyword == "ARG", f"{keyword} before the first FROM"
    return result


DOCKERFILE = ROOT / "Dockerfile"


def copy_sources(args: str) -> tuple[list[str], bool]:
    """Sources of a COPY instruction and whether they come from another stage or image (--from)."""
    if args.startswith("["):
        parts = json.loads(args)
    else:
        parts = shlex.split(args)
    flags = [p for p in parts if p.startswith("--")]
    paths = [p for p in parts if not p.startswith("--")]
    return paths[:-1], any(f.startswith("--from=") for f in flags)


def build_args(path: Path) -> dict[str, str]:
    """The ARGs declared before the first FROM with their defaults, each resolved against the earlier ones."""
    defaults: dict[str, str] = {}
    for keyword, args in instructions(path):
        if keyword == "FROM":
            break
        name, _, value = args.partition("=")
        defaults[name] = re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m.group(1), ""), value)
    return defaults


def test_dockerfile_is_multi_stage_from_python_slim_by_default():
    """Both stages' bases are build arguments (make image passes bases made from Debian packages where no
    registry is reachable); their defaults are the public python:3.12-slim."""
    defaults = build_args(DOCKERFILE)
    st = stages(DOCKERFILE)
    assert len(st) >= 2
    bases = [re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], s[0][1].split()[0]) for s in st]
    assert bases == ["python:3.12-slim"] * len(st)
    assert {"BASE", "BUILD_BASE"} <= set(defaults)


def test_final_stage_runs_as_a_numeric_non_root_user():
    final = stages(DOCKERFILE)[-1]
    users = [args for keyword, args in final if keyword == "USER"]
    assert users, "the final stage sets no USER (it would run as root)"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) != 0, f"USER {users[-1]!r}: Kubernetes can only check a numeric uid"
    assert not group or (group.isdigit() and int(group) != 0)


def test_final_stage_copies_only_the_venv_and_installs_nothing():
    final = stages(DOCKERFILE)[-1]
    copies = [copy_sources(args) for keyword, args in final if keyword in ("COPY", "ADD")]
    assert copies == [(["/opt/venv"], True)], "the final stage must copy only /opt/venv from the builder"
    runs = [args for keyword, args in final if keyword == "RUN"]
    assert not runs, "no RUN in the final stage: no compilers, no pip, no caches"
    env = " ".join(args for keyword, args in final if keyword == "ENV")
    for setting in ("PATH=/opt/venv/bin:$PATH", "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"):
        assert setting in env


def test_every_build_context_copy_source_exists_and_is_not_dockerignored():
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    sources = []
    for stage in stages(DOCKERFILE):
        for keyword, args in stage:
            if keyword in ("COPY", "ADD"):
                paths, from_elsewhere = copy_sources(args)
                sources += [] if from_elsewhere else paths
    assert "pyproject.toml" in sources and "README.md" in sources  # pyproject names README.md as its readme
    assert any(s.rstrip("/") == "operator" for s in sources)
    for src in sources:
        assert (ROOT / src).exists(), f"COPY {src}: not in the repository (the image would not build)"
        top = src.rstrip("/").split("/")[0]
        assert top not in ignored, f"COPY {src}: excluded by .dockerignore"
    for must in (".venv", ".cluster", ".git", "tests", "devtools"):
        assert must in ignored


def test_builder_installs_the_project_without_a_pip_cache():
    builder = stages(DOCKERFILE)[0]
    runs = " ".join(args for keyword, args in builder if keyword == "RUN")
    assert "python3 -m venv /opt/venv" in runs
    assert re.search(r"pip install --no-cache-dir --no-deps \.(\s|$)", runs)
    assert "pip uninstall --yes --quiet pip setuptools" in runs, "pip and setuptools must not reach the image"


def test_entrypoint_is_the_declared_console_script():
    final = stages(DOCKERFILE)[-1]
    entry = [args for keyword, args in final if keyword == "ENTRYPOINT"]
    assert entry and json.loads(entry[-1]) == ["devns-operator"], "exec form, so SIGTERM reaches the operator"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    target = project["scripts"]["devns-operator"]
    module, _, func = target.partition(":")
    assert callable(getattr(importlib.import_module(module), func))
    assert project["readme"] == "README.md"


def test_oci_labels():
    labels = " ".join(args for keyword, args in stages(DOCKERFILE)[-1] if keyword == "LABEL")
    for key in ("source", "version", "title", "description", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels


# -- what the operator's distribution holds ----------------------------------------------------------------------

#: Packages that are development tools: the devns-devtools distribution (devtools/), never the operator's wheel.
DEV_PACKAGES = ("localk8s", "testkit")


def pyproject(path: Path = ROOT / "pyproject.toml") -> dict:
    return tomllib.loads(path.read_text())


def top_level_packages(find: dict, root: Path) -> set[str]:
    """The top-level packages setuptools' ``[tool.setuptools.packages.find]`` finds under ``root``, found as it
    finds them (pyproject's default: namespace packages too): every folder directly under each ``where`` whose
    name has no dot, matches an ``include`` pattern and no ``exclude`` pattern (nor setuptools' own excludes)."""
    include = find.get("include", ["*"])
    exclude = [*find.get("exclude", []), "ez_setup", "*__pycache__"]
    found = set()
    for where in find.get("where", ["."]):
        for path in (root / where).iterdir():
            name = path.name
            if path.is_dir() and "." not in name and any(fnmatch.fnmatchcase(name, p) for p in include) \
                    and not any(fnmatch.fnmatchcase(name, p) for p in exclude):
                found.add(name)
    return found


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0].lower().replace("_", "-") for req in requirements}


def test_the_operator_distribution_holds_only_devns():
    """The wheel (and so the image) is the operator: the local control plane and the test support are in
    devtools/, a distribution of their own, and could not be picked up even if they came back under operator/."""
    find = pyproject()["tool"]["setuptools"]["packages"]["find"]
    assert top_level_packages(find, ROOT) == {"devns"}
    for name in DEV_PACKAGES:  # not even a stale operator/localk8s/ (a checkout from before the move) ships
        assert not any(fnmatch.fnmatchcase(name, p) for p in find.get("include", ["*"])), name
    assert pyproject()["project"]["scripts"] == {"devns-operator": "devns.cli:main",
                                                 "kubectl-devns": "devns.plugin.app:main"}
    builder = stages(DOCKERFILE)[0]
    sources = {s.rstrip("/") for keyword, args in builder if keyword in ("COPY", "ADD")
               for s in copy_sources(args)[0]}
    assert sources == {"pyproject.toml", "README.md", "operator"}, "the image is built from the operator only"


def test_cryptography_is_never_an_operator_dependency():
    """cryptography is for localk8s (its PKI) and the plugin's onboarding (the `kubectl` extra): never the
    operator's run time, so never in its image."""
    project = pyproject()["project"]
    assert "cryptography" not in requirement_names(project["dependencies"])
    for extra, requirements in project.get("optional-dependencies", {}).items():
        if extra != "kubectl":
            assert "cryptography" not in requirement_names(requirements), f"cryptography in the {extra} extra"
    assert "cryptography" in requirement_names(project["optional-dependencies"]["kubectl"])
    devtools = pyproject(ROOT / "devtools" / "pyproject.toml")
    assert "cryptography" in requirement_names(devtools["project"]["dependencies"])
    assert top_level_packages(devtools["tool"]["setuptools"]["packages"]["find"], ROOT / "devtools") \
        == set(DEV_PACKAGES)
    assert devtools["project"]["scripts"] == {"localk8s": "localk8s.cli:main"}


# -- manifests --------------------------------------------------------------------------------------------------

def load_objects() -> list[dict]:
    """Every Kubernetes object in a YAML file under manifests/ (kustomizations and patches excluded)."""
    objs = []
    for path in sorted(MANIFESTS.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") not in (None, "Kustomization"):
                doc["_file"] = str(path.relative_to(ROOT))
                objs.append(doc)
    return objs


OBJECTS = load_objects()


def the(kind: str, name: str) -> dict:
    found = [o for o in OBJECTS if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name} under manifests/, found {len(found)}"
    return found[0]


def test_every_kustomization_resource_exists():
    dirs = {p.parent for name in KUSTOMIZATION_FILES for p in [*MANIFESTS.rglob(name), *(ROOT / "crds").glob(name)]}
    assert MANIFESTS / "base" in dirs and ROOT / "crds" in dirs
    for d in dirs:
        path = next(d / n for n in KUSTOMIZATION_FILES if (d / n).exists())
        k = yaml.safe_load(path.read_text())
        for res in k.get("resources", []):
            target = (d / res).resolve()
            assert target.exists(), f"{path}: resource {res} does not exist"
            if target.is_dir():
                assert any((target / n).exists() for n in KUSTOMIZATION_FILES), f"{path}: {res} is no kustomization"
            else:  # kustomize's default load restrictions: files only from inside the kustomization's root
                assert d.resolve() in target.parents, f"{path}: {res} is outside its root"


def test_crds_directory_stays_applyable_with_kubectl_apply_f():
    """`kubectl apply -f crds/` (Makefile, e2e set-up) must not pick up the kustomization: no *.yaml/*.yml/*.json
    in crds/ other than CRDs."""
    for path in (ROOT / "crds").iterdir():
        if path.suffix in (".yaml", ".yml", ".json"):
            assert all(d["kind"] == "CustomResourceDefinition" for d in yaml.safe_load_all(path.read_text()) if d)


def operator_rules() -> list[dict]:
    return the("ClusterRole", "devns-operator")["rules"]


def test_operator_clusterrole_has_no_wildcards_and_no_escalation_verbs():
    for rule in operator_rules():
        for field in ("apiGroups", "resources", "verbs", "resourceNames"):
            assert not any("*" in v for v in rule.get(field, [])), f"wildcard in {field}: {rule}"
        assert "nonResourceURLs" not in rule
        assert not {"escalate", "impersonate", "deletecollection"} & set(rule["verbs"]), rule


def test_operator_clusterrole_grants_no_secrets():
    assert not [r for r in operator_rules() if "secrets" in r["resources"]]


def test_bind_is_limited_to_the_roles_devns_hands_out():
    binds = [r for r in operator_rules() if "bind" in r["verbs"]]
    assert binds and all(r["verbs"] == ["bind"] and r["resources"] == ["clusterroles"] and r.get("resourceNames")
                         for r in binds)
    names = {n for r in binds for n in r["resourceNames"]}
    settings = settings_from_configmap()
    assert set(settings.allowed_roles) | {settings.cluster_view_role} <= names
    held = {(g, res) for r in operator_rules() if "bind" not in r["verbs"] for g in r["apiGroups"]
            for res in r["resources"]}
    assert ("rbac.authorization.k8s.io", "clusterroles") not in held, "the operator must not create/edit roles"


def test_every_rbac_rule_says_why():
    lines = (MANIFESTS / "base" / "rbac.yaml").read_text().splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("  - apiGroups:")]
    assert len(rules) == len(operator_rules()) + len(the("Role", "devns-operator")["rules"])
    for i in rules:
        assert lines[i - 1].strip().startswith("#"), f"rbac.yaml line {i + 1}: rule without a comment above it"


def test_the_gc_key_secret_is_granted_only_in_the_operator_namespace():
    role = the("Role", "devns-operator")
    assert role["metadata"]["namespace"] == "devns-system"
    verbs = {v for r in role["rules"] if r["resources"] == ["secrets"] for v in r["verbs"]}
    assert {"get", "create"} <= verbs
    named = [r for r in role["rules"] if set(r["verbs"]) - {"create"}]
    assert all(r.get("resourceNames") == [settings_from_configmap().gc_key_secret] for r in named)
    rb = the("RoleBinding", "devns-operator")
    assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "devns-operator"}
    crb = the("ClusterRoleBinding", "devns-operator")
    for binding in (rb, crb):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "devns-operator",
                                        "namespace": "devns-system"}]


def deployment() -> dict:
    return the("Deployment", "devns-operator")


def test_deployment_shape():
    d = deployment()
    assert d["metadata"]["namespace"] == "devns-system"
    assert d["spec"]["replicas"] == 1 and d["spec"]["strategy"] == {"type": "Recreate"}
    pod = d["spec"]["template"]["spec"]
    assert d["spec"]["selector"]["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
    assert pod["serviceAccountName"] == "devns-operator"
    (c,) = pod["containers"]
    assert c["image"] == "ghcr.io/devns/devns-operator:0.1.0"
    assert c["args"] == ["--liveness=http://0.0.0.0:8081/healthz", "--log-format=json"]
    assert c["envFrom"] == [{"configMapRef": {"name": "devns-settings"}}]
    assert {"name": "DEVNS_OPERATOR_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}} \
        in c["env"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}
    assert str(ports["metrics"]) == the("ConfigMap", "devns-settings")["data"]["DEVNS_METRICS_PORT"]
    for probe in ("livenessProbe", "readinessProbe"):
        get = c[probe]["httpGet"]
        assert get["path"] == "/healthz" and get["port"] in ("health", 8081)
    assert c["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"},
                              "limits": {"cpu": "500m", "memory": "512Mi"}}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_deployment_security_context():
    pod = deployment()["spec"]["template"]["spec"]
    p = pod["securityContext"]
    assert p["runAsNonRoot"] is True and p["runAsUser"] == 10001
    assert p["seccompProfile"] == {"type": "RuntimeDefault"}
    c = pod["containers"][0]["securityContext"]
    assert c["runAsNonRoot"] is True and c["runAsUser"] == 10001
    assert c["readOnlyRootFilesystem"] is True
    assert c["allowPrivilegeEscalation"] is False
    assert c["capabilities"] == {"drop": ["ALL"]}
    assert c["seccompProfile"] == {"type": "RuntimeDefault"}
    user = [args for keyword, args in stages(DOCKERFILE)[-1] if keyword == "USER"][-1]
    assert user.split(":")[0] == str(c["runAsUser"]), "the image's USER and the pod's runAsUser differ"


def test_metrics_service_selects_the_operator_pods():
    svc = the("Service", "devns-operator-metrics")
    assert svc["metadata"]["namespace"] == "devns-system"
    assert svc["spec"]["selector"].items() <= deployment()["spec"]["template"]["metadata"]["labels"].items()
    assert [(p["name"], p["port"]) for p in svc["spec"]["ports"]] == [("metrics", 8080)]


def expected_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_configmap_has_every_setting_at_its_default():
    data = the("ConfigMap", "devns-settings")["data"]
    defaults = Settings.model_construct().model_dump()  # defaults only, not this process's environment
    assert set(data) == {f"DEVNS_{name.upper()}" for name in Settings.model_fields}
    for name, default in defaults.items():
        value = data[f"DEVNS_{name.upper()}"]
        assert isinstance(value, str), f"DEVNS_{name.upper()}: ConfigMap values must be strings"
        if isinstance(default, (list, dict)):
            assert json.loads(value) == default, name
        else:
            assert value == expected_value(default), name


def settings_from_configmap() -> Settings:
    """Settings exactly as the operator reads them from the ConfigMap's environment (only DEVNS_* from it)."""
    data = the("ConfigMap", "devns-settings")["data"]
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("DEVNS_")]:
            mp.delenv(key)
        for key, value in data.items():
            mp.setenv(key, value)
        return Settings()


def test_configmap_settings_are_valid():
    assert settings_from_configmap() == Settings.model_construct()


def test_every_configmap_key_has_a_comment():
    lines = (MANIFESTS / "base" / "configmap.yaml").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^  DEVNS_[A-Z_]+:", line):
            assert lines[i - 1].strip().startswith("#"), f"no comment above {line.split(':')[0].strip()}"


def test_kopf_peering_crd():
    crd = the("CustomResourceDefinition", "clusterkopfpeerings.kopf.dev")["spec"]
    assert crd["group"] == "kopf.dev" and crd["scope"] == "Cluster"
    assert crd["names"]["kind"] == "ClusterKopfPeering" and crd["names"]["plural"] == "clusterkopfpeerings"
    (v,) = crd["versions"]
    assert v["name"] == "v1" and v["served"] and v["storage"]
    assert v["schema"]["openAPIV3Schema"]["properties"]["status"]["x-kubernetes-preserve-unknown-fields"] is True
    assert the("ClusterKopfPeering", "default")["apiVersion"] == "kopf.dev/v1"


@pytest.mark.parametrize("obj", [o for o in OBJECTS if o["kind"] != "CustomResourceDefinition"],
                         ids=lambda o: f"{o['kind']}/{o['metadata']['name']}")
def test_objects_are_labelled_as_devns(obj):
    assert obj["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "devns", obj["_file"]


# -- admission policies ------------------------------------------------------------------------------------------

def policies() -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in OBJECTS if o["kind"] == "ValidatingAdmissionPolicy"}


def test_every_validating_policy_fails_closed_is_bound_to_deny_and_installed():
    base = yaml.safe_load((MANIFESTS / "base" / "kustomization.yaml").read_text())["resources"]
    for name, policy in policies().items():
        binding = the("ValidatingAdmissionPolicyBinding", name)
        assert binding["spec"]["policyName"] == name and binding["spec"]["validationActions"] == ["Deny"], name
        assert policy["spec"]["failurePolicy"] == "Fail", name
        if policy["_file"].startswith("manifests/base/"):
            assert Path(policy["_file"]).name in base, f"{policy['_file']} is not in manifests/base/kustomization"
        param = binding["spec"].get("paramRef")
        assert param is None or param["parameterNotFoundAction"] == "Deny", f"{name}: a missing param must deny"


def test_guardrail_exemptions_name_exact_identities_not_prefixes():
    """Only the operator, system:masters and the two controllers that delete what devns made: not every
    kube-system ServiceAccount nor every system:kube-* user."""
    for name in ("devns-guardrails", "devns-namespace-guardrails"):
        (condition,) = policies()[name]["spec"]["matchConditions"]
        expression = condition["expression"]
        assert "startsWith" not in expression, name
        for who in ("system:serviceaccount:devns-system:devns-operator", "system:kube-controller-manager",
                    "system:serviceaccount:kube-system:namespace-controller",
                    "system:serviceaccount:kube-system:generic-garbage-collector"):
            assert f"'{who}'" in expression, (name, who)


def test_operator_policy_limits_exactly_the_operator_serviceaccount_and_reads_its_settings():
    sa = the("ServiceAccount", "devns-operator")["metadata"]
    user = f"system:serviceaccount:{sa['namespace']}:{sa['name']}"
    for name in ("devns-operator-limits", "devns-operator-bindings"):
        (condition,) = policies()[name]["spec"]["matchConditions"]
        assert condition["expression"] == f"request.userInfo.username == '{user}'", name
    param = the("ValidatingAdmissionPolicyBinding", "devns-operator-bindings")["spec"]["paramRef"]
    settings = the("ConfigMap", "devns-settings")["metadata"]
    assert (param["name"], param["namespace"]) == (settings["name"], settings["namespace"])
    limits = json.dumps(policies()["devns-operator-limits"]["spec"])
    assert f"'{settings_from_configmap().gc_key_secret}'" in limits, "the key Secret's name differs from the setting"


def test_cluster_view_reads_no_credentials():
    rules = the("ClusterRole", "devns-cluster-view")["rules"]
    core = {res for rule in rules if "" in rule["apiGroups"] for res in rule["resources"]}
    assert not {"secrets", "configmaps", "pods/log"} & core
    assert all(set(rule["verbs"]) <= {"get", "list", "watch"} for rule in rules)


def test_self_service_ships_without_cluster_view_and_with_allow_lists():
    data = the("ConfigMap", "devns-self-service")["data"]
    assert data["allowClusterView"] == "false"
    assert data["allowedLabelPrefixes"] == data["allowedAnnotationPrefixes"] == "example.com/"
    assert data["namespaceNames"] == "{user}-*,{group}-*"


def test_services_reaching_outside_are_off_by_default():
    assert the("ConfigMap", "devns-service-policy")["data"] == {"allowExternalName": "false",
                                                                "allowedExternalIPs": ""}


def seed_rules() -> list[dict]:
    return the("ClusterRole", "devns-operator-seeds")["rules"]


def test_the_seed_clusterrole_grants_exactly_the_default_seed_kinds_and_never_reads_secrets():
    """rbac-seeds.yaml grows only by what DEVNS_SEED_KINDS needs: each seed-only kind of the settings' default is
    granted (RoleBindings are rbac.yaml's), nothing else; Secrets are written, never read (get, list, watch)."""
    from devns.contract import KINDS, SEED_ONLY_KINDS

    granted = {(g, res): set(r["verbs"]) for r in seed_rules() for g in r["apiGroups"] for res in r["resources"]}
    settings = settings_from_configmap()
    wanted = {(KINDS[k].group, KINDS[k].plural) for k in SEED_ONLY_KINDS if k in settings.seed_kinds}
    assert set(granted) == wanted
    assert granted[("", "secrets")] == {"create", "patch", "delete"}
    for rule in seed_rules():
        assert not {"escalate", "bind", "impersonate", "deletecollection"} & set(rule["verbs"]), rule
        assert not any("*" in v for field in ("apiGroups", "resources", "verbs") for v in rule[field]), rule
    sources = the("Role", "devns-seed-sources")
    assert sources["metadata"]["namespace"] == settings.seed_source_namespace
    assert sources["rules"] == [{"apiGroups": [""], "resources": ["configmaps", "secrets"],
                                 "verbs": ["get", "list", "watch"]}]


def test_test_modules_have_one_basename_each():
    """tests/ has no __init__.py: pytest imports test modules by basename, so one name in both tests/unit and
    tests/e2e fails the whole collection ("import file mismatch")."""
    names = [p.name for p in (ROOT / "tests").rglob("test_*.py")]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
