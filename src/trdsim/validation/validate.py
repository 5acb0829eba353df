"""Each target simulated in its own setting (see evidence/targets.toml), and the report.

The setting is built from the scenario being checked: its parameters, with the cohort,
pathway, maintenance and horizon the target describes. Nothing here changes a
parameter; `calibration.py` does that, through the same functions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from trdsim.analysis.compare import simulate
from trdsim.analysis.psa import evaluate_draws
from trdsim.analysis.sampling import ParameterSpace
from trdsim.currency import number
from trdsim.pathways import entry_step
from trdsim.scenario import Scenario, from_dict, load_scenario
from trdsim.store.manifest import make_manifest
from trdsim.store.result import ResultBase
from trdsim.store.tables import Table
from trdsim.survival import kaplan_meier, with_coded_weeks
from trdsim.validation.targets import DESIGN_SETTINGS, Target
from trdsim.validation.trial import Z95, contrast, run_trial

__all__ = [
    "PATIENTS",
    "VALIDATION_COLUMNS",
    "Outcome",
    "ValidationResult",
    "measure",
    "measure_design",
    "quadrant",
    "setting_raw",
    "table",
    "validate",
    "validation",
]

PATIENTS = 20_000  # per target: Monte Carlo SE of a proportion below 0.004


@dataclass(frozen=True)
class Outcome:
    """The model's number for a target, with what a figure needs."""

    target: Target
    value: float
    patients: int  # patients the measure is taken over (starters, or responders)
    curves: pd.DataFrame | None = None  # KM relapse curves: time, survival, arm
    quadrant: str = ""  # of an incremental result (economic targets)
    mcse: float = float("nan")  # Monte Carlo standard error, where known

    @property
    def passed(self) -> bool:
        ok = np.isfinite(self.value) or self.target.quadrant in ("SE", "NW")
        return bool(ok and self.target.agrees(self.value, self.quadrant))


def _trial_weeks(scenario: Scenario, step: str | list[str]) -> int:
    """Weeks of a step's course: its longest component's trial weeks."""
    comps = [step] if isinstance(step, str) else list(step)
    return max(int(scenario.params["treatments"][c]["trial_weeks"]["value"]) for c in comps)


def _cohort(scenario: Scenario, **over) -> dict:
    """The scenario's own [cohort] table with only the target's settings changed."""
    return {**scenario.raw.get("cohort", {}), **over}


def _entry(t: Target) -> int:
    """The step an acute target's cohort enters at (its pathway starts by failed trials)."""
    pathway = {"steps": t.steps, "start": "failed_trials"}
    return entry_step(pathway, int(t.cohort.get("failed_trials", 0)))


def setting_raw(scenario: Scenario, t: Target) -> dict:
    """The scenario file (as a dict) that simulates target t's setting."""
    raw = copy.deepcopy(scenario.raw)
    raw.setdefault("scenario", {})
    raw.pop("productivity", None)
    raw["scenario"]["perspective"] = "payer"
    if t.setting == "acute":
        raw["cohort"] = _cohort(scenario, **{"start": "trd", "failed_trials": 0, **t.cohort})
        raw["pathways"] = {
            "target": {
                "steps": list(t.steps),
                # the horizon covers the steps from the cohort's entry: the last step is
                # reached by failing the ones before it; its course is measured alone
                "on_relapse": "retreat",
                "on_exhausted": "none",
                "maintenance": {"default": ["none"]},
            }
        }
        raw["scenario"]["arms"] = ["target"]
        raw["scenario"]["horizon_weeks"] = (
            sum(_trial_weeks(scenario, s) for s in t.steps[_entry(t) :]) + 1
        )
        return raw
    comps = t.components
    first = scenario.params["treatments"][comps[0]]
    # the cohort of the relapse figure's own population (issue 29: not the acute
    # effect's), on one course of it
    failed = int(t.cohort.get("failed_trials", first["relapse_prior_failures"]["value"]))
    maint = t.maintenance or [first["relapse_reference"]]
    arms = {"target": maint} if t.setting == "relapse" else {"target": maint, "versus": t.versus}
    raw["cohort"] = _cohort(scenario, start="trd", failed_trials=failed)
    raw["pathways"] = {
        # maintenance as in the relapse sources: given throughout the follow-up
        a: {"steps": [comps], "start": "first", "maintenance": {"default": m},
            "maintenance_duration": dict.fromkeys(m or [], "horizon"), "on_exhausted": "none"}
        for a, m in arms.items()
    }  # fmt: skip
    raw["scenario"]["arms"] = list(arms)
    raw["scenario"]["horizon_weeks"] = _trial_weeks(scenario, comps) + t.week + 1
    return raw


