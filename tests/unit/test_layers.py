"""The import direction of the operator's modules points one way: handlers -> reconcile -> kube -> desired ->
expiry -> render -> the pure helpers -> settings -> models -> units/contract. A module may import only modules of
lower layers; this test fails when an arrow points back up (or sideways within a layer)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "devns"

#: Highest first. Modules of the reconcile package are one layer; inside it, every module may import ``context``
#: and ``__init__`` imports them all.
LAYERS = [
    {"__main__"},
    {"plugin"},
    {"cli", "crd"},
    {"handlers_newcomers"},
    {"handlers_seeds"},
    {"handlers_classes"},
    {"handlers_lifecycle"},
    {"handlers_drift"},
    {"handlers"},
    {"handlers_network"},
    {"informer"},
    {"watches"},
    {"metrics"},
    {"events"},
    {"reconcile"},
    {"kube"},
    {"desired"},
    {"expiry"},
    {"budgets"},
    {"classes"},
    {"seeds"},
    {"render"},
    {"gc", "diff", "status", "outcome", "requesters", "trust", "idle", "deadlines", "memories"},
    {"settings"},
    {"class_models"},
    {"models"},
    {"apirules"},
    {"units", "contract"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def name_of(path: Path) -> str:
    """The layer name of a module: its top-level name inside devns (reconcile/x.py -> reconcile)."""
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported(path: Path) -> set[str]:
    """The devns modules ``path`` imports (relative or absolute), by layer name."""
    out = set()
    inside_package = len(path.relative_to(PACKAGE).parts) > 1
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").startswith("devns"):
                parts = node.module.split(".")[1:]
            elif node.level == 1 and not inside_package or node.level == 2 and inside_package:
                parts = (node.module or "").split(".") if node.module else []
            else:
                continue  # within the same subpackage (.context)
            if parts and parts[0]:
                out.add(parts[0])
            else:
                out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("devns."))
    return out


def test_every_module_has_a_layer():
    assert {name_of(p) for p in modules()} - {"__init__"} <= set(LAYER)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    me = name_of(path)
    if me == "__init__":
        return
    up = {m for m in imported(path) if m in LAYER and m != me and LAYER[m] <= LAYER[me]}
    assert not up, (f"{path.relative_to(PACKAGE)} (layer {LAYER[me]}) imports {sorted(up)} from its own or a "
                    "higher layer")


#: What the paths of the reconcile package may share: the context, provisioning's helper for seeds and the
#: lifecycle's for idle namespaces (which import only the context).
SHARED = {"context": set(), "seeding": {"context"}, "idling": {"context"}}


def test_reconcile_modules_share_only_the_context():
    for path in (PACKAGE / "reconcile").glob("*.py"):
        if path.stem in ("__init__", "context"):
            continue
        siblings = {n.module for n in ast.walk(ast.parse(path.read_text()))
                    if isinstance(n, ast.ImportFrom) and n.level == 1}
        allowed = SHARED.get(path.stem, set(SHARED))
        assert siblings <= allowed, f"reconcile/{path.name} imports {siblings - allowed}"


#: The kubectl plugin runs on a developer's machine: it may use the API's pure description (names, models, units)
#: and nothing of the operator's machinery (Kopf handlers, reconcile, the operator's API wrapper, its settings).
PLUGIN_MAY_IMPORT = {"contract", "units", "models", "apirules"}


def test_plugin_imports_only_the_pure_api_modules():
    for path in (PACKAGE / "plugin").glob("*.py"):
        used = imported(path) & set(LAYER)
        assert used <= PLUGIN_MAY_IMPORT, f"plugin/{path.name} imports {sorted(used - PLUGIN_MAY_IMPORT)}"
