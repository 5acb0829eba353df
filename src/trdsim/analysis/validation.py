"""Each target simulated in its own setting (see evidence/targets.toml), and the report.

The setting is built from the scenario being checked: its parameters, with the cohort,
pathway, maintenance and horizon the target describes. Nothing here changes a
parameter; `calibration.py` does that, through the same functions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trdsim.analysis.targets import Target
from trdsim.scenario import Scenario, from_dict
from trdsim.simulate import simulate
from trdsim.survival import kaplan_meier

PATIENTS = 20_000  # per target: Monte Carlo SE of a proportion below 0.004


@dataclass(frozen=True)
class Outcome:
    """The model's number for a target, with what a figure needs."""

    target: Target
    value: float
    patients: int  # patients the measure is taken over (starters, or responders)
    curves: pd.DataFrame | None = None  # KM relapse curves: time, survival, arm

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.value) and self.target.agrees(self.value))


def _trial_weeks(scenario: Scenario, treatment: str) -> int:
    return int(scenario.params["treatments"][treatment]["trial_weeks"]["value"])


def setting_raw(scenario: Scenario, t: Target) -> dict:
    """The scenario file (as a dict) that simulates target t's setting."""
    raw = copy.deepcopy(scenario.raw)
    raw.setdefault("scenario", {})
    raw.pop("productivity", None)
    raw["scenario"]["perspective"] = "payer"
    if t.setting == "acute":
        raw["cohort"] = {"start": "trd", "failed_trials": 0, **t.cohort}
        raw["pathways"] = {
            "target": {
                "steps": list(t.steps),
                # re-treat on relapse, and a horizon of the steps' trial weeks: the last
                # step is reached only by failing the ones before it
                "on_relapse": "retreat",
                "on_exhausted": "none",
                "maintenance": {"default": ["none"]},
            }
        }
        raw["scenario"]["arms"] = ["target"]
        raw["scenario"]["horizon_weeks"] = sum(_trial_weeks(scenario, s) for s in t.steps) + 1
        return raw
    comps = t.components
    first = scenario.params["treatments"][comps[0]]
    # the cohort of the treatment's own source population, on one course of it
    failed = int(t.cohort.get("failed_trials", first["source_prior_failures"]["value"]))
    maint = t.maintenance or [first["relapse_reference"]]
    arms = {"target": maint} if t.setting == "relapse" else {"target": maint, "versus": t.versus}
    raw["cohort"] = {"start": "trd", "failed_trials": failed}
    raw["pathways"] = {
        a: {"steps": [comps], "start": "first", "maintenance": {"default": m},
            "on_exhausted": "none"}
        for a, m in arms.items()
    }  # fmt: skip
    raw["scenario"]["arms"] = list(arms)
    raw["scenario"]["horizon_weeks"] = _course_weeks(scenario, comps) + t.week + 1
    return raw


def _course_weeks(scenario: Scenario, comps: list[str]) -> int:
    return max(_trial_weeks(scenario, c) for c in comps)


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
    p = res.patients
    h = scenario.horizon_weeks
    if t.setting == "acute":
        entry = min(int(t.cohort.get("failed_trials", 0)), len(t.steps) - 1)
        started = p[(p.steps_used + entry) >= len(t.steps)]
        hit = (
            started.ever_remitted if t.measure == "remission" else started.first_followup_week >= 0
        )
        value = float(hit.mean()) if len(started) else float("nan")
        return Outcome(t, value, len(started))
    course = _course_weeks(scenario, t.components)
    curves = {a: _relapse_curve(p[p.arm == a], h, t.responders, course) for a in scenario.arms}
    frame = pd.concat([c.assign(arm=a) for a, c in curves.items()], ignore_index=True)
    s = {a: _survival_at(c, t.week) for a, c in curves.items()}
    n = int(curves["target"].responders.iloc[0])
    if t.setting == "relapse":
        return Outcome(t, 1.0 - s["target"], n, frame)
    with np.errstate(divide="ignore", invalid="ignore"):
        hr = float(np.log(s["target"]) / np.log(s["versus"]))
    return Outcome(t, hr, n, frame)


def validate(
    scenario: Scenario,
    targets: list[Target],
    patients: int = PATIENTS,
    seed: int | None = None,
    progress=None,
) -> list[Outcome]:
    """Every target measured with the scenario's parameters."""
    s = scenario.seed if seed is None else seed
    out = []
    for t in targets:
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
                "description": t.description,
                "setting": t.setting,
                "model": o.value,
                "target": t.centre,
                "low": lo,
                "high": hi,
                "agrees": o.passed,
                "measured_over": o.patients,
                "source": t.source,
                "verified": t.verified,
            }
        )
    return pd.DataFrame(rows)