def _relapse_curve(d: pd.DataFrame, horizon: int, responders: str, course: int) -> pd.DataFrame:
    # responders of the course (a later response is natural history's, not the treatment's)
    r = d[(d.first_followup_week >= 0) & (d.first_response_week <= course)]
    if responders == "remitters":
        r = r[r.first_remission_week >= 0]
    elif responders == "partial":
        r = r[r.first_remission_week < 0]
    relapsed = r.first_relapse_week >= 0
    end = np.where(r.death_week >= 0, r.death_week, horizon)
    time = np.where(relapsed, r.first_relapse_week, end) - r.first_followup_week
    return kaplan_meier(np.asarray(time), relapsed.to_numpy()).assign(responders=len(r))


def _survival_at(curve: pd.DataFrame, week: int) -> float:
    return float(curve.survival[curve.time <= week].iloc[-1])


def measure(t: Target, scenario: Scenario, patients: int, seed: int) -> Outcome:
    """Simulate target t's setting for `scenario` (already in that setting) and measure."""
    res = simulate(scenario, patients=patients, seed=seed)
    p = with_coded_weeks(res.patient_table())
    h = scenario.horizon_weeks
    if t.setting == "acute":
        # patients who started the last step without having responded before it; the
        # measure is that first course's: response (or remission, at response or by
        # deepening) in its weeks, not a later re-treatment's or natural history's
        started = p[
            ((p.steps_used + _entry(t)) >= len(t.steps))
            & ((p.first_response_week < 0) | (p.first_response_week > p.top_step_start_week))
        ]
        top = started.top_step_start_week
        last = top + _trial_weeks(scenario, t.steps[-1])
        week = (
            started.first_remission_week
            if t.measure == "remission"
            else started.first_response_week
        )
        hit = (week > top) & (week <= last)
        value = float(hit.mean()) if len(started) else float("nan")
        return Outcome(t, value, len(started))
    course = _trial_weeks(scenario, t.components)
    curves = {a: _relapse_curve(p[p.arm == a], h, t.responders, course) for a in scenario.arms}
    frame = pd.concat([c.assign(arm=a) for a, c in curves.items()], ignore_index=True)
    s = {a: _survival_at(c, t.week) for a, c in curves.items()}
    n = int(curves["target"].responders.iloc[0])
    if t.setting == "relapse":
        return Outcome(t, 1.0 - s["target"], n, frame)
    with np.errstate(divide="ignore", invalid="ignore"):
        hr = float(np.log(s["target"]) / np.log(s["versus"]))
    return Outcome(t, hr, n, frame)


def quadrant(d_qaly: float, d_cost: float) -> str:
    """NE: more effective and more costly; SE: more effective, cheaper (dominant) ..."""
    return ("N" if d_cost > 0 else "S") + ("E" if d_qaly > 0 else "W")


def measure_design(t: Target, patients: int, seed: int, cache: dict | None = None) -> Outcome:
    """A design target: its scenario run as published (a trial, a comparison, a PSA), the
    library's parameters untouched; results shared between targets of one design."""
    cache = {} if cache is None else cache
    if ("scenario", t.scenario) not in cache:
        cache[("scenario", t.scenario)] = load_scenario(t.scenario)
    sc = cache[("scenario", t.scenario)]
    n = t.patients or patients
    s = sc.seed if seed is None else seed
    if t.setting == "trial":
        key = ("trial", t.scenario, n, s)
        if key not in cache:
            cache[key] = run_trial(sc, patients=n, seed=s)
        r = cache[key]
        if t.measure == "share":
            o = r.outcomes.set_index(["arm", "outcome", "week"]).loc[(t.arm, t.outcome, t.week)]
            return Outcome(t, float(o.share), n, mcse=float((o.high - o.low) / (2 * Z95)))
        # against any arm, the trial's control or not, by the trial table's own rule
        x = r.meets(t.arm, t.outcome, t.week)
        x0 = r.meets(t.versus[0], t.outcome, t.week)
        return Outcome(t, float(contrast(x, x0)[t.measure]), n)
    versus = t.versus[0]
    if t.measure == "p_ce":
        key = ("psa", t.scenario, t.draws, n, s)
        if key not in cache:
            space = ParameterSpace(sc)
            values, _ = space.sample(np.arange(t.draws), s)
            cache[key] = evaluate_draws(sc, values, n, s)
        d = cache[key]
        nmb = {
            a: (t.threshold * d[d.arm == a].qaly - d[d.arm == a].cost).to_numpy()
            for a in (t.arm, versus)
        }
        win = (nmb[t.arm] > nmb[versus]).astype(float)
        p = float(win.mean())
        return Outcome(t, p, n, mcse=float(np.sqrt(p * (1 - p) / len(win))))
    key = ("compare", t.scenario, n, s)
    if key not in cache:
        cache[key] = simulate(sc, patients=n, seed=s)
    summ = cache[key].per_arm.set_index("arm")
    d_cost = float(summ.cost[t.arm] - summ.cost[versus])
    d_qaly = float(summ.qaly[t.arm] - summ.qaly[versus])
    value = {"inc_cost": d_cost, "inc_qaly": d_qaly}.get(t.measure)
    if t.measure == "icer":
        value = d_cost / d_qaly if d_qaly != 0 else float("nan")
    return Outcome(t, value, n, quadrant=quadrant(d_qaly, d_cost))


