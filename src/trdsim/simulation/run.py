"""Run a scenario's arms on one cohort: patient by patient (`run_cohort`, which
`analysis.compare.simulate` reduces to tables) or to lean means (`arm_means`, for PSA/DSA)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from trdsim.engine import layout as L
from trdsim.inputs.arrays import (
    DrawInputs,
    ModelInputs,
    compile_draws,
    compile_inputs,
    stack_inputs,
)
from trdsim.inputs.cohort import COHORT_ARRAYS, Cohort, sample_cohort, sample_cohorts
from trdsim.scenario import Scenario
from trdsim.simulation.arm import ArmRun, DrawsRun
from trdsim.simulation.means import ArmMeans, CategoryMoments, means_of, means_of_draws

__all__ = [
    "BLOCK",
    "CohortRun",
    "arm_means",
    "arm_means_draws",
    "arm_means_values",
    "run_cohort",
    "state_column",
]

BLOCK = 200_000  # patients per block: bounds memory and paces the progress bar


def state_column(week: int) -> str:
    """The patient-table column of each patient's clinical state at the end of `week`
    (written for the weeks `simulate` is asked to observe)."""
    return f"state_week_{week}"


@dataclass
class CohortRun:
    """The arms of one cohort, run patient by patient (`run_cohort`)."""

    patients: pd.DataFrame  # one row per arm x patient: outcomes, observed states, entry attributes
    trace: dict[str, np.ndarray]  # per arm: (weeks, TRACE_STATES) counts
    costs: dict[str, CategoryMoments]  # per arm: each cost category's moments
    inputs: ModelInputs  # the compiled inputs it ran on
    n: int  # patients per arm
    seed: int


def run_cohort(
    scenario: Scenario,
    patients: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    block: int = BLOCK,
    progress=None,
    observe: list[int] | None = None,
    inputs: ModelInputs | None = None,
) -> CohortRun:
    """Every arm of `scenario` for the same cohort (common random numbers), patient by
    patient; `simulate` (analysis.compare) reduces it to tables. Arguments as simulate's.
    """
    n = scenario.patients if patients is None else int(patients)
    s = scenario.seed if seed is None else int(seed)
    if n < 1:
        raise ValueError("patients must be at least 1")
    if threads is not None:
        numba.set_num_threads(threads)
    inputs = compile_inputs(scenario) if inputs is None else inputs
    h = scenario.horizon_weeks
    looks = sorted(set(observe or []))
    if looks and not (looks[0] >= 0 and looks[-1] < h):
        raise ValueError(f"observed weeks must be within 0 .. {h - 1}")
    frames: dict[str, list[pd.DataFrame]] = {a: [] for a in scenario.arms}
    cats = {a: CategoryMoments() for a in scenario.arms}
    trace = {a: np.zeros((h, len(L.TRACE_STATES)), dtype=np.int64) for a in scenario.arms}
    for b0 in range(0, n, block):
        cohort = sample_cohort(scenario, min(block, n - b0), s, pid0=b0)
        for a in scenario.arms:
            run = ArmRun(cohort, inputs.pathways[a], inputs, s)
            seen, w = {}, 0
            for t in looks:
                run.advance(w, t + 1)
                w = t + 1
                seen[state_column(t)] = run.clin.copy()
            run.advance(w, h)
            trace[a] += run.trace
            # each patient's outcomes, then their attributes at entry (for subgroups)
            frames[a].append(pd.DataFrame(run.outputs() | seen | cohort.attributes()))
            cats[a].add(run.cost_by_category())
            if progress is not None:
                progress(len(cohort))
    pat = pd.concat(
        [pd.concat(frames[a], ignore_index=True).assign(arm=a) for a in scenario.arms],
        ignore_index=True,
    )
    pat.insert(0, "arm", pat.pop("arm"))
    return CohortRun(pat, trace, cats, inputs, n, s)


def arm_means(
    scenario: Scenario,
    patients: int | None = None,
    seed: int | None = None,
    inputs: ModelInputs | None = None,
    block: int = BLOCK,
) -> ArmMeans:
    """Mean cost and QALYs of every arm for one cohort; see ArmMeans."""
    n = scenario.patients if patients is None else int(patients)
    s = scenario.seed if seed is None else int(seed)
    if n < 1:
        raise ValueError("patients must be at least 1")
    x = compile_inputs(scenario) if inputs is None else inputs
    h = scenario.horizon_weeks
    arms = scenario.arms
    cost = np.empty((len(arms), n))
    qaly = np.empty((len(arms), n))
    for b0 in range(0, n, block):
        cohort = sample_cohort(scenario, min(block, n - b0), s, pid0=b0)
        for j, a in enumerate(arms):
            run = ArmRun(cohort, x.pathways[a], x, s)
            run.advance(0, h)
            cost[j, b0 : b0 + len(cohort)] = run.cost
            qaly[j, b0 : b0 + len(cohort)] = run.qaly
    return means_of(list(arms), cost, qaly)


def arm_means_draws(
    scenarios: list[Scenario],
    seeds: list[int],
    patients: int,
    inputs: list[ModelInputs] | None = None,
) -> list[ArmMeans]:
    """`arm_means` for several parameter draws of one scenario in one kernel call per arm.

    scenarios[d] is draw d's scenario (same structure, other values), seeds[d] its
    patients' seed. Bit-identical to [arm_means(s, patients, seed) ...]: each patient
    meets the same random numbers and arithmetic (see engine.kernel.advance_batch).
    """
    if patients < 1:
        raise ValueError("patients must be at least 1")
    xs = [compile_inputs(s) for s in scenarios] if inputs is None else inputs
    cohorts = [sample_cohort(s, patients, seed) for s, seed in zip(scenarios, seeds, strict=True)]
    cohort = Cohort(0, *(np.concatenate([getattr(c, f) for c in cohorts]) for f in COHORT_ARRAYS))
    return _run_draws(stack_inputs(xs), cohort, scenarios[0], seeds, patients)


def arm_means_values(
    scenario: Scenario, values: Mapping[str, np.ndarray], seeds: list[int], patients: int
) -> list[ArmMeans]:
    """`arm_means_draws` for draws given by their parameter values ((draws,) arrays by
    flattened key, as ParameterSpace.sample's columns) instead of their scenarios: the
    inputs of all draws compiled in one pass (`compile_draws`), their patients drawn in
    one call (`sample_cohorts`). Bit-identical to arm_means_draws of the draws' scenarios.
    """
    if patients < 1:
        raise ValueError("patients must be at least 1")
    stacked = compile_draws(scenario, values, len(seeds))
    cohort = sample_cohorts(scenario, patients, np.array(seeds, dtype=np.uint64), values)
    return _run_draws(stacked, cohort, scenario, seeds, patients)


def _run_draws(
    stacked: DrawInputs, cohort: Cohort, scenario: Scenario, seeds: list[int], patients: int
) -> list[ArmMeans]:
    """Every arm of the draws through the kernel (one call per arm), reduced to means."""
    arms = scenario.arms
    h = scenario.horizon_weeks
    d = len(seeds)
    cost = np.empty((d, len(arms), patients))
    qaly = np.empty((d, len(arms), patients))
    s = np.array(seeds, dtype=np.uint64)
    for j, a in enumerate(arms):
        run = DrawsRun(cohort, stacked.pathways[a], stacked, s, n_per=patients)
        run.advance(0, h)
        cost[:, j] = run.cost.reshape(d, patients)
        qaly[:, j] = run.qaly.reshape(d, patients)
    return means_of_draws(list(arms), cost, qaly)
