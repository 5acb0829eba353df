"""The comparison of a scenario's arms (`trdsim compare`): one cohort simulated in every
arm, reduced to tidy tables (per arm, incremental, net benefit, trace, patients, costs),
and the result object that holds them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from trdsim.analysis.costs import COST_COLUMNS, cost_table
from trdsim.analysis.subgroups import SubgroupResult, arm_summary, parse_by, subgroup_analysis
from trdsim.currency import money, plus_minus
from trdsim.economics import (
    INCREMENTAL_COLUMNS,
    NET_BENEFIT_COLUMNS,
    incremental_analysis,
    net_benefit,
    optimal_arms,
    status_label,
)
from trdsim.engine import layout as L
from trdsim.errors import TrdsimError
from trdsim.evidence import parameter_table
from trdsim.inputs.arrays import ModelInputs
from trdsim.inputs.effective import effective_table, effects_table
from trdsim.scenario import Scenario
from trdsim.simulation.run import BLOCK, run_cohort
from trdsim.store.manifest import make_manifest
from trdsim.store.result import ResultBase
from trdsim.store.tables import Table, as_written, tidy, with_arm_order
from trdsim.survival import with_null_weeks

__all__ = ["DECISION_Z", "Result", "simulate"]

# Two arms whose paired difference in expected NMB is within this many Monte Carlo SEs
# cannot be told apart by the run (two-sided 95 %): more patients would be needed.
DECISION_Z = 1.96


def _round_up(n: float) -> int:
    """`n` rounded up to two significant figures (a patient count worth quoting)."""
    if n <= 100:
        return max(int(np.ceil(n)), 1)
    step = 10 ** (int(np.floor(np.log10(n))) - 1)
    return int(np.ceil(n / step) * step)


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
            row: dict[str, Any] = {
                "threshold": float(lam), "best": str(at.arm.iloc[0]), "runner_up": None,
                "inmb": np.nan, "se": np.nan, "adequate": None, "patients_needed": None,
            }  # fmt: skip
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
        rows: list[Any] = list(self.adequacy().itertuples())  # columns as in adequacy()
        for q in rows:
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
        from trdsim.plots.compare import frontier_figure

        return frontier_figure(
            self.named()(self.incremental), self.manifest["currency"], **self._about()
        )

    def _about(self) -> dict:
        return {"scenario": self.manifest["scenario"], "price_year": self.manifest["price_year"]}

    def _figures(self, folder: Path) -> list[Path]:
        from trdsim.plots.compare import (
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
    run = run_cohort(scenario, patients, seed, threads, block, progress, observe, inputs)
    n, s, pat, trace, inputs = run.n, run.seed, run.patients, run.trace, run.inputs
    h = scenario.horizon_weeks
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
        costs=cost_table(scenario, inputs, run.costs),
        scenario=scenario,
        inputs=inputs,
    )
