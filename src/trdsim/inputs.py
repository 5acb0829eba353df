"""Scenario -> the numeric arrays the kernel reads (one-way: nothing flows back).

Two things happen here besides unit conversion:

* **Individual intercepts from marginal rates.** A trial's response rate is a cohort
  average. Each patient's response log-odds is alpha + sum(beta * x); alpha is solved
  (Newton's method in a bracket) so that the mean response probability over the scenario's cohort
  distribution, with the trial population's number of failed trials, equals the
  published rate. The mean is an exact expectation, not a sample average: the
  attributes that enter are two binary flags and two independent normals, so it is a
  sum over the four flag combinations of Gauss-Hermite quadrature in the normals.
  alpha therefore does not depend on any sample, seed or run size, and computing it
  takes microseconds, which a PSA needs (thousands of parameter sets).
* **Relapse curves as population averages.** Each treatment's relapse curve (Weibull
  through its published points) describes all its responders. Patients differ by
  hazard ratios (residual symptoms, maltreatment, flexibility, sudden gains); a
  multiplier c is solved so that the responder-weighted mean survival at the curve's
  last published point equals the published value.
"""

from dataclasses import dataclass
from functools import cache

import numba
import numpy as np

from trdsim.economics import discount_factors
from trdsim.engine import layout as L
from trdsim.evidence import weekly_mortality_hazard
from trdsim.pathways import CompiledPathway, compile_pathway
from trdsim.scenario import Scenario

QUADRATURE_NODES = 32  # per normal attribute; exact to ~1e-15 for these integrands


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


@dataclass(frozen=True)
class ReferencePopulation:
    """The cohort distribution as weighted points (flags x quadrature nodes).

    z_sev and z_flex are standard-normal nodes of severity and flexibility; a normal
    attribute that no active effect uses collapses to one node, so the default model
    needs 4 x 32 points and the general case 4 x 32 x 32.
    """

    weight: np.ndarray  # sums to 1
    malt: np.ndarray
    infl: np.ndarray
    z_sev: np.ndarray
    z_flex: np.ndarray


