"""One registry of random-stream purposes (engine/rng.py): no two streams share a
purpose, and no module draws with a purpose the registry does not declare."""

import ast
import itertools
from pathlib import Path

import trdsim
from trdsim.engine import layout as L
from trdsim.engine import rng

SRC = Path(trdsim.__file__).parent
# functions whose last argument is a purpose (rng's and the thin wrappers around it), by
# their number of arguments (sampling's _uniforms(seed, draws, codes) fixes P_PSA inside)
DRAWS = {"uniform": 4, "standard_normal": 3, "_exp_budget": 4, "int_budget": 4, "_uniforms": 4}


def test_no_two_streams_share_a_purpose():
    spans = sorted((p.first, p.last, p.name) for p in rng.PURPOSES)
    for (_, last, a), (first, _, b) in itertools.pairwise(spans):
        assert last < first, f"{a} and {b} overlap"
    assert len({p.name for p in rng.PURPOSES}) == len(rng.PURPOSES)
    assert all(p.width >= 1 and p.first >= 1 for p in rng.PURPOSES)


def test_every_constant_is_the_registry_entry_of_its_name():
    consts = {k: v for k, v in vars(rng).items() if k.startswith("P_") and isinstance(v, int)}
    assert consts == {p.name: p.first for p in rng.PURPOSES}


def test_families_span_what_their_users_add():
    """A family's width is the offsets its users add: component slots. Age and severity
    take one uniform each (the truncated normal's inverse CDF)."""
    w = {p.name: p.width for p in rng.PURPOSES}
    assert w["P_DROPOUT"] == w["P_DROP_WEEK"] == rng.COMPONENT_SLOTS == L.MAX_COMPONENTS
    assert w["P_AGE"] == w["P_SEVERITY"] == 1


def _purposes_used(tree: ast.AST) -> list[tuple[int, ast.expr]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            f = node.func
            name = (
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
            if DRAWS.get(name) == len(node.args):
                out.append((node.lineno, node.args[-1]))
    return out


def test_no_module_declares_or_spells_its_own_purpose():
    """Scan the source: every draw's purpose is a registry name (plus an offset), or the
    `purpose` argument of a wrapper; no module but rng.py binds an integer P_ name."""
    registered = {p.name for p in rng.PURPOSES}
    bad = []
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20  # the scan sees the package
    seen = 0
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(SRC)
        if path.name != "rng.py":
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                    for t in node.targets:
                        if (
                            isinstance(t, ast.Name) and t.id.startswith("P_")
                            and type(node.value.value) is int
                        ):  # fmt: skip
                            bad.append(f"{where}:{node.lineno}: {t.id} = {node.value.value}")
        for line, arg in _purposes_used(tree):
            if isinstance(arg, ast.Name) and arg.id == "purpose":
                continue  # a wrapper passing its caller's purpose on
            names = {n.id for n in ast.walk(arg) if isinstance(n, ast.Name)}
            seen += 1
            if not names & registered:
                bad.append(f"{where}:{line}: purpose {ast.unparse(arg)} is not in the registry")
    assert not bad, bad
    assert seen >= 15  # the clinical model's, the cohort's, the PSA's and the care system's
