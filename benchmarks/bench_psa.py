"""Speed of the PSA and of EVPPI, against the issue's targets.

Run: .venv/bin/python benchmarks/bench_psa.py [--draws 1000] [--patients 1000] [--repeats 3]

* PSA of K draws x N patients x 2 arms x 260 weeks on the default scenario, in this
  process (numba threads) and on a dask LocalCluster of 2 worker processes (wall time
  including the cluster's start-up); target <= 10 s for 1,000 x 1,000.
* The cost per draw split into compiling the inputs (intercepts, relapse multipliers,
  pathway tables) and simulating, so the next optimisation has a target.
* EVPPI for one parameter group (treatment: cbt_augmentation) over the K draws at
  £20,000/QALY; target <= 5 s for 1,000 draws.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import trdsim
from trdsim.analysis.evppi import evppi
from trdsim.analysis.psa import draw_seed, run_psa
from trdsim.analysis.sampling import ParameterSpace
from trdsim.inputs import compile_inputs
from trdsim.simulate import arm_means


def timed(fn, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    sc = trdsim.load_scenario()
    k, n = args.draws, args.patients
    run_psa(sc, 4, 50, Path(tempfile.mkdtemp()) / "warm")  # numba: load from cache

    def serial():
        return run_psa(sc, k, n, Path(tempfile.mkdtemp()) / "psa")

    def cluster():
        return run_psa(sc, k, n, Path(tempfile.mkdtemp()) / "psa", workers=2)

    t_serial, table = timed(serial, args.repeats)
    t_cluster, other = timed(cluster, args.repeats)
    assert table.equals(other), "dask and serial tables differ"
    pw = k * n * len(sc.arms) * sc.horizon_weeks
    print(f"PSA {k:,} draws x {n:,} patients x {len(sc.arms)} arms x {sc.horizon_weeks} weeks")
    print(
        f"  in-process:            {t_serial:6.2f} s  ({pw / t_serial / 1e6:,.0f} M patient-weeks/s)"
    )
    print(f"  LocalCluster, 2 procs: {t_cluster:6.2f} s  (with cluster start-up; same table)")

    space = ParameterSpace(sc)
    values, _ = space.sample(np.arange(200), sc.seed)
    rows = values.to_dict("index")
    t_compile, _ = timed(lambda: [compile_inputs(space.apply(rows[d])) for d in range(200)], 3)
    inputs = [compile_inputs(space.apply(rows[d])) for d in range(200)]
    scen = [space.apply(rows[d]) for d in range(200)]
    t_sim, _ = timed(
        lambda: [arm_means(scen[d], n, draw_seed(sc.seed, d), inputs[d]) for d in range(200)], 3
    )
    print(
        f"  per draw: inputs {t_compile / 200 * 1e3:.2f} ms, simulation {t_sim / 200 * 1e3:.2f} ms"
    )

    keys = [c for c in table.columns if c.startswith("treatments.cbt_augmentation.")]
    t_evppi, r = timed(lambda: evppi(table, keys, 20000.0), args.repeats)
    print(
        f"EVPPI of treatment: cbt_augmentation ({len(keys)} parameters) over {k:,} draws: "
        f"{t_evppi:.2f} s (EVPPI {r['evppi']:.2f} ± {r['se']:.2f}, EVPI {r['evpi']:.2f})"
    )
    # a group whose EVPI is not 0: the same table with integrated care's costs lowered
    shifted = table.copy()
    mask = shifted.arm == "integrated"
    shifted.loc[mask, "cost"] -= 2500.0
    shifted.loc[mask, "qaly"] += 0.12
    t_evppi2, r2 = timed(lambda: evppi(shifted, keys, 20000.0), args.repeats)
    print(
        f"EVPPI of the same group on a table with decision uncertainty: {t_evppi2:.2f} s "
        f"(EVPPI {r2['evppi']:.1f} ± {r2['se']:.1f}, EVPI {r2['evpi']:.1f})"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
