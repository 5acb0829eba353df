"""Scenario -> the numeric arrays the kernel reads (one-way: nothing flows back).

Two things happen here besides unit conversion:

* **Individual intercepts from marginal rates.** A trial's response rate is a cohort
  average. Each patient's response log-odds is alpha + sum(beta * x); alpha is solved
  (Brent's method) so that the mean response probability over a reference cohort --
  the scenario's cohort distribution with the trial population's number of failed
  trials -- equals the published rate. The reference cohort is a fixed sample
  (REFERENCE_PATIENTS, own seed) so alpha does not depend on the run's size or seed.
* **Relapse curves as population averages.** Each treatment's relapse curve (Weibull
  through its published points) describes all its responders. Patients differ by
  hazard ratios (residual symptoms, maltreatment, flexibility, sudden gains); a
  multiplier c is solved so that the responder-weighted mean survival at the curve's
  last published point equals the published value.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from trdsim.cohort import sample_cohort
from trdsim.economics import discount_factors
from trdsim.engine import layout as L
from trdsim.evidence import weekly_mortality_hazard
from trdsim.pathways import CompiledPathway, compile_pathway
from trdsim.scenario import Scenario

REFERENCE_PATIENTS = 20_000
REFERENCE_SEED = 0x7D5  # fixed: calibration must not move with the run's seed


@dataclass(frozen=True)
class ModelInputs:
    """Everything numeric the kernel needs for one scenario."""

    treatments: list[str]
    tx: np.ndarray  # (n_treatments, TX_NCOL)
    ef: np.ndarray  # (EF_NCOL,)
    mort_h: np.ndarray  # (2, ages) weekly hazard
    cum_h: (
        np.ndarray
    )  # (n_treatments, horizon + 1) cumulative relapse hazard by weeks since the course
    disc_q: np.ndarray  # (horizon,) discount factor of week w for QALYs
    qaly_weight: np.ndarray  # (horizon,) disc_q / 52: QALYs of a week at utility 1
    disc_c: np.ndarray  # (horizon,) for costs
    pathways: dict[str, CompiledPathway]


def _v(p: dict) -> float:
    return float(p["value"])


def weibull_through(
    t1: float, p1: float, t2: float | None, p2: float | None
) -> tuple[float, float]:
    """(scale, shape) of the Weibull whose cumulative relapse passes through the points.

    With one point the shape is 1 (exponential).
    """
    h1 = -np.log1p(-p1)
    if t2 is None:
        return t1 / h1, 1.0
    h2 = -np.log1p(-p2)
    shape = (np.log(h2) - np.log(h1)) / (np.log(t2) - np.log(t1))
    return t1 / h1 ** (1.0 / shape), shape


def _effects(scenario: Scenario) -> np.ndarray:
    e = {k: _v(p) for k, p in scenario.params["effects"].items()}
    u = {k: _v(p) for k, p in scenario.params["utilities"].items()}
    ef = np.zeros(L.EF_NCOL)
    ef[L.EF_B_FAIL] = np.log(e["response_or_per_prior_failure"])
    ef[L.EF_B_MALT] = np.log(e["response_or_maltreatment"])
    ef[L.EF_B_INFL] = np.log(e["response_or_inflammation_monoaminergic"])
    ef[L.EF_B_SEV] = e["response_logodds_per_severity_point_psychotherapy"]
    ef[L.EF_B_FLEX] = np.log(e["response_or_per_sd_flexibility"])
    ef[L.EF_R_FAIL] = np.log(e["relapse_hr_per_prior_failure"])
    ef[L.EF_R_RESID] = np.log(e["relapse_hr_residual_symptoms"])
    ef[L.EF_R_MALT] = np.log(e["relapse_hr_maltreatment"])
    ef[L.EF_R_FLEX] = np.log(e["relapse_hr_per_sd_flexibility"])
    ef[L.EF_SG_PROB] = e["sudden_gain_probability"]
    ef[L.EF_R_SG] = np.log(e["relapse_hr_sudden_gain"])
    ef[L.EF_MORT_HR] = _v(scenario.params["mortality"]["depressed_hr"])
    ef[L.EF_U_DEP] = u["depressed"]
    ef[L.EF_U_RESP] = u["response"]
    ef[L.EF_U_REM] = u["remission"]
    ef[L.EF_SEV_MEAN] = _v(scenario.params["cohort"]["severity_mean"])
    if "productivity" in scenario.params:
        prod = scenario.params["productivity"]
        ef[L.EF_PROD_DEP] = _v(prod["depressed_week"])
        ef[L.EF_PROD_RESP] = _v(prod["response_week"])
        ef[L.EF_PROD_REM] = _v(prod["remission_week"])
    return ef


def _weekly_cost(entry: dict, unit: dict, count: float, weeks: float) -> float:
    """Sessions of the entry's resource spread over `weeks`, plus its weekly drug cost."""
    c = count * _v(unit[entry["resource"]]) / weeks if "resource" in entry and count else 0.0
    if "extra_resource" in entry:
        c += _v(entry["extra_sessions"]) * _v(unit[entry["extra_resource"]]) / weeks
    if "drug_per_week" in entry:
        c += _v(unit[entry["drug_per_week"]])
    return c


def _maintenance_table(scenario: Scenario, names: list[str]) -> np.ndarray:
    unit = scenario.params["unit_costs"]
    mx = np.zeros((len(names), L.MX_NCOL))
    for j, name in enumerate(names):
        m = scenario.params["maintenance"][name]
        mx[j, L.MX_HR] = _v(m["relapse_hr"])
        mx[j, L.MX_HR_PARTIAL] = _v(m.get("relapse_hr_partial", m["relapse_hr"]))
        mx[j, L.MX_DURATION] = _v(m["duration_weeks"])
        mx[j, L.MX_COST_WEEK] = _weekly_cost(m, unit, _v(m["sessions_per_week"]), 1.0)
    return mx


