"""Run a scenario's arms on one cohort and reduce the results to tidy tables."""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from trdsim.analysis.costs import CategoryMoments, cost_table
from trdsim.analysis.subgroups import SubgroupResult, arm_summary, parse_by, subgroup_analysis
from trdsim.cohort import COHORT_ARRAYS, Cohort, sample_cohort
from trdsim.economics import incremental_analysis
from trdsim.engine import layout as L
from trdsim.engine.state import ArmRun, DrawsRun
from trdsim.inputs import ModelInputs, compile_inputs, stack_inputs
from trdsim.scenario import Scenario

__all__ = [
    "ArmMeans",
    "BLOCK",
    "Result",
    "arm_means",
    "arm_means_draws",
    "simulate",
    "state_column",
]

BLOCK = 200_000  # patients per block: bounds memory and paces the progress bar


def state_column(week: int) -> str:
    """The patient-table column of each patient's clinical state at the end of `week`
    (written for the weeks `simulate` is asked to observe)."""
    return f"state_week_{week}"


@dataclass
class Result:
    """Outcomes of one simulation: tidy pandas tables plus what produced them."""

    scenario: Scenario
    patients_n: int
    seed: int
    inputs: ModelInputs
    summary: pd.DataFrame  # one row per arm
    incremental: pd.DataFrame  # frontier, dominance, ICERs, NMB
    trace: pd.DataFrame  # week x arm x state counts (long)
    patients: pd.DataFrame  # one row per arm x patient: outcomes, then entry attributes
    # one row per arm x cost category x resource (analysis.costs.cost_table)
    costs: pd.DataFrame | None = None

    def subgroups(self, *by: str) -> SubgroupResult:
        """Costs, QALYs and the incremental analysis per subgroup of each attribute in
        `by` ('severity', or 'severity:17,24' for cut-offs); ValueError if unknown."""
        specs = [parse_by(b) for b in by]
        return subgroup_analysis(self.patients, self.scenario.arms, self.scenario.thresholds, specs)


def simulate(
    scenario: Scenario,
    patients: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    block: int = BLOCK,
    progress=None,
    observe: list[int] | None = None,
    inputs: ModelInputs | None = None,
) -> Result:
    """Simulate every arm of `scenario` for the same cohort (common random numbers).

    patients, seed: default to the scenario's. threads: numba threads (results do not
    depend on it). block: patients per kernel call (results do not depend on it either).
    progress: optional callable(n_patients_done_in_this_call) for a progress bar.
    observe: weeks at whose end each patient's clinical state is recorded, as columns
    `state_week_<t>` (layout codes) of the patient table; the kernel's calls are split
    there, which changes nothing else. inputs: compiled inputs to use instead of the
    scenario's (tests with closed forms).
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
    summary = arm_summary(pat, scenario.arms)
    # self-harm episodes are not drawn (see inputs.self_harm_cost_week): their
    # expected number per patient is the hazard times the depressed weeks lived
    h_sh = float(scenario.params["self_harm"]["weekly_hazard_depressed"]["value"])
    depressed = [L.TRACE_STATES.index(k) for k in L.DEPRESSED_TRACE_STATES]
    summary.insert(
        summary.columns.get_loc("suicides") + 1,
        "self_harm_events",
        [h_sh * trace[a][:, depressed].sum() / n for a in scenario.arms],
    )
    incremental = incremental_analysis(summary, scenario.thresholds)
    weeks = np.arange(h)
    tr = pd.concat(
        [
            pd.DataFrame(trace[a], columns=list(L.TRACE_STATES))
            .assign(week=weeks, arm=a)
            .melt(id_vars=["week", "arm"], var_name="state", value_name="count")
            for a in scenario.arms
        ],
        ignore_index=True,
    )
    costs = cost_table(scenario, inputs, cats)
    return Result(scenario, n, s, inputs, summary, incremental, tr, pat, costs)


@dataclass(frozen=True)
class ArmMeans:
    """Per-arm means and the patient-level variances a PSA or DSA needs.

    The lean counterpart of `simulate`: the same kernel, cohort and random numbers, but
    no per-patient table and no trace, so a parameter set costs little beyond the kernel.
    Differences are paired with the first arm (common random numbers).
    """

    arms: list[str]
    patients: int
    cost: np.ndarray  # (arms,) mean discounted cost
    qaly: np.ndarray  # (arms,) mean discounted QALYs
    cost_var: np.ndarray  # (arms,) variance over patients
    qaly_var: np.ndarray
    dcost_var: np.ndarray  # (arms,) variance over patients of the difference from arm 0
    dqaly_var: np.ndarray
    dcov: np.ndarray  # (arms,) covariance of those two differences


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
    return _means(list(arms), cost, qaly)


def _means(arms: list[str], cost: np.ndarray, qaly: np.ndarray) -> ArmMeans:
    """ArmMeans of (arms, patients) discounted costs and QALYs."""
    return _means_draws(arms, cost[None], qaly[None])[0]


def _means_draws(arms: list[str], cost: np.ndarray, qaly: np.ndarray) -> list[ArmMeans]:
    """ArmMeans of each draw's (draws, arms, patients) costs and QALYs, in one pass of
    numpy over all draws (each row reduced as on its own)."""
    n = cost.shape[2]
    dc = cost - cost[:, :1]
    dq = qaly - qaly[:, :1]
    ddof = 1 if n > 1 else 0
    stats = {
        "cost": cost.mean(axis=2),
        "qaly": qaly.mean(axis=2),
        "cost_var": cost.var(axis=2, ddof=ddof),
        "qaly_var": qaly.var(axis=2, ddof=ddof),
        "dcost_var": dc.var(axis=2, ddof=ddof),
        "dqaly_var": dq.var(axis=2, ddof=ddof),
        "dcov": ((dc - dc.mean(axis=2, keepdims=True)) * (dq - dq.mean(axis=2, keepdims=True))).sum(
            axis=2
        )
        / max(n - 1, 1),
    }
    return [
        ArmMeans(arms=list(arms), patients=n, **{k: v[d] for k, v in stats.items()})
        for d in range(cost.shape[0])
    ]


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
    stacked = stack_inputs(xs)
    cohorts = [sample_cohort(s, patients, seed) for s, seed in zip(scenarios, seeds, strict=True)]
    cohort = Cohort(0, *(np.concatenate([getattr(c, f) for c in cohorts]) for f in COHORT_ARRAYS))
    arms = scenarios[0].arms
    h = scenarios[0].horizon_weeks
    d = len(scenarios)
    cost = np.empty((d, len(arms), patients))
    qaly = np.empty((d, len(arms), patients))
    s = np.array(seeds, dtype=np.uint64)
    for j, a in enumerate(arms):
        run = DrawsRun(cohort, stacked.pathways[a], stacked, s, n_per=patients)
        run.advance(0, h)
        cost[:, j] = run.cost.reshape(d, patients)
        qaly[:, j] = run.qaly.reshape(d, patients)
    return _means_draws(list(arms), cost, qaly)
