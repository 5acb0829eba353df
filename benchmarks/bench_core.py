"""Speed and memory of the core, against a mesa reference and a minimal-kernel ceiling.

Run: .venv/bin/python benchmarks/bench_core.py [--patients 1000000] [--mesa-patients 2000]

Reports patient-weeks per second of the full kernel (1 and 2 threads), the same model as
one mesa.Agent per patient (checked to give the kernel's per-patient results), a minimal
kernel with the same random-number generator and almost no logic, the kernel's memory per
patient, and the wall time of `trdsim compare` on the default scenario.
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
from trdsim.engine.rng import uniform
from trdsim.inputs.arrays import compile_inputs
from trdsim.inputs.cohort import COHORT_ARRAYS, sample_cohort
from trdsim.simulation.arm import ArmRun

sys.path.insert(0, str(Path(__file__).parent))
from mesa_reference import MesaCohortModel

ARM = "integrated"
SEED = 2026


@numba.njit(parallel=True, cache=True)
def minimal_kernel(n, weeks, seed, out):
    """One counter-based draw and one add per patient-week: the practical ceiling."""
    for i in numba.prange(n):
        acc = 0.0
        for w in range(weeks):
            acc += uniform(seed, i, w, 1)
        out[i] = acc


def rate(n: int, weeks: int, seconds: float) -> float:
    return n * weeks / seconds / 1e6


def time_kernel(scenario, inputs, cohort, threads: int) -> float:
    numba.set_num_threads(threads)
    warm = ArmRun(sample_cohort(scenario, 1000, SEED), inputs.pathways[ARM], inputs, SEED)
    warm.advance(0, 5)  # compile or load from cache
    best = np.inf
    for _ in range(3):
        run = ArmRun(cohort, inputs.pathways[ARM], inputs, SEED)
        t = time.perf_counter()
        run.advance(0, scenario.horizon_weeks)
        best = min(best, time.perf_counter() - t)
    return best


def kernel_bytes_per_patient(scenario, inputs, cohort) -> tuple[float, float]:
    """(inputs + state, outputs) bytes per patient held while the kernel runs."""
    run = ArmRun(cohort, inputs.pathways[ARM], inputs, SEED)
    n = len(cohort)
    attrs = COHORT_ARRAYS
    state = ("entry_step", "variant", "clin", "phase", "step", "wk", "cs", "rc", "fails", "gain", "hnh",
             "xk", "ek", "death_budget", "resp_budget", "relapse_at",
             "deep_budget", "seg_a", "seg_c", "seg_u")  # fmt: skip
    outputs = ("cost_closed", "qaly_closed", "weeks_alive", "weeks_remission", "first_remission",
               "first_response", "first_followup", "first_relapse", "relapses", "max_step", "top_start",
               "death_week", "death_cause", "sudden_gains", "cost_cat")  # fmt: skip
    held = sum(getattr(cohort, a).nbytes for a in attrs) + sum(
        getattr(run, s).nbytes for s in state
    )
    return held / n, sum(getattr(run, o).nbytes for o in outputs) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=1_000_000)
    ap.add_argument("--mesa-patients", type=int, default=2_000)
    ap.add_argument("--compare-patients", type=int, default=100_000)
    a = ap.parse_args()
    scenario = trdsim.load_scenario("uk_nhs")
    inputs = compile_inputs(scenario)
    weeks = scenario.horizon_weeks
    n = a.patients
    cohort = sample_cohort(scenario, n, SEED)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    t1 = time_kernel(scenario, inputs, cohort, 1)
    t2 = time_kernel(scenario, inputs, cohort, 2)
    full1, full2 = rate(n, weeks, t1), rate(n, weeks, t2)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    out = np.empty(n)
    minimal_kernel(1000, 5, SEED, np.empty(1000))
    minimal = {}
    for threads in (1, 2):
        numba.set_num_threads(threads)
        tmin = np.inf
        for _ in range(3):
            t = time.perf_counter()
            minimal_kernel(n, weeks, SEED, out)
            tmin = min(tmin, time.perf_counter() - t)
        minimal[threads] = rate(n, weeks, tmin)

    small = sample_cohort(scenario, a.mesa_patients, SEED)
    model = MesaCohortModel(small, inputs, inputs.pathways[ARM], SEED)
    t = time.perf_counter()
    for _ in range(weeks):
        model.step()
    tmesa = time.perf_counter() - t
    mesa_rate = rate(a.mesa_patients, weeks, tmesa)
    ref = ArmRun(small, inputs.pathways[ARM], inputs, SEED)
    ref.advance(0, weeks)
    agents = sorted(model.agents, key=lambda g: g.pid)
    same = np.array_equal(np.array([g.qaly for g in agents]), ref.qaly) and np.array_equal(
        np.array([g.cost for g in agents]), ref.cost
    )

    held, outs = kernel_bytes_per_patient(scenario, inputs, cohort)

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "trdsim.cli", "compare", "--patients", str(a.compare_patients),
               "--out", tmp]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True)  # warm the cache
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        tcompare = time.perf_counter() - t

    print(f"machine: {numba.config.NUMBA_NUM_THREADS} cores available; numba {numba.__version__}")
    print(f"model: {scenario.name}, arm {ARM}, {n:,} patients x {weeks} weeks\n")
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| full kernel, 1 thread | {full1:,.0f} M patient-weeks/s ({t1:.2f} s) | |")
    print(f"| full kernel, 2 threads | {full2:,.0f} M patient-weeks/s ({t2:.2f} s) | >= 150 |")
    print(
        f"| mesa reference (1 agent per patient, {a.mesa_patients:,} patients) | {mesa_rate:.3f} M patient-weeks/s; same per-patient results as the kernel: {same} | |"
    )
    print(f"| kernel (2 threads) / mesa | {full2 / mesa_rate:,.0f}x | >= 300x |")
    print(
        f"| minimal kernel (same RNG, one draw per patient-week), 1 / 2 threads | {minimal[1]:,.0f} / {minimal[2]:,.0f} M patient-weeks/s | |"
    )
    print(
        f"| minimal / full kernel, 1 / 2 threads | {minimal[1] / full1:.2f}x / {minimal[2] / full2:.2f}x | <= 4x |"
    )
    print(
        f"| memory: patient attributes + state while running | {held:.0f} bytes/patient | <= 150 |"
    )
    print(f"| memory: per-patient outputs (tables aside) | {outs:.0f} bytes/patient | |")
    print(
        f"| process peak RSS growth during the 1M-patient runs | {(rss1 - rss0) * 1024 / n:.0f} bytes/patient | |"
    )
    print(
        f"| `trdsim compare` default scenario, {a.compare_patients:,} patients x 2 arms, compiled | {tcompare:.1f} s wall | < 10 s |"
    )


if __name__ == "__main__":
    main()
