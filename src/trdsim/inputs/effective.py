"""Effective response and remission of each step of each arm, in the scenario's cohort.

What the model makes of the evidence: for a patient who reaches a step after the
failures the pathway implies (the cohort's failed trials at entry, plus one for each
earlier step that counts as a trial), the probability of responding by the end of the
step's course and the share of those responses that are remissions. Computed with the
kernel's own formulas (natural history, trial context, components' excess hazards)
as an exact expectation over the scenario's cohort distribution; dropout is left out
(it stops a component early, so the simulated rate is a little lower).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trdsim.engine import layout as L
from trdsim.inputs.arrays import (
    ModelInputs,
    _baseline_mods,
    _logistic,
    comparator_no_response,
    compile_inputs,
    natural_hazard,
    reference_population,
)
from trdsim.pathways import step_key
from trdsim.scenario import Scenario

__all__ = ["effective_table", "effects_table", "step_relapse", "step_response"]


def step_response(x: ModelInputs, scenario: Scenario, arm: str, s: int, nf: int) -> tuple:
    """(response, remission) by the end of step s at nf failed trials, cohort average."""
    ef, tx = x.ef, x.tx
    p = x.pathways[arm]
    cohort = {k: float(v["value"]) for k, v in scenario.params["cohort"].items()}
    ref = reference_population(cohort, ef)
    mods = _baseline_mods(ef, ref)
    sev = ref.z_sev * cohort["severity_sd"] + cohort["severity_mean"]
    nfi = min(nf, L.NF_MAX)
    h = natural_hazard(x.nhz[nfi] + mods, ef[L.EF_NH_WEEKS])
    c = _logistic(x.ctxz[nfi] + mods)
    comps = [int(t) for t in p.comp[s] if t >= 0]
    end = max(tx[t, L.TX_TRIAL_WEEKS] for t in comps)
    # the kernel's hazard starts in the step's first week, so a course of T weeks sees T
    # weeks of natural history and the context; each component adds its full excess
    cum = -np.log(comparator_no_response(c, h, end, ef[L.EF_CTX_FIRST], ef[L.EF_CTX_LAST]))
    # remission: each part of the cumulative hazard carries the remission share of the
    # component the kernel credits with it -- a component its own excess, the first
    # component the baseline's part (an approximation of the kernel's weekly rule)
    rem = cum * tx[comps[0], L.TX_REM_SHARE]
    for t in comps:
        weeks = tx[t, L.TX_TRIAL_WEEKS]
        ln_or = (
            tx[t, L.TX_LN_OR]
            + ef[L.EF_B_SEV] * (sev - ef[L.EF_SEV_MEAN]) * tx[t, L.TX_PSYCH]
            + ef[L.EF_B_INFL] * ref.infl * tx[t, L.TX_MONO]
        )
        q = comparator_no_response(c, h, weeks, ef[L.EF_CTX_FIRST], ef[L.EF_CTX_LAST])
        odds_ratio = np.exp(ln_or)
        xk = np.log(odds_ratio - (odds_ratio - 1.0) * q) * p.step_xmult[s]  # as the kernel
        cum = cum + xk
        rem = rem + xk * tx[t, L.TX_REM_SHARE]
    resp = 1.0 - np.exp(-cum)
    share = rem / np.maximum(cum, 1e-300)
    w = ref.weight
    return float((w * resp).sum()), float((w * resp * share).sum())


RELAPSE_WEEKS = (26, 52)  # 6 and 12 months after the relapse clock starts


def relapse_table(maint_hr: np.ndarray, cum_h: np.ndarray, weeks: int) -> np.ndarray:
    """The kernel's relapse_table (engine.kernel, a layer below would import it): for
    each follow-up row and depth (full, partial), the cumulative relapse hazard by week
    of the clock, the baseline's weekly increments times the row's hazard ratios."""
    k = np.minimum(np.arange(1, weeks + 1), cum_h.shape[0] - 1)
    inc = maint_hr[:, k, :] * (cum_h[k] - cum_h[k - 1])[None, :, None]
    out = np.zeros((maint_hr.shape[0], 2, weeks + 1))
    out[:, :, 1:] = np.cumsum(inc, axis=1).transpose(0, 2, 1)
    return out


def step_relapse(
    x: ModelInputs, scenario: Scenario, arm: str, s: int, nf: int, rel_tab: np.ndarray
) -> dict[str, float]:
    """Cumulative relapse of the step's responders (partial) and remitters, 6 and 12
    months after the relapse clock starts (the responsible component's course end), at
    nf failed trials, cohort average: the kernel's multiplier (failed trials against the
    baseline curve's population, maltreatment, flexibility, sudden gains, residual
    symptoms, the component's and the step's relapse hazard ratios) on the step's
    follow-up row (maintenance and enduring effects). The responsible component is
    taken as the step's component with the largest effect (an approximation where
    several are given together)."""
    ef, tx = x.ef, x.tx
    p = x.pathways[arm]
    cohort = {k: float(v["value"]) for k, v in scenario.params["cohort"].items()}
    ref = reference_population(cohort, ef)
    comps = [int(t) for t in p.comp[s] if t >= 0]
    t = max(comps, key=lambda c: tx[c, L.TX_LN_OR])
    lin = (
        ef[L.EF_R_FAIL] * (nf - ef[L.EF_R_NF0])
        + ef[L.EF_R_MALT] * ref.malt
        + ef[L.EF_R_FLEX] * ref.z_flex
    )
    rm = np.exp(lin) * tx[t, L.TX_RELAPSE_HR] * p.step_rhr[s]
    sg = ef[L.EF_SG_PROB] if tx[t, L.TX_PSYCH] > 0 else 0.0
    row = int(p.maint_row[s])  # the steps as written (variant 0)
    w = ref.weight / ref.weight.sum()
    out = {}
    for label, col, resid in (("responders", 1, np.exp(ef[L.EF_R_RESID])), ("remitters", 0, 1.0)):
        for weeks in RELAPSE_WEEKS:
            if weeks >= rel_tab.shape[2]:
                out[f"relapse_{weeks // 26 * 6}m_{label}"] = float("nan")
                continue
            h = rm * resid * rel_tab[row, col, weeks]
            surv = (1.0 - sg) * np.exp(-h) + sg * np.exp(-h * np.exp(ef[L.EF_R_SG]))
            out[f"relapse_{weeks // 26 * 6}m_{label}"] = float(1.0 - (w * surv).sum())
    return out


def effective_table(scenario: Scenario, inputs: ModelInputs | None = None) -> pd.DataFrame:
    """One row per arm and step the cohort can reach: failed trials, response, remission
    (for each number of failed trials the cohort enters with), and the 6- and 12-month
    relapse of the step's responders and remitters (`step_relapse`)."""
    x = compile_inputs(scenario) if inputs is None else inputs
    rows = []
    for arm in scenario.arms:
        p = x.pathways[arm]
        rel_tab = relapse_table(p.maint_hr, x.cum_h, scenario.horizon_weeks)
        for nf0 in scenario.failed_trials_shares or [scenario.failed_trials]:
            entry = int(p.entry_steps(np.array([nf0]))[0])
            nf = nf0
            for s in range(entry, p.n_steps):
                resp, rem = step_response(x, scenario, arm, s, nf)
                rows.append(
                    {
                        "arm": arm,
                        "step": s + 1,
                        "components": step_key(p.step_names[s]),
                        "failed_trials": nf,
                        "course_weeks": int(
                            max(x.tx[t, L.TX_TRIAL_WEEKS] for t in p.comp[s] if t >= 0)
                        ),
                        "response": resp,
                        "remission": rem,
                        **step_relapse(x, scenario, arm, s, nf, rel_tab),
                    }
                )
                nf += int(p.step_counts[s])
    return pd.DataFrame(rows)


def effects_table(scenario: Scenario) -> pd.DataFrame:
    """One row per treatment: how its effect is stored (relative or single-arm) and on what.

    A single-arm rate is the flagged fallback: it carries its trial's own population,
    comparator context and outcome definition into the model.
    """
    par = scenario.params
    rows = []
    for name, t in sorted(par["treatments"].items()):
        relative = t["effect"] == "relative"
        value = t["response_effect"]["value"] if relative else t["response"]["value"]
        status = t.get("evidence_status", "sufficient")
        status = "" if status == "sufficient" else status
        rows.append(
            {
                "treatment": name,
                "effect": f"{t['measure']} {value:g}" if relative else f"response {value:g}",
                "against": (
                    par["comparators"][t["comparator"]]["label"]
                    if relative
                    else "nothing (single-arm rate)"
                ),
                "outcome": par["outcomes"][t["outcome"]]["label"],
                "weeks": int(t["trial_weeks"]["value"]),
                "source_failed_trials": int(t["source_prior_failures"]["value"]),
                "flag": ", ".join(f for f in ("" if relative else "single-arm", status) if f),
            }
        )
    return pd.DataFrame(rows)
