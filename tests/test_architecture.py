"""The layers of docs/architecture.md, checked on every import (lazy ones inside functions too).

paved/ has three layers: the bottom (catalog model, stack settings, naming, quantities,
prices, the vocabulary for reading recorded resources), the engine (offline engine, chart
expansion, schema and input checks, plan) and the commands (the CLI and one module per
command). components/ and policies/ sit on the bottom layer only; commands may import all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

BOTTOM = {"catalog", "model", "stack", "naming", "quantity", "errors", "yamlsrc", "resources", "cidr",
          "metrics_contract", "cost", "term", "layers", "model_data", "catalog_rules"}
ENGINE = {"engine", "offline_cloud", "sdk_inputs", "k8s_schema", "crd_schema", "plan", "charts", "layered"}
LAYER_OF_PAVED = {**{m: "bottom" for m in BOTTOM}, **{m: "engine" for m in ENGINE}}
# What each kind of module may import from this repository (top-level package, paved layer).
ALLOWED = {
    "bottom": {("paved", "bottom")},
    "engine": {("paved", "bottom"), ("paved", "engine")},
    "components": {("paved", "bottom"), ("components", None)},
    "policies": {("paved", "bottom"), ("policies", None)},
}
OURS = {"paved", "components", "policies"}


def kind_of(path: Path) -> str | None:
    rel = path.relative_to(ROOT)
    if rel.parts[0] in ("components", "policies"):
        return rel.parts[0]
    if rel.parts[0] == "paved":
        module = rel.parts[1].removesuffix(".py")
        return LAYER_OF_PAVED.get(module, "commands")
    return None


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import of this repository's packages in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "paved":  # `from paved import cost`
                out += [(node.lineno, f"paved.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, node.module))
    return [(line, m) for line, m in out if m.split(".")[0] in OURS]


def target(module: str) -> tuple[str, str | None]:
    top, _, rest = module.partition(".")
    if top != "paved":
        return top, None
    sub = rest.split(".")[0] if rest else ""
    return "paved", "bottom" if sub in BOTTOM else "engine" if sub in ENGINE else "commands"


FILES = sorted(p for d in ("paved", "components", "policies") for p in (ROOT / d).rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    kind = kind_of(path)
    if kind is None or kind == "commands":
        return
    if path.relative_to(ROOT).as_posix() == "policies/__main__.py":
        return  # builds the pack: the entry point, like a command
    bad = []
    for line, module in imported(path):
        top, layer = target(module)
        if (top, layer) not in ALLOWED[kind] and not (top == "paved" and kind in ("components", "policies")
                                                    and layer == "bottom"):
            bad.append(f"{path.relative_to(ROOT)}:{line} imports {module} ({top} {layer or ''})")
    assert not bad, "\n".join(bad)


def test_every_paved_module_has_a_layer_its_docs_name():
    text = (ROOT / "docs" / "architecture.md").read_text()
    for name in sorted(BOTTOM | ENGINE):
        if (ROOT / "paved" / f"{name}.py").exists() or (ROOT / "paved" / name).is_dir():
            assert f"`{name}`" in text, f"docs/architecture.md does not place paved/{name}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_several_modules_in_one(path):
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= 700, f"{path.relative_to(ROOT)} has {lines} lines; split it by concern"