@cache
def _hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for E[f(Z)], Z standard normal (probabilists' Gauss-Hermite)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / w.sum()


def reference_population(scenario: Scenario, ef: np.ndarray) -> ReferencePopulation:
    """Weighted points representing the scenario's cohort attributes (see module doc)."""
    c = {k: _v(p) for k, p in scenario.params["cohort"].items()}
    one = (np.zeros(1), np.ones(1))
    sev = _hermite(QUADRATURE_NODES) if ef[L.EF_B_SEV] != 0.0 and c["severity_sd"] > 0 else one
    uses_flex = ef[L.EF_B_FLEX] != 0.0 or ef[L.EF_R_FLEX] != 0.0
    flex = _hermite(QUADRATURE_NODES) if uses_flex else one
    pm, pi = c["maltreatment_share"], c["inflammation_share"]
    m, i, zs, zf = np.meshgrid([0.0, 1.0], [0.0, 1.0], sev[0], flex[0], indexing="ij")
    wm, wi, ws, wf = np.meshgrid([1 - pm, pm], [1 - pi, pi], sev[1], flex[1], indexing="ij")
    return ReferencePopulation(
        weight=(wm * wi * ws * wf).ravel(),
        malt=m.ravel(),
        infl=i.ravel(),
        z_sev=zs.ravel(),
        z_flex=zf.ravel(),
    )


def _linear_response(
    ef: np.ndarray, ref: ReferencePopulation, sev_sd: float, mono: float, psych: float
) -> np.ndarray:
    """sum(beta * x) at the reference points, without the failed-trials term."""
    return (
        ef[L.EF_B_MALT] * ref.malt
        + ef[L.EF_B_INFL] * ref.infl * mono
        + ef[L.EF_B_SEV] * sev_sd * ref.z_sev * psych
        + ef[L.EF_B_FLEX] * ref.z_flex
    )


@numba.njit(inline="always", cache=True)
def _bracketed_newton_step(x, f, df, lo, hi, rising):
    """One Newton step for f(x) = 0 kept inside [lo, hi] (bisection if it leaves).

    rising: f increases in x, so f < 0 moves the lower end up. Returns (next x, lo, hi,
    converged).
    """
    if (f < 0.0) == rising:
        lo = x
    else:
        hi = x
    nxt = x - f / df if df != 0.0 else 0.5 * (lo + hi)
    if not lo < nxt < hi:
        nxt = 0.5 * (lo + hi)
    return nxt, lo, hi, abs(nxt - x) <= 1e-14 * (1.0 + abs(x))


@numba.njit(cache=True)
def _solve_intercept(p, eta, weight):
    """alpha with sum(weight * logistic(alpha + eta)) == p: Newton inside a bisection bracket.

    The left side rises strictly in alpha, so the bracket [-40, 40] always holds the root
    for 0 < p < 1; a Newton step leaving the bracket is replaced by bisection.
    """
    lo, hi = -40.0, 40.0
    mean_eta = 0.0
    for j in range(eta.shape[0]):
        mean_eta += weight[j] * eta[j]
    x = min(max(np.log(p / (1.0 - p)) - mean_eta, lo), hi)
    for _ in range(200):
        f = -p
        df = 0.0
        for j in range(eta.shape[0]):
            r = 1.0 / (1.0 + np.exp(-(x + eta[j])))
            f += weight[j] * r
            df += weight[j] * r * (1.0 - r)
        if f == 0.0:
            return x
        x, lo, hi, done = _bracketed_newton_step(x, f, df, lo, hi, True)
        if done:
            return x
    return x


@numba.njit(cache=True)
def _solve_log_multiplier(w, lin, shares, ln_hrs, log_s, surv):
    """log c with sum_j w_j sum_k share_k surv**(c exp(lin_j + ln_hr_k)) == surv.

    The left side falls strictly in log c; Newton inside the bracket [-30, 30].
    """
    lo, hi = -30.0, 30.0
    x = 0.0
    for _ in range(200):
        f = -surv
        df = 0.0
        ex = np.exp(x)
        for j in range(w.shape[0]):
            if w[j] == 0.0:
                continue
            for k in range(shares.shape[0]):
                if shares[k] > 0.0:
                    e = ex * np.exp(lin[j] + ln_hrs[k]) * log_s
                    s = w[j] * shares[k] * np.exp(e)
                    f += s
                    df += s * e
        if f == 0.0:
            return x
        x, lo, hi, done = _bracketed_newton_step(x, f, df, lo, hi, False)
        if done:
            return x
    return x


def _solve_relapse_multiplier(
    surv: float, weights: np.ndarray, lin: np.ndarray, mix: list[tuple[float, float]]
) -> float:
    """c with weighted mean over patients and mixture (share, ln HR) of surv**(c*HR) == surv."""
    w = weights / weights.sum()
    shares = np.array([s for s, _ in mix])
    ln_hrs = np.array([h for _, h in mix])
    return float(np.exp(_solve_log_multiplier(w, lin, shares, ln_hrs, np.log(surv), surv)))


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
    ref = reference_population(scenario, ef)
    sev_sd = _v(scenario.params["cohort"]["severity_sd"])
    lin_relapse = ef[L.EF_R_MALT] * ref.malt + ef[L.EF_R_FLEX] * ref.z_flex

    tx = np.zeros((len(used_t), L.TX_NCOL))
    for k, name in enumerate(used_t):
        t = scenario.params["treatments"][name]
        v = {f: _v(p) for f, p in t.items() if isinstance(p, dict)}
        mono, psych = float(t["monoaminergic"]), float(t["psychotherapy"])
        eta = _linear_response(ef, ref, sev_sd, mono, psych)
        alpha = _solve_intercept(v["response"], eta, ref.weight)
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
        responders = ref.weight / (1.0 + np.exp(-(alpha + eta)))
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
