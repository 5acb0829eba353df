"""Speed, memory and accuracy of EVPPI against dampack and the issue's targets.

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_evppi.py [--psa FOLDER] [--repeats 3]

* dampack's example PSA (10,000 draws x 3 strategies): the groups pFailChemo,
  muDieCancer and costs = (cChemo, cRadio, cSurg) at 31,000 / 61,000 / 101,000, on all
  10,000 draws (dampack: ~18 s; target <= 2 s), each value against dampack's
  calc_evppi(type = "gam") on all 10,000 draws (target: within our SE or 5 %; the
  reference is made by benchmarks/dampack_evppi.R, which reproduces dampack's own
  2,000-draw fixture), and against dampack's values on the first 2,000 draws: the
  difference in our SE, in the SE of the difference, and in per cent.
* A trdsim PSA table (default /tmp/voi_psa/draws.parquet, from `trdsim psa --no-evppi
  --out /tmp/voi_psa`): all default groups at the decision thresholds and over the
  CEAC grid, as `trdsim psa` runs it (target <= 2.5 s on 1,000 draws x 3 arms).
* Peak memory: tracemalloc's peak of numpy and Python allocations in each run.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from trdsim.analysis.decision import REQUIRED, check_table, default_thresholds
from trdsim.analysis.evppi import default_groups, evppi_tables
from trdsim.analysis.psa import STAT_COLUMNS

DAMPACK = Path("/work/shared/peers/dampack")
# dampack's calc_evppi on all 10,000 draws (benchmarks/dampack_evppi.R; R and mgcv)
FULL_REFERENCE = Path(__file__).parent / "data" / "dampack_evppi_10000.csv"
GROUPS = {
    "pFailChemo": ["pFailChemo"],
    "muDieCancer": ["muDieCancer"],
    "costs": ["cChemo", "cRadio", "cSurg"],
}
WTP = [31000.0, 61000.0, 101000.0]


def timed(fn, repeats: int):
    """Best wall time over repeats, the result, and the peak traced memory (MB) of one run."""
    best, out = np.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return best, out, peak


def dampack_comparison(repeats: int) -> None:
    raw = pd.read_csv(DAMPACK / "example_psa.csv")
    ref = pd.read_csv(DAMPACK / "evppi_2000.csv").rename(columns={"WTP": "threshold"})
    full = check_table(raw)
    first = check_table(raw[raw.draw < 2000])
    t_full, (tab, _), peak = timed(lambda: evppi_tables(full, GROUPS, WTP), repeats)
    t_2000, (tab2, _), _ = timed(lambda: evppi_tables(first, GROUPS, WTP), repeats)
    m = tab.merge(ref, on=["group", "threshold"]).merge(
        tab2[["group", "threshold", "evppi", "se"]], on=["group", "threshold"], suffixes=("", "_2k")
    )
    m["in_own_se"] = (m.evppi - m.EVPPI) / m.se
    m["in_diff_se"] = (m.evppi - m.EVPPI) / np.hypot(m.se, m.se_2k)
    m["pct"] = 100 * (m.evppi / m.EVPPI - 1)
    m["ours_2k_in_se"] = (m.evppi_2k - m.EVPPI) / m.se_2k
    print(f"dampack example PSA, {full.draw.nunique():,} draws x 3 strategies, 3 groups x 3 WTP")
    print(f"  time {t_full:.2f} s (dampack ~18 s), peak traced memory {peak:.0f} MB;")
    print(f"  same on the first 2,000 draws: {t_2000:.2f} s")
    show = m[["group", "threshold", "method", "evppi", "se", "EVPPI", "in_own_se", "in_diff_se",
              "pct", "evppi_2k", "se_2k", "ours_2k_in_se"]]  # fmt: skip
    print(show.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    ok_own = (m.in_own_se.abs() <= 1) | (m.pct.abs() <= 5)
    ok_diff = (m.in_diff_se.abs() <= 1) | (m.pct.abs() <= 5)
    print(
        f"  against dampack's 2,000-draw values: within 1 own SE or 5 %: {ok_own.sum()}/9; "
        f"within 1 SE of the difference or 5 %: {ok_diff.sum()}/9; ours on the same 2,000 "
        f"draws within 1 SE: {(m.ours_2k_in_se.abs() <= 1).sum()}/9"
    )
    # the check: all 10,000 draws against dampack's GAM on all 10,000 draws
    ref10 = pd.read_csv(FULL_REFERENCE, comment="#").rename(columns={"WTP": "threshold"})
    m10 = tab.merge(ref10, on=["group", "threshold"])
    m10["in_own_se"] = (m10.evppi - m10.EVPPI) / m10.se
    m10["pct"] = 100 * (m10.evppi / m10.EVPPI - 1)
    ok10 = (m10.in_own_se.abs() <= 1) | (m10.pct.abs() <= 5)
    print("  all 10,000 draws against dampack's GAM on all 10,000 draws (dampack_evppi.R):")
    show10 = m10[["group", "threshold", "evppi", "se", "EVPPI", "in_own_se", "pct"]]
    print(show10.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    print(f"  within 1 own SE or 5 %: {ok10.sum()}/9 (target 9/9)")
    # how far a 2,000-draw value moves with the PSA sample alone (not in the regression SE)
    blocks = [
        evppi_tables(check_table(raw[raw.draw // 2000 == b]), GROUPS, WTP)[0]
        .set_index(["group", "threshold"])
        .evppi
        for b in range(raw.draw.nunique() // 2000)
    ]
    spread = pd.concat(blocks, axis=1)
    summary = pd.DataFrame({"blocks_mean": spread.mean(axis=1), "blocks_sd": spread.std(axis=1)})
    summary["ours_10k"] = tab.set_index(["group", "threshold"]).evppi
    print(f"  our values on the {len(blocks)} disjoint 2,000-draw blocks (PSA-sample spread):")
    print(summary.to_string(float_format=lambda v: f"{v:,.0f}"))


def trdsim_groups(folder: Path, repeats: int) -> None:
    path = folder / "draws.parquet"
    if not path.is_file():
        print(f"{path}: missing; run `trdsim psa --no-evppi --no-figures --out {folder}` first")
        return
    draws = check_table(pd.read_parquet(path))
    meta = json.loads((folder / "manifest.json").read_text())
    thresholds = meta["thresholds"]
    keys = [c for c in draws.columns if c not in (*REQUIRED, *STAT_COLUMNS)]
    groups = default_groups(keys)
    grid = default_thresholds(thresholds)
    t, (tab, curve), peak = timed(lambda: evppi_tables(draws, groups, thresholds, grid), repeats)
    print(
        f"\ntrdsim PSA {draws.draw.nunique():,} draws x {draws.arm.nunique()} arms, "
        f"{len(keys)} parameters in {len(groups)} default groups, {len(thresholds)} decision "
        f"thresholds + {len(grid)}-point curve: {t:.2f} s (target <= 2.5 s), "
        f"peak traced memory {peak:.0f} MB"
    )
    print(f"  methods used: {tab.drop_duplicates('group').method.value_counts().to_dict()}")
    print(f"  clipped to the EVPI: {int(curve.clipped.sum())} of {len(curve)} curve points")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--psa", default="/tmp/voi_psa", help="a trdsim PSA folder")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if DAMPACK.is_dir():
        dampack_comparison(args.repeats)
    trdsim_groups(Path(args.psa), args.repeats)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak resident memory (getrusage): {peak:.0f} MB")


if __name__ == "__main__":
    main()