def validate(
    scenario: Scenario,
    targets: list[Target],
    patients: int = PATIENTS,
    seed: int | None = None,
    progress=None,
) -> list[Outcome]:
    """Every target measured with the scenario's parameters (a design target: with its
    design scenario's, which is the library's unless the design file changes them)."""
    s = scenario.seed if seed is None else seed
    out = []
    cache: dict = {}
    for t in targets:
        if t.setting in DESIGN_SETTINGS:
            out.append(measure_design(t, patients, seed, cache))
        else:
            sc = from_dict(setting_raw(scenario, t), scenario.source)
            out.append(measure(t, sc, patients, s))
        if progress is not None:
            progress(1)
    return out


def table(outcomes: list[Outcome]) -> pd.DataFrame:
    """One row per target: model value, target, interval of agreement, pass/fail."""
    rows = []
    for o in outcomes:
        t = o.target
        lo, hi = t.bounds
        rows.append(
            {
                "id": t.id,
                "study": t.study,
                "description": t.description,
                "setting": t.setting,
                "measure": t.measure,
                "dependent": t.dependent,
                "model": o.value,
                "target": t.centre,
                "low": lo,
                "high": hi,
                "agrees": o.passed,
                "quadrant": o.quadrant,
                "measured_over": o.patients,
                "source": t.source,
                "verified": t.verified,
            }
        )
    return pd.DataFrame(rows)


VALIDATION_COLUMNS = ("id", "description", "model", "target", "low", "high", "agrees", "source")


@dataclass(eq=False, repr=False)
class ValidationResult(ResultBase):
    """Every validation target: the model's value against the published one and its
    interval of agreement (`.table`, one row per target). `outcomes` are the live
    measurements (curves included) of a fresh run, drawn one figure per target; a result
    read from a folder has none (its figures are already there)."""

    ANALYSIS: ClassVar[str] = "validation"
    MAIN: ClassVar[str] = "targets"
    TABLES: ClassVar[dict[str, Table]] = {"targets": Table("validation.csv", VALIDATION_COLUMNS)}

    manifest: dict
    targets: pd.DataFrame
    outcomes: list[Outcome] | None = field(default=None)

    @property
    def agrees(self) -> bool:
        """Whether every target agrees."""
        return bool(self.targets.agrees.all())

    def summary(self) -> str:
        """How many targets agree, and which do not."""
        t = self.targets
        lines = [f"{self.manifest['scenario']}: {int(t.agrees.sum())} of {len(t)} targets agree"]
        for r in t[~t.agrees.astype(bool)].itertuples():
            lines.append(
                f"  disagrees: {r.id}: model {number(r.model, 3)}, published "
                f"{number(r.target, 3)} (agreement {number(r.low, 3)} to {number(r.high, 3)})"
            )
        return "\n".join(lines)

    def plot(self):
        """Every target's model value against its interval of agreement."""
        from trdsim.plots import analysis as plots

        return plots.validation_overview(self.targets, scenario=self.manifest["scenario"])

    def _figures(self, folder: Path) -> list[Path]:
        from trdsim.plots import analysis as plots

        sc = self.manifest["scenario"]
        paths = [folder / "validation.png"]
        plots.validation_overview(self.targets, paths[0], scenario=sc)
        for o in self.outcomes or []:
            paths.append(folder / f"target_{o.target.id}.png")
            plots.target_figure(o, paths[-1], scenario=sc)
        return paths


def validation(
    scenario: Scenario,
    targets: list[Target],
    patients: int = PATIENTS,
    seed: int | None = None,
    progress=None,
) -> ValidationResult:
    """`validate` as a result object: the table of every target and the measurements."""
    outcomes = validate(scenario, targets, patients, seed, progress)
    m = make_manifest(scenario, ValidationResult.ANALYSIS, seed, patients)
    return ValidationResult(m, table(outcomes), outcomes)