def _linear_response(ef: np.ndarray, ref, mono: float, psych: float) -> np.ndarray:
    """sum(beta * x) over the reference cohort, without the failed-trials term."""
    return (
        ef[L.EF_B_MALT] * ref.maltreatment
        + ef[L.EF_B_INFL] * ref.inflammation * mono
        + ef[L.EF_B_SEV] * (ref.severity - ef[L.EF_SEV_MEAN]) * psych
        + ef[L.EF_B_FLEX] * ref.flexibility
    )


def _solve_intercept(p: float, eta: np.ndarray) -> float:
    def gap(alpha: float) -> float:
        return float(np.mean(1.0 / (1.0 + np.exp(-(alpha + eta))))) - p

    return brentq(gap, -40.0, 40.0, xtol=1e-12)


def _solve_relapse_multiplier(
    surv: float, weights: np.ndarray, lin: np.ndarray, mix: list[tuple[float, float]]
) -> float:
    """c with weighted mean over patients and mixture (share, ln HR) of surv**(c*HR) == surv."""
    w = weights / weights.sum()
    log_s = np.log(surv)

    def gap(log_c: float) -> float:
        total = 0.0
        for share, ln_hr in mix:
            if share > 0.0:
                total += share * float(np.sum(w * np.exp(np.exp(log_c + lin + ln_hr) * log_s)))
        return total - surv

    return float(np.exp(brentq(gap, -30.0, 30.0, xtol=1e-12)))


def compile_inputs(scenario: Scenario) -> ModelInputs:
    """Compile a validated scenario into kernel arrays."""
    used_t = sorted({t for a in scenario.arms for t in scenario.pathways[a]["steps"]})
    used_m = sorted(
        {"none"}
        | {
            m
            for a in scenario.arms
            for lst in scenario.pathways[a]["maintenance"].values()
            for m in lst
        }
        | {scenario.params["treatments"][t]["relapse_reference"] for t in used_t}
    )
    ef = _effects(scenario)
    mx = _maintenance_table(scenario, used_m)
    unit = scenario.params["unit_costs"]
    ref = sample_cohort(scenario, REFERENCE_PATIENTS, REFERENCE_SEED)
    lin_relapse = ef[L.EF_R_MALT] * ref.maltreatment + ef[L.EF_R_FLEX] * ref.flexibility

    tx = np.zeros((len(used_t), L.TX_NCOL))
    for k, name in enumerate(used_t):
        t = scenario.params["treatments"][name]
        v = {f: _v(p) for f, p in t.items() if isinstance(p, dict)}
        mono, psych = float(t["monoaminergic"]), float(t["psychotherapy"])
        eta = _linear_response(ef, ref, mono, psych)
        alpha = _solve_intercept(v["response"], eta)
        scale, shape = weibull_through(
            v["relapse_t1"], v["relapse_p1"], v.get("relapse_t2"), v.get("relapse_p2")
        )
        rem_share = v["remission"] / v["response"]
        t_cal = v.get("relapse_t2", v["relapse_t1"])
        surv = float(np.exp(-((t_cal / scale) ** shape)))
        mix = [(rem_share, 0.0), (1.0 - rem_share, ef[L.EF_R_RESID])]
        if psych:
            sg = ef[L.EF_SG_PROB]
            mix = [(s * (1.0 - sg), h) for s, h in mix] + [
                (s * sg, h + ef[L.EF_R_SG]) for s, h in mix
            ]
        responders = 1.0 / (1.0 + np.exp(-(alpha + eta)))
        tx[k, L.TX_ALPHA] = alpha
        tx[k, L.TX_REM_SHARE] = rem_share
        tx[k, L.TX_TRIAL_WEEKS] = v["trial_weeks"]
        tx[k, L.TX_ONSET_FIRST] = v["onset_first_week"]
        tx[k, L.TX_ONSET_LAST] = v["onset_last_week"]
        tx[k, L.TX_DROPOUT] = v["dropout"] / (1.0 - v["response"])
        tx[k, L.TX_W_SCALE] = scale
        tx[k, L.TX_W_SHAPE] = shape
        tx[k, L.TX_REF_HR] = mx[used_m.index(t["relapse_reference"]), L.MX_HR]
        tx[k, L.TX_REF_FAIL] = v["trial_prior_failures"]
        tx[k, L.TX_MONO] = mono
        tx[k, L.TX_PSYCH] = psych
        tx[k, L.TX_COST_WEEK] = _weekly_cost(t, unit, v["sessions"], v["trial_weeks"])
        tx[k, L.TX_DISUTILITY] = v["disutility"]
        tx[k, L.TX_RELAPSE_C] = _solve_relapse_multiplier(surv, responders, lin_relapse, mix)

    h = scenario.horizon_weeks
    pathways = {
        a: compile_pathway(scenario.pathways[a], used_t, used_m, mx, h) for a in scenario.arms
    }
    weeks = np.arange(h + 1, dtype=np.float64)
    cum_h = (weeks[None, :] / tx[:, L.TX_W_SCALE, None]) ** tx[:, L.TX_W_SHAPE, None]
    disc_q = discount_factors(scenario.discount_qalys, h)
    return ModelInputs(
        treatments=used_t,
        tx=tx,
        ef=ef,
        mort_h=weekly_mortality_hazard(scenario.life_table),
        cum_h=cum_h,
        disc_q=disc_q,
        qaly_weight=disc_q / 52.0,
        disc_c=discount_factors(scenario.discount_costs, h),
        pathways=pathways,
    )
