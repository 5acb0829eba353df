"""Run a scenario's arms on one cohort and reduce the results to tidy tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numba
import numpy as np
import pandas as pd

from trdsim.analysis.costs import COST_COLUMNS, CategoryMoments, cost_table
from trdsim.analysis.subgroups import SubgroupResult, arm_summary, parse_by, subgroup_analysis
from trdsim.cohort import COHORT_ARRAYS, Cohort, sample_cohort, sample_cohorts
from trdsim.currency import money, plus_minus
from trdsim.economics import (
    INCREMENTAL_COLUMNS,
    NET_BENEFIT_COLUMNS,
    incremental_analysis,
    net_benefit,
    optimal_arms,
    status_label,
)
from trdsim.effective import effective_table, effects_table
from trdsim.engine import layout as L
from trdsim.errors import TrdsimError
from trdsim.evidence import parameter_table
from trdsim.inputs import DrawInputs, ModelInputs, compile_draws, compile_inputs, stack_inputs
from trdsim.resultfolder import ResultBase, Table, as_written, make_manifest, tidy, with_arm_order
from trdsim.scenario import Scenario
from trdsim.simulation.arm import ArmRun, DrawsRun
from trdsim.survival import with_null_weeks

__all__ = [
    "BLOCK",
    "ArmMeans",
    "DECISION_Z",
    "Result",
    "arm_means",
    "arm_means_draws",
    "arm_means_values",
    "simulate",
    "state_column",
]

BLOCK = 200_000  # patients per block: bounds memory and paces the progress bar
# Two arms whose paired difference in expected NMB is within this many Monte Carlo SEs
# cannot be told apart by the run (two-sided 95 %): more patients would be needed.
DECISION_Z = 1.96


def _round_up(n: float) -> int:
    """`n` rounded up to two significant figures (a patient count worth quoting)."""
    if n <= 100:
        return max(int(np.ceil(n)), 1)
    step = 10 ** (int(np.floor(np.log10(n))) - 1)
    return int(np.ceil(n / step) * step)


def state_column(week: int) -> str:
    """The patient-table column of each patient's clinical state at the end of `week`
    (written for the weeks `simulate` is asked to observe)."""
    return f"state_week_{week}"


@dataclass(eq=False, repr=False)
class Result(ResultBase):
    """Outcomes of one simulation (`trdsim compare`): tidy tables plus what produced them.

    `.table` is the per-arm table; `write(folder)` / `Result.read(folder)` round-trip every
    table and the manifest. scenario and inputs are the live objects of a fresh run (None
    for a result read from a folder; they are not part of equality).
    """

    ANALYSIS: ClassVar[str] = "compare"
    MAIN: ClassVar[str] = "per_arm"
    TABLES: ClassVar[dict[str, Table]] = {
        "per_arm": Table("summary.csv", ("arm", "patients", "cost", "cost_se", "qaly", "qaly_se")),
        "incremental": Table("incremental.csv", INCREMENTAL_COLUMNS),
        "net_benefit": Table("net_benefit.csv", NET_BENEFIT_COLUMNS),
        "trace": Table("trace.parquet", ("week", "arm", "state", "count")),
        "patients": Table("patients.parquet", ("arm", "patient", "cost", "qaly"), per_patient=True),
        "parameters": Table("parameters.csv", ("key", "value", "distribution", "source")),
        "effective": Table("effective.csv"),
        "effects": Table("effects.csv"),
        "costs": Table("costs.csv", tuple(COST_COLUMNS), optional=True),
        "subgroup_table": Table("subgroups.csv", ("attribute", "subgroup", "arm"), optional=True),
    }

    manifest: dict
    per_arm: pd.DataFrame  # one row per arm: means with SEs, paired differences
    incremental: pd.DataFrame  # one row per arm: frontier status, comparator, ICER
    net_benefit: pd.DataFrame  # one row per threshold x arm: NMB, INMB, optimal
    trace: pd.DataFrame  # week x arm x state counts (long)
    # one row per arm x patient: outcomes, then entry attributes; None when read from a
    # folder kept without it (the repository's results/)
    patients: pd.DataFrame | None
    parameters: pd.DataFrame  # every input with its source
    effective: pd.DataFrame  # each step's response and remission in this cohort
    effects: pd.DataFrame  # how each treatment effect is stored
    # one row per arm x cost category x resource (analysis.costs.cost_table)
    costs: pd.DataFrame | None = None
    subgroup_table: pd.DataFrame | None = None  # after .subgroups(...)
    scenario: Scenario | None = None
    inputs: ModelInputs | None = None

    @property
    def patients_n(self) -> int:
        """Patients per arm."""
        return int(self.manifest["patients"])

    @property
    def seed(self) -> int:
        """The cohort's seed."""
        return int(self.manifest["seed"])

    def subgroups(self, *by: str) -> SubgroupResult:
        """Costs, QALYs and the incremental analysis per subgroup of each attribute in
        `by` ('severity', or 'severity:17,24' for cut-offs); ValueError if unknown. The
        table is kept as `subgroup_table` and written with the result."""
        specs = [parse_by(b) for b in by]
        g = subgroup_analysis(self.patient_table(), self.manifest["arms"], specs)
        self.subgroup_table = tidy(as_written(g.table), self.manifest["arms"])
        return g

    def patient_table(self) -> pd.DataFrame:
        """The per-patient table; TrdsimError (one line) saying how to get it when this
        result was read from a folder kept without it."""
        if self.patients is None:
            m = self.manifest
            raise TrdsimError(
                f"this {m['scenario']} result has no per-patient table (patients.parquet is "
                "left out of kept results folders): rerun `trdsim compare "
                f"{m['scenario']} --patients {m['patients']} --seed {m['seed']}` to make it"
            )
        return self.patients

    def optimal(self, threshold: float) -> list[str]:
        """The arm(s) with the highest expected net monetary benefit at `threshold`."""
        return optimal_arms(self.net_benefit, threshold)

    def adequacy(self) -> pd.DataFrame:
        """Per threshold: can this run name the optimal arm? One row per threshold: the
        best arm by expected NMB and the runner-up, the paired difference in their NMB
        (`inmb`, per patient) and its Monte Carlo SE over the run's patients, `adequate`
        (the difference exceeds DECISION_Z SEs) and `patients_needed` per arm for it to
        (the SE falls as 1/sqrt(n)). SE and verdict are missing without a patient table
        (a folder written without patients.parquet) or with one arm."""
        m = self.manifest
        rows = []
        p = self.patients
        paired = None
        if p is not None and len(p) and {"cost", "qaly"} <= set(p.columns):
            paired = p.pivot_table(index="patient", columns="arm", values=["cost", "qaly"],
                                   observed=True)  # fmt: skip
        nb = self.net_benefit
        for lam in m["thresholds"]:
            at = nb[nb.threshold == lam].sort_values("nmb", ascending=False, kind="stable")
            row = {"threshold": float(lam), "best": str(at.arm.iloc[0]), "runner_up": None,
                   "inmb": np.nan, "se": np.nan, "adequate": None, "patients_needed": None}  # fmt: skip
            if len(at) > 1:
                a, b = str(at.arm.iloc[0]), str(at.arm.iloc[1])
                row |= {"runner_up": b, "inmb": float(at.nmb.iloc[0] - at.nmb.iloc[1])}
                if paired is not None and len(paired) > 1:
                    d = lam * (paired["qaly"][a] - paired["qaly"][b]) - (
                        paired["cost"][a] - paired["cost"][b]
                    )
                    n = len(d)
                    se = float(d.std(ddof=1) / np.sqrt(n))
                    row["se"] = se
                    row["adequate"] = bool(abs(row["inmb"]) > DECISION_Z * se)
                    if row["inmb"] != 0:
                        need = n * (DECISION_Z * se / abs(row["inmb"])) ** 2
                        row["patients_needed"] = int(_round_up(need))
            rows.append(row)
        return pd.DataFrame(rows)

    def bottom_line(self) -> str:
        """Per threshold: the optimal arm, its place on the frontier and its ICER, or, when
        the run's Monte Carlo noise is too large to name one, that and how many patients
        per arm would do."""
        m = self.manifest
        cur = m["currency"]
        inc = self.incremental.set_index("arm")
        lines = []
        for q in self.adequacy().itertuples():
            lam = money(q.threshold, cur)
            if q.adequate is False:
                lines.append(
                    f"  at {lam}/QALY: no optimal arm can be named: {q.best} leads "
                    f"{q.runner_up} by {money(q.inmb, cur)} {plus_minus(q.se, cur)} per patient "
                    f"(paired INMB, Monte Carlo SE; within {DECISION_Z} SE); about "
                    f"{q.patients_needed:,} patients per arm would tell them apart"
                )
                continue
            for a in self.optimal(q.threshold):
                r = inc.loc[a]
                where = status_label(r.status, r.comparator)
                icer = f", ICER {money(r.icer, cur)}/QALY" if pd.notna(r.icer) else ""
                lines.append(f"  at {lam}/QALY: {a} ({where}{icer})")
            if q.adequate:
                lines.append(
                    f"    ahead of {q.runner_up} by {money(q.inmb, cur)} "
                    f"{plus_minus(q.se, cur)} per patient (paired INMB, Monte Carlo SE)"
                )
        return "\n".join(lines)

    def summary(self) -> str:
        """Per threshold: the optimal arm, its place on the frontier and its ICER (or that
        the run is too small to name one, and how many patients would do)."""
        m = self.manifest
        head = (
            f"{m['scenario']}: {self.patients_n:,} patients per arm, seed {self.seed}, "
            f"{m['currency']} {m['price_year']}, {m['perspective']} perspective"
        )
        return head + "\n" + self.bottom_line()

    def plot(self):
        """The arms on the cost-effectiveness plane with the efficiency frontier."""
        from trdsim.plots import frontier_figure

        return frontier_figure(
            self.named()(self.incremental), self.manifest["currency"], **self._about()
        )

    def _about(self) -> dict:
        return {"scenario": self.manifest["scenario"], "price_year": self.manifest["price_year"]}

    def _figures(self, folder: Path) -> list[Path]:
        from trdsim.plots import (
            ever_remitted_figure,
            frontier_figure,
            relapse_free_figure,
            trace_figure,
        )

        h = int(self.manifest["horizon_weeks"])
        cur = self.manifest["currency"]
        about = self._about()
        # figures name arms by their pathways' labels (the tables keep the ids)
        named = self.named()
        paths = [folder / n for n in ("trace.png", "ever_remitted.png", "relapse_free.png",
                                      "frontier.png")]  # fmt: skip
        trace_figure(named(self.trace), paths[0], **about)
        ever_remitted_figure(named(self.patient_table()), h, paths[1], **about)
        relapse_free_figure(named(self.patient_table()), h, paths[2], **about)
        frontier_figure(named(self.incremental), cur, paths[3], **about)
        return paths


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
    incremental = incremental_analysis(summary)
    nb = net_benefit(summary, scenario.thresholds)
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
    arms = list(scenario.arms)
    params = parameter_table(scenario.params, scenario.currency, scenario.raw.get("resources"))
    return Result(
        manifest=make_manifest(scenario, "compare", s, n),
        per_arm=with_arm_order(summary, arms),
        incremental=with_arm_order(incremental, arms),
        net_benefit=with_arm_order(nb, arms),
        trace=with_arm_order(tr, arms),
        patients=with_arm_order(with_null_weeks(pat), arms),
        parameters=params,
        effective=with_arm_order(effective_table(scenario, inputs), arms),
        effects=effects_table(scenario),
        costs=cost_table(scenario, inputs, cats),
        scenario=scenario,
        inputs=inputs,
    )


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
    return _means_draws(list(arms), cost, qaly)
