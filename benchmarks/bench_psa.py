"""Speed of the PSA against the issue's targets, in one run on this machine.

Run: .venv/bin/python benchmarks/bench_psa.py [--draws 1000] [--patients 1000]

* The default command, `trdsim psa --draws 1000 --patients 1000` on uk_nhs (EVPPI for
  the default groups at both thresholds, figures), wall time in a fresh process with
  numba's cache warm; target <= 10 s. Beside it the minimal kernel (one counter-based
  draw and one add per patient-week) for the same patient-weeks, and the command's
  peak memory.
* The simulation part (`run_psa` in this process, all arms) against the full kernel's
  rate on a 1,000,000-patient cohort of the same arms, measured here; target within 2x.
  Its time split: the draws' inputs compiled (`compile_draws`), their patients drawn
  (`sample_cohorts`), the kernel (start and advance of every arm, with the means), and
  the rest (parameter draws, tables, chunk files).
* One PSA on a dask LocalCluster of 2 processes: the same table as in-process.

`--load` instead measures the simulation part (300 draws x 1,000 patients) in a fresh
process with each OpenMP wait policy, alone and beside 2 busy processes (cores shared
with other work): why trdsim sets OMP_WAIT_POLICY=PASSIVE unless told otherwise.
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

import trdsim
import trdsim.simulation.run
from trdsim.analysis.psa import run_psa
from trdsim.inputs.arrays import compile_inputs
from trdsim.inputs.cohort import sample_cohort
from trdsim.simulation.arm import ArmRun
from trdsim.simulation.warmup import warm_up

sys.path.insert(0, str(Path(__file__).parent))
from bench_core import minimal_kernel

SEED = 2026


def full_kernel_rate(scenario, n: int) -> float:
    """Patient-weeks per second of the kernel over all arms on one n-patient cohort."""
    x = compile_inputs(scenario)
    cohort = sample_cohort(scenario, n, SEED)
    best = np.inf
    for _ in range(2):
        t = 0.0
        for a in scenario.arms:
            run = ArmRun(cohort, x.pathways[a], x, SEED)
            t0 = time.perf_counter()
            run.advance(0, scenario.horizon_weeks)
            t += time.perf_counter() - t0
        best = min(best, t)
    return n * len(scenario.arms) * scenario.horizon_weeks / best


class Timed:
    """Wall time spent in some functions of a module while in the block (patched)."""

    def __init__(self, module, names: list[str]):
        self.module, self.names = module, names
        self.seconds = dict.fromkeys(names, 0.0)

    def __enter__(self) -> "Timed":
        self.saved = {n: getattr(self.module, n) for n in self.names}
        for n, f in self.saved.items():
            setattr(self.module, n, self._wrap(n, f))
        return self

    def _wrap(self, name, f):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - t

        return timed

    def __exit__(self, *exc) -> None:
        for n, f in self.saved.items():
            setattr(self.module, n, f)


def minimal_seconds(patient_weeks: int, weeks: int) -> float:
    n = patient_weeks // weeks
    out = np.empty(n)
    minimal_kernel(1000, 5, SEED, np.empty(1000))
    t = time.perf_counter()
    minimal_kernel(n, weeks, SEED, out)
    return time.perf_counter() - t


PSA_IN_CHILD = """
import tempfile, time, trdsim
from trdsim.analysis.psa import run_psa
from trdsim.simulation.warmup import warm_up
sc = trdsim.load_scenario()
warm_up(sc)
t = time.perf_counter()
run_psa(sc, 300, 1000, tempfile.mkdtemp())
print(time.perf_counter() - t)
"""


def under_load(repeats: int = 2) -> None:
    """run_psa's time with each wait policy, on idle cores and beside 2 busy processes."""
    import os

    print("| OpenMP wait policy | idle cores | beside 2 busy processes |\n|---|---|---|")
    for policy in ("ACTIVE", "PASSIVE"):
        env = {**os.environ, "OMP_WAIT_POLICY": policy}

        def once(env: dict = env) -> float:
            run = subprocess.run([sys.executable, "-c", PSA_IN_CHILD], env=env, check=True,
                                 capture_output=True, text=True)  # fmt: skip
            return float(run.stdout.split()[-1])

        idle = [once() for _ in range(repeats)]
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        try:
            loaded = [once() for _ in range(repeats)]
        finally:
            for b in busy:
                b.kill()
        show = lambda xs: " / ".join(f"{x:.2f}" for x in xs) + " s"  # noqa: E731
        print(f"| {policy} | {show(idle)} | {show(loaded)} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--load", action="store_true", help="the wait-policy comparison only")
    args = ap.parse_args()
    if args.load:
        under_load()
        return
    sc = trdsim.load_scenario()
    k, n = args.draws, args.patients
    warm_up(sc)
    pw = k * n * len(sc.arms) * sc.horizon_weeks
    print(f"machine: {numba.config.NUMBA_NUM_THREADS} cores; numba {numba.__version__}")
    print(f"PSA {k:,} draws x {n:,} patients x {len(sc.arms)} arms x {sc.horizon_weeks} weeks\n")
    print("| measure | value | target |\n|---|---|---|")

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "trdsim.cli", "psa", "--draws", str(k), "--patients",
               str(n), "--out", str(Path(tmp) / "psa")]  # fmt: skip
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    t_min = minimal_seconds(pw, sc.horizon_weeks)
    print(
        f"| `trdsim psa --draws {k} --patients {n}` (EVPPI, figures), wall | {wall:.1f} s | <= 10 s |"
    )
    print(f"| minimal kernel, the same {pw / 1e6:,.0f} M patient-weeks | {t_min:.2f} s | |")
    print(f"| command / minimal kernel | {wall / t_min:.1f}x | |")
    print(f"| peak memory of the command (RSS) | {peak:,.0f} MB | |")

    simulate = sys.modules["trdsim.simulation.run"]  # the module (trdsim.simulate is the function)
    with Timed(simulate, ["compile_draws", "sample_cohorts", "_run_draws"]) as parts:
        t = time.perf_counter()
        table = run_psa(sc, k, n, Path(tempfile.mkdtemp()) / "psa")
        t_sim = time.perf_counter() - t
    psa_rate = pw / t_sim
    full = full_kernel_rate(sc, 1_000_000)
    print(
        f"| simulation part (`run_psa`, in-process) | {t_sim:.2f} s, {psa_rate / 1e6:,.0f} M patient-weeks/s | |"
    )
    print(
        f"| full kernel, 1,000,000 patients x {len(sc.arms)} arms | {full / 1e6:,.0f} M patient-weeks/s | |"
    )
    print(f"| full kernel rate / PSA rate | {full / psa_rate:.2f}x | <= 2x |")
    sec = parts.seconds
    rest = t_sim - sum(sec.values())
    print(
        f"| `run_psa` split: inputs compiled / patients drawn / kernel (with means) / rest "
        f"| {sec['compile_draws']:.2f} / {sec['sample_cohorts']:.2f} / {sec['_run_draws']:.2f} "
        f"/ {rest:.2f} s | |"
    )

    t = time.perf_counter()
    other = run_psa(sc, k, n, Path(tempfile.mkdtemp()) / "psa", workers=2)
    t_dask = time.perf_counter() - t
    print(
        f"| LocalCluster of 2 processes (with its start-up) | {t_dask:.1f} s; same table: {table.equals(other)} | |"
    )


if __name__ == "__main__":
    main()
