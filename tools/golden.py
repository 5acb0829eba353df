"""Frozen numbers: the default scenarios' key results, kept in tests/data/golden.json.

    python tools/golden.py            # compute and compare with the file (exit 1 on a change)
    python tools/golden.py --write    # regenerate the whole file
    python tools/golden.py --write care   # regenerate one section (compare, psa or care)

(with the package importable, e.g. `PYTHONPATH=src .venv/bin/python tools/golden.py`).
`tests/test_golden.py` runs the comparison. When numbers move on purpose, regenerate
the file and commit it on its own, the message saying why they moved.

Only the public API is used (`trdsim.compare`, `trdsim.psa`, `trdsim.care`,
`trdsim.load_scenario`), so moving modules inside the package does not touch this.
Floats are kept and hashed as `repr` (full precision): any change to the last bit shows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "data" / "golden.json"
FORMAT = 1

# The runs: small, so the comparison takes seconds once the kernels are compiled.
COMPARE = {"scenarios": ["uk_nhs", "us_payer"], "patients": 1000}
PSA = {"scenario": "uk_nhs", "draws": 4, "patients": 200}
CARE = {
    "scenario": "capacity_whatif",
    # two years, a small region, too few therapists: queues form and waits are recorded
    "settings": {
        "care_system.years": 2,
        "care_system.referrals_per_year": 300,
        "care_system.services.cbt.units": 3,
    },
    "tables": ["weekly", "services", "yearly", "waits"],
    # summary numbers shown side by side when the digests differ
    "numbers": ["referrals", "treated", "cost_total", "qaly", "waiting_at_end"],
}
SECTIONS = ("compare", "psa", "care")

Transform = Callable[[Any], Any]  # Scenario -> Scenario (e.g. a planted change)


def _cell(x: Any) -> str:
    """One value, canonically: floats as repr (full precision), NaN/None as 'nan'."""
    if x is None:
        return "nan"
    if isinstance(x, float):
        return "nan" if math.isnan(x) else repr(x)
    return str(x)


def _column_lines(df, col: str) -> list[str]:
    return [_cell(x) for x in df[col].tolist()]  # tolist(): Python floats and ints


def canonical(df, keys: tuple[str, ...] = ()) -> tuple[list[str], Any]:
    """Column order (the key columns, then the others sorted by name) and the rows
    sorted by the key columns, so the digest does not depend on how the table was made."""
    df = df.reset_index(drop=True)
    keys = tuple(k for k in keys if k in df.columns)
    cols = [*keys, *sorted(c for c in df.columns if c not in keys)]
    if keys:
        order = df[list(keys)].copy()
        for k in keys:  # arms and other labels sort as text, numbers as numbers
            if order[k].dtype.kind not in "biuf":
                order[k] = order[k].astype(str)
        df = df.loc[order.sort_values(list(keys), kind="stable").index]
    return cols, df


def digest(df, keys: tuple[str, ...] = ()) -> str:
    """sha256 of the table in canonical form: a header line, then one line per column."""
    cols, df = canonical(df, keys)
    h = hashlib.sha256()
    h.update(("\t".join(map(str, cols)) + "\n").encode())
    for c in cols:
        h.update((str(c) + "\t" + "\t".join(_column_lines(df, c)) + "\n").encode())
    return h.hexdigest()


def column_digests(df, keys: tuple[str, ...] = ()) -> dict[str, str]:
    """A short digest per column: says which columns moved."""
    cols, df = canonical(df, keys)
    return {
        str(c): hashlib.sha256("\t".join(_column_lines(df, c)).encode()).hexdigest()[:16]
        for c in cols
    }


def _scenario(name: str, transform: Transform | None):
    import trdsim

    sc = trdsim.load_scenario(name)
    return transform(sc) if transform else sc


def compute_compare(transform: Transform | None = None) -> dict:
    import trdsim

    out: dict = {"patients": COMPARE["patients"], "scenarios": {}}
    for name in COMPARE["scenarios"]:
        sc = _scenario(name, transform)
        r = trdsim.compare(sc, COMPARE["patients"], sc.seed)
        arms = {
            str(row.arm): {"cost": float(row.cost), "qaly": float(row.qaly)}
            for row in r.per_arm.itertuples()
        }
        out["scenarios"][name] = {"seed": int(sc.seed), "arms": arms}
    return out


def compute_psa(transform: Transform | None = None) -> dict:
    import trdsim

    sc = _scenario(PSA["scenario"], transform)
    p = trdsim.psa(sc, draws=PSA["draws"], patients=PSA["patients"], seed=sc.seed, evppi=False)
    keys = ("draw", "arm")
    means = p.draws.groupby("arm", observed=True, sort=False)[["cost", "qaly"]].mean()
    return {
        **PSA,
        "seed": int(sc.seed),
        "rows": len(p.draws),
        "digest": digest(p.draws, keys),
        "mean_by_arm": {
            str(a): {"cost": float(m.cost), "qaly": float(m.qaly)} for a, m in means.iterrows()
        },
        "columns": column_digests(p.draws, keys),
    }


def compute_care(transform: Transform | None = None) -> dict:
    import trdsim

    sc = _scenario(CARE["scenario"], transform)
    c = trdsim.care(sc, seed=int(sc.seed), settings=CARE["settings"])
    tables = {}
    for name in CARE["tables"]:
        df = getattr(c, name)
        tables[name] = {"rows": len(df), "digest": digest(df)}
    return {
        "scenario": CARE["scenario"],
        "seed": int(c.manifest["seed"]),
        "settings": CARE["settings"],
        "tables": tables,
        "numbers": {k: c.info[k] for k in CARE["numbers"]},
    }


COMPUTE = {"compare": compute_compare, "psa": compute_psa, "care": compute_care}


def compute(sections=SECTIONS, transform: Transform | None = None) -> dict:
    """The golden numbers, now (transform: applied to every scenario, for tests)."""
    return {s: COMPUTE[s](transform) for s in sections}


def load(path: Path = GOLDEN) -> dict:
    return json.loads(path.read_text())


def write(values: dict, path: Path = GOLDEN) -> None:
    data = load(path) if path.exists() else {}
    data = {k: v for k, v in data.items() if k in SECTIONS}
    data.update(values)
    data = {"format": FORMAT, **{s: data[s] for s in SECTIONS if s in data}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


def differences(old: Any, new: Any, where: str = "") -> list[str]:
    """Readable lines, one per number that moved: where it is, old and new."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines = []
        for k in [*old, *(k for k in new if k not in old)]:
            at = f"{where}.{k}" if where else str(k)
            if k not in new:
                lines.append(f"{at}: missing now (was {old[k]!r})")
            elif k not in old:
                lines.append(f"{at}: new (now {new[k]!r})")
            else:
                lines += differences(old[k], new[k], at)
        return lines
    if old == new and type(old) is type(new):
        return []
    if isinstance(old, float) and isinstance(new, float):
        rel = (new - old) / abs(old) if old else math.inf
        return [f"{where}: {old!r} -> {new!r} ({new - old:+.6g}, {rel:+.3g} relative)"]
    return [f"{where}: {old!r} -> {new!r}"]


def check(sections=SECTIONS, transform: Transform | None = None) -> list[str]:
    """The differences between the golden file and the numbers now (empty: unchanged)."""
    golden = load()
    if golden.get("format") != FORMAT:
        return [f"golden file format {golden.get('format')!r}, expected {FORMAT}: regenerate"]
    now = compute(sections, transform)
    return [line for s in sections for line in differences(golden.get(s, {}), now[s], s)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", nargs="*", metavar="SECTION", choices=SECTIONS,
                    help="regenerate the file (all sections, or those named)")  # fmt: skip
    args = ap.parse_args(argv)
    if args.write is not None:
        sections = args.write or SECTIONS
        write(compute(sections))
        print(f"wrote {', '.join(sections)} to {GOLDEN}")
        return 0
    lines = check()
    print("\n".join(lines) if lines else "golden numbers unchanged")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
