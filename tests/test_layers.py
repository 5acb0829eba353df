"""Import layers (DESIGN §1): data flows one way through src/trdsim. Each module's layer
is declared once, in tests/layers.toml; an import that runs up the layers fails unless
that file's allow-list names it, and the allow-list may only shrink."""

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "trdsim"
DECLARATION = Path(__file__).with_name("layers.toml")


def modules(package: Path = PACKAGE) -> dict[str, tuple[Path, bool]]:
    """Every module of the package by dotted name -> (file, is a package __init__)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        out[".".join(parts)] = (path, is_package)
    return out


def imports(package: Path = PACKAGE) -> set[tuple[str, str]]:
    """(importer, imported) for every import of a trdsim module anywhere in a module of
    the package: module level, inside functions, under TYPE_CHECKING; relative imports
    resolved; `from a import b` counts as importing a.b when b is a module."""
    mods = modules(package)
    arrows = set()
    for name, (path, is_package) in mods.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name.split(".") if is_package else name.split(".")[:-1]
                    here = here[: len(here) - node.level + 1]
                    base = ".".join(here + ([node.module] if node.module else []))
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names
                ]
            else:
                continue
            for t in targets:
                if t.split(".")[0] != package.name:
                    continue
                while t not in mods:  # an attribute or a missing module: its parent
                    t = t.rpartition(".")[0]
                if t != name:
                    arrows.add((name, t))
    return arrows


def declaration(path: Path = DECLARATION) -> tuple[dict[str, int], dict, dict]:
    """module -> layer, [below_folder] and [allowed] of the declaration file."""
    d = tomllib.loads(path.read_text())
    layer: dict[str, int] = {}
    for entry in d["layer"]:
        for m in entry["modules"]:
            assert m not in layer, f"{m} is declared twice"
            layer[m] = entry["number"]
    return layer, d.get("below_folder", {}), d.get("allowed", {})


def upward(layer: dict[str, int], arrows: set[tuple[str, str]]) -> set[str]:
    """The arrows that run up the layers, as 'importer -> imported'."""
    return {f"{a} -> {b}" for a, b in arrows if layer[a] < layer[b]}


LAYER, BELOW_FOLDER, ALLOWED = declaration()


def test_every_module_is_declared_once_and_exists():
    found = set(modules())
    assert not found - set(LAYER), "declare these modules' layer in tests/layers.toml"
    assert not set(LAYER) - found, "tests/layers.toml declares modules that do not exist"


def test_modules_of_a_folder_share_its_layer():
    wrong = {}
    for m, n in LAYER.items():
        folder = m.rpartition(".")[0]
        if folder != "trdsim" and folder in LAYER and n != LAYER[folder] and m not in BELOW_FOLDER:
            wrong[m] = (n, LAYER[folder])
    assert not wrong, f"module layer differs from its folder's (say why in [below_folder]): {wrong}"
    stale = [m for m in BELOW_FOLDER if LAYER.get(m) == LAYER.get(m.rpartition(".")[0])]
    assert not stale, f"[below_folder] entries no longer below their folder: {stale}"


def test_imports_run_down_the_layers():
    up = upward(LAYER, imports())
    assert not up - set(ALLOWED), "imports that run up the layers: " + "; ".join(
        sorted(up - set(ALLOWED))
    )
    assert not set(ALLOWED) - up, "allow-list entries no longer needed (delete them): " + (
        "; ".join(sorted(set(ALLOWED) - up))
    )
    assert all(isinstance(r, str) and r.strip() for r in ALLOWED.values()), "give each a reason"


def test_the_check_sees_a_planted_violation(tmp_path):
    # a leaf that imports the command line, at module level, in a function (relative)
    # and under TYPE_CHECKING: each is an arrow up the layers
    pkg = tmp_path / "trdsim"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "errors.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import trdsim.cli\n"
        "def f():\n    from .sub import leaf\n"
        "if TYPE_CHECKING:\n    from trdsim import cli\n"
    )
    (pkg / "sub" / "leaf.py").write_text("from .. import cli\n")
    got = imports(pkg)
    assert got == {
        ("trdsim.errors", "trdsim.cli"),
        ("trdsim.errors", "trdsim.sub.leaf"),
        ("trdsim.sub.leaf", "trdsim.cli"),
    }
    layer = {"trdsim.errors": 0, "trdsim.sub.leaf": 5, "trdsim.cli": 9}
    assert upward(layer, got) == {
        "trdsim.errors -> trdsim.cli",
        "trdsim.errors -> trdsim.sub.leaf",
        "trdsim.sub.leaf -> trdsim.cli",
    }


@pytest.mark.parametrize("module", ["trdsim.engine.kernel"])
def test_the_kernel_knows_nothing_of_toml_pandas_or_mesa(module):
    path = modules()[module][0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    assert not names & {"tomllib", "pandas", "mesa", "scenario"}, names
