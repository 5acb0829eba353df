"""A randomised trial's design run as a scenario: outcomes at the assessment weeks among
all randomised, the between-arm contrasts, and the economics over the follow-up.

The scenario's `[trial]` section names the control arm, the assessment weeks and the
outcome definitions (see `scenario.Parser.trial`). Every arm is simulated for the same
randomised cohort (common random numbers), so contrasts are paired. An outcome is a
share of *all randomised* patients (intention to treat): the dead, those who dropped out
and those not yet responding all count as not meeting it. The model has one response
state and one remission state, so every response definition (BDI-II, MADRS, QIDS ...)
is assessed as the model's response (response or remission at the assessment week), and
every remission definition as its remission; the definition's name is kept so that a
reader sees which published figure a row stands for.

Intervals are Monte Carlo intervals (the simulation's own sampling error, 95 %), not a
trial's confidence intervals: they shrink with more simulated patients.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trdsim.analysis.compare import Result, simulate
from trdsim.engine import layout as L
from trdsim.inputs.arrays import ModelInputs
from trdsim.scenario import Scenario
from trdsim.simulation.run import state_column

__all__ = ["Z95", "TrialResult", "contrast", "meets", "run_trial"]

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


@dataclass(frozen=True)
class TrialResult:
    """Outcomes per arm and week, contrasts against the control, and the economics."""

    scenario: Scenario
    design: dict  # the validated [trial] section
    outcomes: pd.DataFrame  # arm, outcome, kind, week, share, low, high, patients
    contrasts: pd.DataFrame  # arm, versus, outcome, week, difference (+ interval), odds ratio
    result: Result  # the simulation: summary, incremental, trace, patients

    @property
    def summary(self) -> pd.DataFrame:
        return self.result.per_arm

    @property
    def incremental(self) -> pd.DataFrame:
        return self.result.incremental

    def meets(self, arm: str, outcome: str, week: int) -> np.ndarray:
        """Each randomised patient of `arm`: meets `outcome` at `week` (0/1)."""
        p = self.result.patient_table()
        kind = self.scenario.params["outcomes"][outcome]["kind"]
        return meets(p.loc[p.arm == arm, state_column(week)].to_numpy(), kind)

    def write(self, folder: Path, manifest: dict | None = None) -> list[Path]:
        """trial_outcomes.csv, trial_contrasts.csv, summary.csv, incremental.csv,
        trial_design.json and the manifest (given, or a minimal one) in `folder`, whole or
        not at all (`store.result.write_folder`)."""
        from trdsim.store.result import write_folder

        files = {
            "trial_outcomes.csv": self.outcomes,
            "trial_contrasts.csv": self.contrasts,
            "summary.csv": self.summary,
            "incremental.csv": self.incremental,
        }

        def write(stage: Path) -> list[str]:
            for name, df in files.items():
                df.to_csv(stage / name, index=False)
            (stage / "trial_design.json").write_text(json.dumps(self.design, indent=2) + "\n")
            return [*files, "trial_design.json"]

        return write_folder(folder, write, manifest or {"analysis": "trial"})


def meets(state: np.ndarray, kind: str) -> np.ndarray:
    """Whether a patient in clinical `state` meets an outcome of `kind` (0/1)."""
    if kind == "remission":
        return (state == L.REMISSION).astype(np.float64)
    return ((state == L.RESPONSE) | (state == L.REMISSION)).astype(np.float64)


def contrast(x: np.ndarray, x0: np.ndarray) -> dict:
    """Paired contrast of two 0/1 outcome vectors of the same patients: difference in
    shares and odds ratio, each with a 95 % Monte Carlo interval (delta method for the
    log odds ratio, with the pairing's covariance)."""
    n = len(x)
    p1, p0 = float(x.mean()), float(x0.mean())
    d = x - x0
    se_d = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    row = {
        "difference": p1 - p0,
        "difference_low": p1 - p0 - Z95 * se_d,
        "difference_high": p1 - p0 + Z95 * se_d,
    }
    if 0.0 < p1 < 1.0 and 0.0 < p0 < 1.0:
        ln_or = np.log(p1 / (1 - p1)) - np.log(p0 / (1 - p0))
        cov = float(np.cov(x, x0)[0, 1]) / n if n > 1 else 0.0
        v1, v0 = p1 * (1 - p1), p0 * (1 - p0)  # variances of one patient's outcome
        var = 1 / (n * v1) + 1 / (n * v0) - 2 * cov / (v1 * v0)
        se = float(np.sqrt(max(var, 0.0)))
        row |= {
            "odds_ratio": float(np.exp(ln_or)),
            "odds_ratio_low": float(np.exp(ln_or - Z95 * se)),
            "odds_ratio_high": float(np.exp(ln_or + Z95 * se)),
        }
    else:
        row |= {"odds_ratio": np.nan, "odds_ratio_low": np.nan, "odds_ratio_high": np.nan}
    return row


def run_trial(
    scenario: Scenario,
    patients: int | None = None,
    seed: int | None = None,
    inputs: ModelInputs | None = None,
    progress=None,
) -> TrialResult:
    """Simulate the trial `scenario` describes; ValueError if it has no [trial] section."""
    design = scenario.trial
    if design is None:
        raise ValueError(
            f"scenario '{scenario.name}' has no [trial] section (control, assess_weeks, outcomes)"
        )
    res = simulate(
        scenario,
        patients=patients,
        seed=seed,
        progress=progress,
        observe=design["assess_weeks"],
        inputs=inputs,
    )
    p = res.patient_table()
    by_arm = {a: p[p.arm == a] for a in scenario.arms}
    control = design["control"]
    rows, cons = [], []
    for o in design["outcomes"]:
        kind = scenario.params["outcomes"][o]["kind"]
        for w in design["assess_weeks"]:
            x = {a: meets(d[state_column(w)].to_numpy(), kind) for a, d in by_arm.items()}
            for a in scenario.arms:
                n = len(x[a])
                share = float(x[a].mean())
                half = Z95 * np.sqrt(share * (1 - share) / n)
                rows.append(
                    {
                        "arm": a,
                        "outcome": o,
                        "kind": kind,
                        "week": w,
                        "share": share,
                        "low": max(share - half, 0.0),
                        "high": min(share + half, 1.0),
                        "patients": n,
                    }
                )
                if a != control:
                    cons.append(
                        {"arm": a, "versus": control, "outcome": o, "week": w}
                        | contrast(x[a], x[control])
                    )
    return TrialResult(scenario, dict(design), pd.DataFrame(rows), pd.DataFrame(cons), res)
