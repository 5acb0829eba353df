"""Scenario -> the numeric arrays the kernel reads (one-way: nothing flows back).

What happens here besides unit conversion (see the kernel's docstring for how the
arrays are used):

* **Two baselines, declining once with failed trials.** Natural history is a weekly
  response hazard in usual care; a new course adds a trial-context (nonspecific)
  response, the response of the comparator arms that effects are measured against.
  Each comes from one source population; both fall by the same odds ratio per failed
  trial (and with a chronic episode), applied to them and to nothing else.
* **Relative effects on the comparator baseline.** A treatment's effect is stored as
  reported (OR, RR or risk difference against a named comparator, at the course's
  time point). RR and RD become the odds ratio they imply at the source population's
  baseline; a single-arm rate (the flagged fallback) becomes the odds ratio of that
  rate against the baseline of its own source population. The odds ratio then
  applies to each modelled patient's own baseline.
* **Individual intercepts from population rates.** Patient attributes act as odds
  ratios on the baselines, centred on the population the evidence comes from (the
  library's default cohort): an intercept per number of failed trials makes the mean
  over that population equal the published rate. The mean is an exact expectation
  (flag combinations x Gauss-Hermite quadrature in the normal attributes), not a
  sample average, so it depends on no sample or seed and takes microseconds.
* **One relapse model.** One baseline relapse curve (Weibull) by weeks since the
  relapse clock started; each treatment's responders carry a hazard ratio on it,
  derived from the treatment's own relapse evidence: the ratio that makes the
  responder-weighted mean survival of the relapse figure's own population (its failed
  trials, remitters or responders at entry: relapse_prior_failures, relapse_entry --
  not the acute effect's population), under the maintenance it was measured with,
  equal the published value at the last published point. The per-failure gradient
  then acts once, from each patient's own count. A completed course with an enduring
  effect multiplies the follow-up rows of its steps (pathways.compile_pathway).
* **Price years.** Every cost is converted from its own price year to the scenario's
  with the setting's price index.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property

import numba
import numpy as np

from trdsim import schema
from trdsim.economics import discount_factors
from trdsim.engine import layout as L
from trdsim.evidence import load_library, price_factor, weekly_mortality_hazard
from trdsim.pathways import (
    USUAL_CARE,
    CompiledPathway,
    compile_pathway,
    compile_pathway_draws,
    entry_step,
    maintenance_for,
    shape_multiplier,
    step_key,
)
from trdsim.scenario import SELF_HARM_COST, Scenario

__all__ = [
    "Baselines",
    "DrawInputs",
    "DrawPathway",
    "ModelInputs",
    "ReferencePopulation",
    "baselines",
    "comparator_no_response",
    "compile_draws",
    "compile_inputs",
    "cost_parts",
    "natural_hazard",
    "params_with_values",
    "reference_population",
    "response_log_odds_ratio",
    "self_harm_cost_week",
    "stack_inputs",
    "used_parameters",
    "weibull_through",
]

QUADRATURE_NODES = 32  # per normal attribute; exact to ~1e-15 for these integrands
P_CLIP = 1e-9  # a rate implied by an RR or RD is kept this far inside (0, 1): finite logit


@dataclass(frozen=True)
class ModelInputs:
    """Everything numeric the kernel needs for one scenario."""

    treatments: list[str]
    tx: np.ndarray  # (n_treatments, TX_NCOL)
    maintenance: list[str]  # the maintenance options the arms use
    mx: np.ndarray  # (maintenance options, MX_NCOL)
    ef: np.ndarray  # (EF_NCOL,)
    nhz: np.ndarray  # (NF_MAX + 1,) natural-history log-odds intercept by failed trials
    ctxz: np.ndarray  # (NF_MAX + 1,) trial-context log-odds intercept by failed trials
    mort_h: np.ndarray  # (2, ages) weekly hazard
    cum_h: np.ndarray  # (horizon + 1,) baseline cumulative relapse hazard by week of clock
    disc_q: np.ndarray  # (horizon,) discount factor of week w for QALYs
    qaly_weight: np.ndarray  # (horizon,) disc_q / 52: QALYs of a week at utility 1
    disc_c: np.ndarray  # (horizon,) for costs
    pathways: dict[str, CompiledPathway]

    @cached_property
    def cum_disc_c(self) -> np.ndarray:
        """(horizon + 1,) discounted cost-weeks before each week: a segment of weeks
        a .. b - 1 at one weekly cost c costs c x (cum[b] - cum[a])."""
        return np.concatenate(([0.0], np.cumsum(self.disc_c)))

    @cached_property
    def cum_qaly_weight(self) -> np.ndarray:
        """(horizon + 1,) QALYs at utility 1 before each week (as `cum_disc_c`)."""
        return np.concatenate(([0.0], np.cumsum(self.qaly_weight)))


@dataclass(frozen=True)
class DrawPathway:
    """One arm's pathway arrays for several parameter draws: those that depend on the
    parameters (relapse HRs, maintenance tables, usual care) stacked with the draw as
    leading axis; the structure (components, variants, rules) is the draws' own, shared."""

    structure: CompiledPathway  # the first draw's: structure and Python-side methods
    step_xmult: np.ndarray  # (draws, rows)
    step_rhr: np.ndarray
    maint_hr: np.ndarray  # (draws, rows, horizon + 1, 2)
    maint_cost: np.ndarray  # (draws, rows, horizon + 1)
    maint_last: np.ndarray  # (draws, rows, slots)
    usual_cost: np.ndarray  # (draws,)
    usual_disutility: np.ndarray

    def __getattr__(self, name: str):
        # comp, n_steps, step_counts, on_relapse, on_exhausted, entry_steps, variants_of
        if name.startswith("__") or name == "structure":  # copy and pickle probe these
            raise AttributeError(name)
        return getattr(self.structure, name)


@dataclass(frozen=True)
class DrawInputs:
    """Compiled inputs of several parameter draws of one scenario (see DrawPathway):
    tx, mx, ef, nhz, ctxz and cum_h stacked by draw; life table and discounting shared."""

    first: ModelInputs
    tx: np.ndarray  # (draws, n_treatments, TX_NCOL)
    mx: np.ndarray  # (draws, maintenance options, MX_NCOL)
    ef: np.ndarray  # (draws, EF_NCOL)
    nhz: np.ndarray
    ctxz: np.ndarray
    cum_h: np.ndarray  # (draws, horizon + 1)
    pathways: dict[str, DrawPathway]

    def __getattr__(self, name: str):
        # treatments, maintenance, mort_h, disc_q, qaly_weight, disc_c, cum_disc_c,
        # cum_qaly_weight
        if name.startswith("__") or name == "first":  # copy and pickle probe these
            raise AttributeError(name)
        return getattr(self.first, name)


_SHARED = ("mort_h", "disc_q", "qaly_weight", "disc_c")
_SHARED_PATHWAY = ("comp", "step_counts", "maint_row", "maint_opt", "n_steps", "on_relapse",
                   "on_exhausted")  # fmt: skip


def stack_inputs(draws: list[ModelInputs]) -> DrawInputs:
    """Stack the compiled inputs of parameter draws of one scenario for one kernel call.

    Only parameter values may differ between draws; ValueError if the structure does.
    """
    first = draws[0]

    def equal(u, v) -> bool:
        # compiled structures are shared objects between draws: identity settles most
        return u is v or np.array_equal(u, v)

    for x in draws[1:]:
        same = x.treatments == first.treatments and x.maintenance == first.maintenance
        same = same and all(equal(getattr(x, k), getattr(first, k)) for k in _SHARED)
        for a, p in x.pathways.items():
            q = first.pathways[a]
            same = same and all(equal(getattr(p, k), getattr(q, k)) for k in _SHARED_PATHWAY)
        if not same:
            raise ValueError("draws to stack differ in structure, not only in values")

    def stack(get) -> np.ndarray:
        return np.ascontiguousarray(np.stack([get(x) for x in draws]))

    pathways = {
        a: DrawPathway(
            structure=p,
            step_xmult=stack(lambda x, a=a: x.pathways[a].step_xmult),
            step_rhr=stack(lambda x, a=a: x.pathways[a].step_rhr),
            maint_hr=stack(lambda x, a=a: x.pathways[a].maint_hr),
            maint_cost=stack(lambda x, a=a: x.pathways[a].maint_cost),
            maint_last=stack(lambda x, a=a: x.pathways[a].maint_last),
            usual_cost=np.array([x.pathways[a].usual_cost for x in draws]),
            usual_disutility=np.array([x.pathways[a].usual_disutility for x in draws]),
        )
        for a, p in first.pathways.items()
    }
    return DrawInputs(
        first=first,
        tx=stack(lambda x: x.tx),
        mx=stack(lambda x: x.mx),
        ef=stack(lambda x: x.ef),
        nhz=stack(lambda x: x.nhz),
        ctxz=stack(lambda x: x.ctxz),
        cum_h=stack(lambda x: x.cum_h),
        pathways=pathways,
    )


def _v(p: dict) -> float:
    return float(p["value"])


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _logistic(z):
    return 1.0 / (1.0 + np.exp(-z))


def weibull_through(
    t1: float, p1: float, t2: float | None, p2: float | None
) -> tuple[float, float]:
    """(scale, shape) of the Weibull whose cumulative relapse passes through the points.

    With one point the shape is 1 (exponential).
    """
    h1 = -np.log1p(-p1)
    if t2 is None:
        return t1 / h1, 1.0
    assert p2 is not None, "a second time needs its probability"
    h2 = -np.log1p(-p2)
    shape = (np.log(h2) - np.log(h1)) / (np.log(t2) - np.log(t1))
    return t1 / h1 ** (1.0 / shape), shape


def _effects(scenario: Scenario) -> np.ndarray:
    par = scenario.params
    e = {k: _v(p) for k, p in par["effects"].items()}
    u = {k: _v(p) for k, p in par["utilities"].items()}
    nh = {k: _v(p) for k, p in par["natural_history"].items()}
    ctx = {k: _v(p) for k, p in par["trial_context"].items()}
    rb = {k: _v(p) for k, p in par["relapse_baseline"].items()}
    ef = np.zeros(L.EF_NCOL)
    ef[L.EF_B_MALT] = np.log(e["response_or_maltreatment"])
    ef[L.EF_B_INFL] = np.log(e["response_or_inflammation_monoaminergic"])
    ef[L.EF_B_SEV] = e["response_logodds_per_severity_point_psychotherapy"]
    ef[L.EF_B_FLEX] = np.log(e["response_or_per_sd_flexibility"])
    ef[L.EF_B_CHRONIC] = np.log(e["response_or_chronic_episode"])
    ef[L.EF_R_FAIL] = np.log(e["relapse_hr_per_prior_failure"])
    ef[L.EF_R_RESID] = np.log(e["relapse_hr_residual_symptoms"])
    ef[L.EF_R_MALT] = np.log(e["relapse_hr_maltreatment"])
    ef[L.EF_R_FLEX] = np.log(e["relapse_hr_per_sd_flexibility"])
    ef[L.EF_SG_PROB] = e["sudden_gain_probability"]
    ef[L.EF_R_SG] = np.log(e["relapse_hr_sudden_gain"])
    ef[L.EF_MORT_HR] = _v(par["mortality"]["nonsuicide_depressed_hr"])
    ef[L.EF_SUICIDE_H] = _v(par["mortality"]["suicide_weekly_hazard_depressed"])
    ef[L.EF_U_DEP] = u["depressed"]
    ef[L.EF_U_RESP] = u["response"]
    ef[L.EF_U_REM] = u["remission"]
    ef[L.EF_SEV_MEAN] = _reference_cohort()["severity_mean"]
    sc = par["state_costs"][scenario.setting]
    for col, key in (
        (L.EF_C_DEP, "depressed"),
        (L.EF_C_RESP, "response"),
        (L.EF_C_REM, "remission"),
    ):
        ef[col] = _cost(scenario, sc[f"{key}_week"])
        if key == "depressed":
            ef[col] += self_harm_cost_week(scenario)
        if "productivity" in par:
            ef[col] += _v(par["productivity"][f"{key}_week"])
    ef[L.EF_NH_WEEKS] = nh["weeks"]
    ef[L.EF_NH_REM] = nh["remission_share"]
    ef[L.EF_DEEP_H] = nh["deepening_weekly_hazard"]
    ef[L.EF_R_NF0] = rb["source_prior_failures"]
    ef[L.EF_CTX_FIRST] = ctx["first_week"]
    ef[L.EF_CTX_LAST] = ctx["last_week"]
    return ef


def self_harm_cost_week(scenario: Scenario) -> float:
    """Expected cost of non-fatal self-harm per depressed week (hazard x episode cost).

    Episodes change nothing else in the model, so their expected cost is exact for
    means and avoids a random draw per depressed week.
    """
    h = _v(scenario.params["self_harm"]["weekly_hazard_depressed"])
    if h == 0.0:
        return 0.0
    return h * _cost(scenario, scenario.params["unit_costs"][scenario.setting][SELF_HARM_COST])


def _cost(scenario: Scenario, entry: dict) -> float:
    """A cost entry's value in the scenario's price year."""
    year = int(entry.get("price_year", scenario.price_year))
    return _v(entry) * price_factor(scenario.setting, year, scenario.price_year)


def _weekly_cost(scenario: Scenario, entry: dict, count: float, weeks: float) -> float:
    """Sessions of the entry's resource spread over `weeks`, plus its weekly drug cost."""
    unit = scenario.params["unit_costs"][scenario.setting]
    c = count * _cost(scenario, unit[entry["resource"]]) / weeks if "resource" in entry else 0.0
    if "drug_per_week" in entry:
        c += _cost(scenario, unit[entry["drug_per_week"]])
    return c


def _weekly_cost_parts(
    scenario: Scenario, entry: dict, count: float, weeks: float
) -> list[tuple[str, float]]:
    """`_weekly_cost` by resource: (unit_costs key, weekly cost) of its sessions and of its
    drug, in that order and with the same arithmetic (their sum is `_weekly_cost`)."""
    unit = scenario.params["unit_costs"][scenario.setting]
    base = f"unit_costs.{scenario.setting}."
    out = []
    if "resource" in entry:
        out.append(
            (base + entry["resource"], count * _cost(scenario, unit[entry["resource"]]) / weeks)
        )
    if "drug_per_week" in entry:
        out.append((base + entry["drug_per_week"], _cost(scenario, unit[entry["drug_per_week"]])))
    return out


def cost_parts(
    scenario: Scenario, inputs: "ModelInputs"
) -> dict[str, list[tuple[str, str, float]]]:
    """What each cost category of the kernel (`ArmRun.cost_by_category`) is made of: per
    category, (group, parameter key, weekly cost) parts whose weekly costs add up to the
    category's own weekly cost. Groups: 'treatment', 'usual care', 'maintenance',
    'state' (health-care costs by clinical state, with non-fatal self-harm while
    depressed) and 'productivity' (in the state costs when the scenario counts it).
    Maintenance is a category per option ('maintenance:<name>'): its weekly cost while
    active, by resource."""
    par = scenario.params
    setting = scenario.setting
    out: dict[str, list[tuple[str, str, float]]] = {}
    for state in ("depressed", "response", "remission"):
        key = f"state_costs.{setting}.{state}_week"
        parts = [("state", key, _cost(scenario, par["state_costs"][setting][f"{state}_week"]))]
        if state == "depressed" and self_harm_cost_week(scenario) != 0.0:
            sh = f"unit_costs.{setting}.{SELF_HARM_COST}"
            parts.append(("state", sh, self_harm_cost_week(scenario)))
        if "productivity" in par:
            prod = f"productivity.{state}_week"
            parts.append(("productivity", prod, _v(par["productivity"][f"{state}_week"])))
        out[f"state:{state}"] = parts
    for name in inputs.treatments:
        t = par["treatments"][name]
        weeks = _v(t["trial_weeks"])
        parts_t = _weekly_cost_parts(scenario, t, _v(t["sessions"]), weeks)
        out[f"treatment:{name}"] = [("treatment", k, c) for k, c in parts_t]
        if name == USUAL_CARE:
            out["usual_care"] = [("usual care", k, c) for k, c in parts_t]
    for name in inputs.maintenance:
        m = par["maintenance"][name]
        # per week, as _maintenance_table costs it
        parts_m = _weekly_cost_parts(scenario, m, _v(m["sessions_per_week"]), 1.0)
        out[f"maintenance:{name}"] = [("maintenance", k, c) for k, c in parts_m]
    return out


def _maintenance_table(scenario: Scenario, names: list[str]) -> np.ndarray:
    mx = np.zeros((len(names), L.MX_NCOL))
    for j, name in enumerate(names):
        m = scenario.params["maintenance"][name]
        mx[j, L.MX_HR] = _v(m["relapse_hr"])
        mx[j, L.MX_HR_PARTIAL] = _v(m.get("relapse_hr_partial", m["relapse_hr"]))
        mx[j, L.MX_DURATION] = _v(m["duration_weeks"])
        mx[j, L.MX_COST_WEEK] = _weekly_cost(scenario, m, _v(m["sessions_per_week"]), 1.0)
    return mx


@cache
def _reference_cohort() -> dict[str, float]:
    """The attribute mix of the populations the evidence comes from (library defaults)."""
    return {k: float(p["value"]) for k, p in load_library()["cohort"].items()}


@dataclass(frozen=True)
class ReferencePopulation:
    """A cohort distribution as weighted points (flags x quadrature nodes).

    z_sev and z_flex are standard-normal nodes of severity and flexibility; a normal
    attribute that no active effect uses collapses to one node.
    """

    weight: np.ndarray  # sums to 1
    malt: np.ndarray
    infl: np.ndarray
    chronic: np.ndarray
    z_sev: np.ndarray
    z_flex: np.ndarray


@cache
def _hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for E[f(Z)], Z standard normal (probabilists' Gauss-Hermite)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / w.sum()


def reference_population(cohort: dict[str, float], ef: np.ndarray) -> ReferencePopulation:
    """Weighted points representing a cohort's attributes (see module doc)."""
    uses_sev = bool(ef[L.EF_B_SEV] != 0.0 and cohort["severity_sd"] > 0)
    uses_flex = bool(ef[L.EF_B_FLEX] != 0.0 or ef[L.EF_R_FLEX] != 0.0)
    return _points(tuple(sorted(cohort.items())), uses_sev, uses_flex)


@cache
def _points(cohort: tuple, uses_sev: bool, uses_flex: bool) -> ReferencePopulation:
    # cached: a PSA asks for the same points once per draw
    shares = dict(cohort)
    one = (np.zeros(1), np.ones(1))
    sev = _hermite(QUADRATURE_NODES) if uses_sev else one
    flex = _hermite(QUADRATURE_NODES) if uses_flex else one
    pm, pi, pc = shares["maltreatment_share"], shares["inflammation_share"], shares["chronic_share"]
    flag = [0.0, 1.0]
    m, i, ch, zs, zf = np.meshgrid(flag, flag, flag, sev[0], flex[0], indexing="ij")
    wm, wi, wc, ws, wf = np.meshgrid(
        [1 - pm, pm], [1 - pi, pi], [1 - pc, pc], sev[1], flex[1], indexing="ij"
    )
    return ReferencePopulation(
        weight=(wm * wi * wc * ws * wf).ravel(),
        malt=m.ravel(),
        infl=i.ravel(),
        chronic=ch.ravel(),
        z_sev=zs.ravel(),
        z_flex=zf.ravel(),
    )


def _baseline_mods(ef: np.ndarray, ref: ReferencePopulation) -> np.ndarray:
    """Patient modifiers of the baseline log-odds at the reference points (as the kernel)."""
    return (
        ef[L.EF_B_MALT] * ref.malt + ef[L.EF_B_FLEX] * ref.z_flex + ef[L.EF_B_CHRONIC] * ref.chronic
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
def _solve_intercepts(ps, eta, weight):
    """_solve_intercept for each of ps in turn, in one call (a PSA solves 32 a draw).

    Each solve starts from the last root moved by the change in logit p (exact when
    every point has the same eta), so Newton needs few steps after the first.
    """
    out = np.empty(ps.shape[0])
    # logistic(x + eta_j) = 1 / (1 + exp(-x) exp(-eta_j)): one exp per Newton step, not
    # one per point
    e_eta = np.exp(-eta)
    for k in range(ps.shape[0]):
        if k == 0:
            out[k] = _solve_intercept(ps[k], eta, e_eta, weight, np.nan)
        else:
            step = np.log(ps[k] / (1.0 - ps[k])) - np.log(ps[k - 1] / (1.0 - ps[k - 1]))
            out[k] = _solve_intercept(ps[k], eta, e_eta, weight, out[k - 1] + step)
    return out


@numba.njit(parallel=True, cache=True)
def _solve_intercepts_draws(ps, eta, weight):
    """_solve_intercepts for each table and draw, ps (tables, draws, k) with eta (draws,
    points), in one call over the threads: each row solved exactly as on its own."""
    m, n = ps.shape[0], ps.shape[1]
    out = np.empty(ps.shape)
    for i in numba.prange(m * n):
        t, d = i // n, i % n
        out[t, d] = _solve_intercepts(ps[t, d], eta[d], weight)
    return out


@numba.njit(cache=True)
def _solve_intercept(p, eta, e_eta, weight, start):
    """alpha with sum(weight * logistic(alpha + eta)) == p: Newton inside a bisection bracket.

    The left side rises strictly in alpha, so the bracket [-40, 40] always holds the root
    for 0 < p < 1; a Newton step leaving the bracket is replaced by bisection. e_eta:
    exp(-eta); start: the first guess, or NaN for logit(p) - mean(eta).
    """
    lo, hi = -40.0, 40.0
    if np.isnan(start):
        mean_eta = 0.0
        for j in range(eta.shape[0]):
            mean_eta += weight[j] * eta[j]
        start = np.log(p / (1.0 - p)) - mean_eta
    x = min(max(start, lo), hi)
    for _ in range(200):
        f = -p
        df = 0.0
        ex = np.exp(-x)
        for j in range(eta.shape[0]):
            r = 1.0 / (1.0 + ex * e_eta[j])
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
    """log c with sum_j w_j sum_k share_k exp(log_s c exp(lin_j + ln_hr_k)) == surv.

    The left side falls strictly in log c; Newton inside the bracket [-30, 30].
    """
    lo, hi = -30.0, 30.0
    # exp(lin_j + ln_hr_k) does not change between iterations: computed once
    hr = np.empty((w.shape[0], shares.shape[0]))
    mean_hr = 0.0
    for j in range(w.shape[0]):
        for k in range(shares.shape[0]):
            hr[j, k] = np.exp(lin[j] + ln_hrs[k])
            mean_hr += w[j] * shares[k] * hr[j, k]
    # start where the patients' mean hazard ratio gives surv exactly (Jensen's bound on
    # the root): Newton then needs a few steps, not a dozen from log c = 0
    x = 0.0
    if 0.0 < surv < 1.0 and log_s < 0.0 and mean_hr > 0.0:
        x = min(max(np.log(np.log(surv) / (log_s * mean_hr)), lo + 1.0), hi - 1.0)
    for _ in range(200):
        f = -surv
        df = 0.0
        ex = np.exp(x)
        for j in range(w.shape[0]):
            if w[j] == 0.0:
                continue
            for k in range(shares.shape[0]):
                if shares[k] > 0.0:
                    e = ex * hr[j, k] * log_s
                    s = w[j] * shares[k] * np.exp(e)
                    f += s
                    df += s * e
        if f == 0.0:
            return x
        x, lo, hi, done = _bracketed_newton_step(x, f, df, lo, hi, False)
        if done:
            return x
    return x


@numba.njit(parallel=True, cache=True)
def _solve_log_multipliers(w, lin, shares, ln_hrs, n_mix, log_s, surv):
    """_solve_log_multiplier for each treatment t and draw d, in one call over the
    threads: w, lin (treatments, draws, points); shares, ln_hrs (treatments, draws, k),
    of which the first n_mix[t] are treatment t's mixture; log_s, surv (treatments,
    draws). Each solved exactly as on its own."""
    m, n = w.shape[0], w.shape[1]
    out = np.empty((m, n))
    for i in numba.prange(m * n):
        t, d = i // n, i % n
        k = n_mix[t]
        out[t, d] = _solve_log_multiplier(
            w[t, d], lin[t, d], shares[t, d, :k], ln_hrs[t, d, :k], log_s[t, d], surv[t, d]
        )
    return out


def _solve_relapse_multiplier(
    surv: float,
    log_base: float,
    weights: np.ndarray,
    lin: np.ndarray,
    mix: list[tuple[float, float]],
) -> float:
    """c with the weighted mean over patients and mixture (share, ln HR) of
    exp(log_base * c * HR) equal to surv (log_base: log baseline survival at that time)."""
    w = weights / weights.sum()
    shares = np.array([s for s, _ in mix])
    ln_hrs = np.array([h for _, h in mix])
    return float(np.exp(_solve_log_multiplier(w, lin, shares, ln_hrs, log_base, surv)))


def natural_hazard(z: np.ndarray | float, weeks: np.ndarray | float) -> np.ndarray | float:
    """Weekly natural-history hazard from the log-odds z of response over `weeks`
    (-ln(1 - logistic(z)) / weeks, as the kernel's natural_hazard)."""
    return np.log1p(np.exp(z)) / weeks


def comparator_no_response(c, h, weeks: float, ctx_first: float, ctx_last: float):
    """The comparator arm's chance of no response by `weeks` (the kernel's q): the
    trial context c over the share f of its window within the course, and natural
    history h every week: (1 - c)^f exp(-h weeks)."""
    f = min(max(weeks - ctx_first + 1.0, 0.0) / (ctx_last - ctx_first + 1.0), 1.0)
    return (1.0 - c) ** f * np.exp(-h * weeks)


@dataclass(frozen=True)
class Baselines:
    """Population-mean baselines by failed trials, and the intercepts that realise them."""

    nh_weeks: float
    ctx_first: float
    ctx_last: float
    nh_response: np.ndarray  # (NF_MAX + 1,) natural-history response over nh_weeks
    context: np.ndarray  # (NF_MAX + 1,) trial-context response of a new course
    nhz: np.ndarray
    ctxz: np.ndarray

    def hazard(self, nf: int) -> float:
        """Population-mean weekly natural-history hazard at nf failed trials."""
        return -np.log1p(-self.nh_response[min(nf, L.NF_MAX)]) / self.nh_weeks

    def comparator(self, nf: int, weeks: float) -> float:
        """Response of a course's comparator arm by `weeks` (population mean)."""
        c = self.context[min(nf, L.NF_MAX)]
        q = comparator_no_response(c, self.hazard(nf), weeks, self.ctx_first, self.ctx_last)
        return 1.0 - q


def baselines(scenario: Scenario, ef: np.ndarray, ref: ReferencePopulation) -> Baselines:
    """Natural-history and trial-context baselines by failed trials (module doc)."""
    par = scenario.params
    b_fail = np.log(_v(par["effects"]["response_or_per_prior_failure"]))
    nf = np.arange(L.NF_MAX + 1)
    nh, ctx = par["natural_history"], par["trial_context"]
    nh_p = _logistic(_logit(_v(nh["response"])) + b_fail * (nf - _v(nh["source_prior_failures"])))
    ctx_p = _logistic(
        _logit(_v(ctx["response"])) + b_fail * (nf - _v(ctx["source_prior_failures"]))
    )
    eta = _baseline_mods(ef, ref)
    nhz = _solve_intercepts(nh_p, eta, ref.weight)
    ctxz = _solve_intercepts(ctx_p, eta, ref.weight)
    return Baselines(
        _v(nh["weeks"]), _v(ctx["first_week"]), _v(ctx["last_week"]), nh_p, ctx_p, nhz, ctxz
    )


def response_log_odds_ratio(t: dict, base: Baselines) -> float:
    """ln OR of a treatment's response against its comparator's baseline.

    A relative effect as reported (OR; RR and RD through the rate they imply at the
    source population's comparator baseline); a single-arm rate against the comparator
    baseline of its own source population.
    """
    weeks = _v(t["trial_weeks"])
    p0 = base.comparator(int(_v(t["source_prior_failures"])), weeks)
    if t["effect"] == "absolute":
        return _logit(_v(t["response"])) - _logit(p0)
    value = _v(t["response_effect"])
    if t["measure"] == "OR":
        return float(np.log(value))
    p1 = p0 * value if t["measure"] == "RR" else p0 + value
    p1 = min(max(p1, P_CLIP), 1.0 - P_CLIP)
    return _logit(p1) - _logit(p0)


def _reachable_steps(scenario: Scenario, arm: str, reachable_only: bool = True) -> list[list[str]]:
    """An arm's steps as written and as personalised rules make them; with
    `reachable_only`, only those from the step the cohort enters at."""
    p = scenario.pathways[arm]
    first = entry_step(p, scenario.failed_trials) if reachable_only else 0
    rules = [r["components"] for r in p.get("rules", []) if r["step"] >= first]
    return [*p["steps"][first:], *rules]


def _used(scenario: Scenario, reachable_only: bool = False) -> tuple[list[str], list[str]]:
    """Treatments and maintenance options the scenario's arms use (all written, for the
    compiled arrays; or only those a patient can reach)."""
    used_t = {USUAL_CARE}
    used_m = {"none"}
    for a in scenario.arms:
        p = scenario.pathways[a]
        for step in _reachable_steps(scenario, a, reachable_only):
            used_t.update(step)
            used_m.update(maintenance_for(p, step_key(step)))
        used_m.update(maintenance_for(p, USUAL_CARE))
    used_m.update(scenario.params["treatments"][t]["relapse_reference"] for t in used_t)
    return sorted(used_t), sorted(used_m)


def used_parameters(scenario: Scenario) -> Callable[[str], bool]:
    """A test of whether a flattened parameter key (e.g. treatments.dbs.response_effect)
    can change any arm's results: parameters of treatments, maintenance, resources and
    interactions no reachable step uses cannot (a PSA that sampled them would only add
    noise). What is reachable is worked out once, here."""
    par = scenario.params
    used_t, used_m = _used(scenario, reachable_only=True)
    steps = [set(st) for a in scenario.arms for st in _reachable_steps(scenario, a)]
    entries = [par["treatments"][t] for t in used_t] + [par["maintenance"][m] for m in used_m]
    names = {
        "treatments": set(used_t),
        "maintenance": set(used_m),
        "interactions": {
            name
            for name, i in par["interactions"].items()
            if any(set(i["components"]) <= st for st in steps)
        },
        "unit_costs": {e.get(f) for e in entries for f in ("resource", "drug_per_week")}
        | {SELF_HARM_COST},
    }

    def used(key: str) -> bool:
        section, _, rest = key.partition(".")
        # unit_costs.SETTING.NAME: the resource is the last part
        name = rest.split(".")[-1] if section == "unit_costs" else rest.split(".")[0]
        return section not in names or name in names[section]

    return used


def _relapse_entry_share(t: dict, rem_share):
    """Remitters among the relapse figure's population at entry: all of them for a figure
    measured in remitters, none for one in responders without remission ("response"
    means responders as the source counted them: the treatment's own remission share,
    as "mixed")."""
    if t["relapse_entry"] == "remission":
        return rem_share * 0.0 + 1.0
    return rem_share


def _enduring(par: dict, used_t: list[str]) -> tuple[int, ...]:
    """The treatments (indices into used_t) whose completed course has an enduring
    effect on relapse (enduring_relapse_hr given): a step holding one gets its own
    follow-up rows (pathways.compile_pathway)."""
    return tuple(k for k, t in enumerate(used_t) if "enduring_relapse_hr" in par["treatments"][t])


# (field, kernel column) of the treatment fields the kernel reads unchanged
_COPIED = tuple((f.key, getattr(L, f.column)) for f in schema.TREATMENT if f.column)


def compile_inputs(scenario: Scenario) -> ModelInputs:
    """Compile a validated scenario into kernel arrays."""
    par = scenario.params
    used_t, used_m = _used(scenario)
    ef = _effects(scenario)
    mx = _maintenance_table(scenario, used_m)
    ref = reference_population(_reference_cohort(), ef)
    base = baselines(scenario, ef, ref)
    eta_base = _baseline_mods(ef, ref)
    lin_relapse = ef[L.EF_R_MALT] * ref.malt + ef[L.EF_R_FLEX] * ref.z_flex
    rb = {k: _v(p) for k, p in par["relapse_baseline"].items()}
    rb_scale, rb_shape = (
        rb["time_weeks"] / (-np.log1p(-rb["relapse"])) ** (1.0 / rb["shape"]),
        rb["shape"],
    )

    tx = np.zeros((len(used_t), L.TX_NCOL))
    shapes: dict[int, tuple] = {}  # treatment: (its relapse shape, t_ref, H0(t_ref))
    for k, name in enumerate(used_t):
        t = par["treatments"][name]
        v = {f: _v(p) for f, p in t.items() if isinstance(p, dict) and "value" in p}
        ln_or = response_log_odds_ratio(t, base)
        # the relapse figure's own population (not the acute effect's): its failed trials
        nf_rel = int(v["relapse_prior_failures"])
        weeks = v["trial_weeks"]
        # responders in the relapse figure's population, for the hazard ratio
        h_j = natural_hazard(base.nhz[nf_rel] + eta_base, base.nh_weeks)
        c_j = _logistic(base.ctxz[nf_rel] + eta_base)
        q_j = comparator_no_response(c_j, h_j, weeks, base.ctx_first, base.ctx_last)
        responders = ref.weight * _logistic(np.log1p(-q_j) - np.log(q_j) + ln_or)
        t_last = v.get("relapse_t2", v["relapse_t1"])
        p_last = v.get("relapse_p2", v["relapse_p1"])
        log_base = -((t_last / rb_scale) ** rb_shape)
        rem_share = _relapse_entry_share(t, v["remission_share"])
        mix = [(rem_share, 0.0), (1.0 - rem_share, ef[L.EF_R_RESID])]
        if t["psychotherapy"]:
            sg = ef[L.EF_SG_PROB]
            mix = [(s * (1.0 - sg), h) for s, h in mix] + [
                (s * sg, h + ef[L.EF_R_SG]) for s, h in mix
            ]
        ref_hr = mx[used_m.index(t["relapse_reference"]), L.MX_HR]
        lin = lin_relapse + ef[L.EF_R_FAIL] * (nf_rel - ef[L.EF_R_NF0]) + np.log(ref_hr)
        tx[k, L.TX_LN_OR] = ln_or
        # math.exp, as the kernel computes it for a patient whose attributes modify it
        tx[k, L.TX_OR] = math.exp(ln_or)
        for f, col in _COPIED:  # fields the kernel reads as given (schema.Field.column)
            tx[k, col] = v[f]
        tx[k, L.TX_RELAPSE_HR] = _solve_relapse_multiplier(
            1.0 - p_last, log_base, responders, lin, mix
        )
        tx[k, L.TX_MONO] = float(t["monoaminergic"])
        tx[k, L.TX_PSYCH] = float(t["psychotherapy"])
        tx[k, L.TX_COUNTS] = float(t["counts_as_trial"])
        tx[k, L.TX_COST_WEEK] = _weekly_cost(scenario, t, v["sessions"], weeks)
        tx[k, L.TX_ENDURING_LNHR] = np.log(v.get("enduring_relapse_hr", 1.0))
        tx[k, L.TX_ENDURING_HALF] = v.get("enduring_half_life_weeks", math.inf)
        if "relapse_shape" in v:
            shapes[k] = (v["relapse_shape"], t_last, -log_base)

    interactions = [
        (
            frozenset(i["components"]),
            _v(i["excess_multiplier"]),
            _v(i["relapse_hr"]),
        )
        for i in par["interactions"].values()
    ]
    h = scenario.horizon_weeks
    weeks = np.arange(h + 1, dtype=np.float64)
    cum_h = (weeks / rb_scale) ** rb_shape
    curves = {
        k: shape_multiplier(sh, t_ref, h_ref, cum_h) for k, (sh, t_ref, h_ref) in shapes.items()
    }
    pathways = {
        a: compile_pathway(
            scenario.pathways[a],
            used_t,
            tx,
            used_m,
            mx,
            interactions,
            h,
            _enduring(par, used_t),
            curves,
        )
        for a in scenario.arms
    }
    disc_q = discount_factors(scenario.discount_qalys, h)
    return ModelInputs(
        treatments=used_t,
        tx=tx,
        maintenance=used_m,
        mx=mx,
        ef=ef,
        nhz=base.nhz,
        ctxz=base.ctxz,
        mort_h=weekly_mortality_hazard(scenario.life_table),
        cum_h=cum_h,
        disc_q=disc_q,
        qaly_weight=disc_q / 52.0,
        disc_c=discount_factors(scenario.discount_costs, h),
        pathways=pathways,
    )


# --- many parameter draws at once (PSA) --------------------------------------------
# `compile_draws` is `compile_inputs` over a leading draw axis, operation by operation,
# so that it returns stack_inputs([compile_inputs(s) for s in the draws' scenarios])
# bit for bit without a Python compile per draw (tests/test_psa.py checks every field).
# What keeps it exact:
#   * numpy's elementwise ufuncs (exp, log, log1p, + - * /) give an element the same
#     value whatever the shape of its array (and for a lone scalar, a 0-d array), so a
#     parameter becomes a (draws,) array and a per-point quantity a (draws, points) one;
#   * powers are not like that: a power of scalars is C's pow, an array's power numpy's
#     own vector loop, or a copy / sqrt / square for the exponents 1, 0.5, 2 given as a
#     Python float: scalar powers are taken draw by draw as scalars (_scalar_pow), array
#     powers for each group of draws with the same exponent, given as a Python float;
#   * math.exp (the kernel's exp, for TX_OR) is taken element by element;
#   * the Newton solves run the same numba functions on each draw's row.
# A change to compile_inputs needs its twin here.


def _draw_params(params: dict, values: Mapping[str, np.ndarray]) -> dict:
    """The parameter tree with each key of `values` (flattened, as ParameterSpace keys)
    holding its (draws,) array as value; copied along the changed paths only."""
    return params_with_values(params, values, lambda v: np.asarray(v, dtype=np.float64))


def params_with_values(params: dict, values: Mapping, as_value) -> dict:
    """A copy of the parameter tree with each flattened key of `values` holding
    `as_value(v)` as its value: copied along the changed paths only, the rest shared."""
    params = dict(params)
    copied: set[tuple[str, ...]] = set()
    for key, v in values.items():
        parts = key.split(".")
        node = params
        for depth, part in enumerate(parts[:-1]):
            path = tuple(parts[: depth + 1])
            if path not in copied:
                node[part] = dict(node[part])
                copied.add(path)
            node = node[part]
        node[parts[-1]] = {**node[parts[-1]], "value": as_value(v)}
    return params


class _Draws:
    """Reads a parameter tree of `_draw_params` as (draws,) arrays."""

    def __init__(self, scenario: Scenario, params: dict, n: int):
        self.scenario, self.par, self.n = scenario, params, n

    def v(self, p: dict) -> np.ndarray:
        """The entry's value in every draw (as _v, per draw)."""
        return np.broadcast_to(np.asarray(p["value"], dtype=np.float64), (self.n,))

    def cost(self, entry: dict) -> np.ndarray:
        """_cost in every draw."""
        sc = self.scenario
        year = int(entry.get("price_year", sc.price_year))
        return self.v(entry) * price_factor(sc.setting, year, sc.price_year)

    def weekly_cost(self, entry: dict, count: np.ndarray, weeks) -> np.ndarray:
        """_weekly_cost in every draw."""
        unit = self.par["unit_costs"][self.scenario.setting]
        if "resource" in entry:
            c = count * self.cost(unit[entry["resource"]]) / weeks
        else:
            c = np.zeros(self.n)
        if "drug_per_week" in entry:
            c = c + self.cost(unit[entry["drug_per_week"]])
        return c

    def self_harm_cost_week(self) -> np.ndarray:
        """self_harm_cost_week in every draw."""
        h = self.v(self.par["self_harm"]["weekly_hazard_depressed"])
        if not (h != 0.0).any():  # as self_harm_cost_week: no episode cost is looked up
            return np.zeros(self.n)
        unit = self.par["unit_costs"][self.scenario.setting]
        return np.where(h == 0.0, 0.0, h * self.cost(unit[SELF_HARM_COST]))


def _scalar_pow(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """base ** exponent draw by draw as numpy scalars (C's pow, as a per-draw compile
    takes a power of scalars), not numpy's vector power."""
    return np.array([b ** float(e) for b, e in zip(base, exponent, strict=True)])


def _array_pow(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """Row d of base (draws, k) to the power exponent[d], as a per-draw compile takes an
    array to a Python float's power: one numpy power per distinct exponent."""
    out = np.empty_like(base)
    for e in np.unique(exponent):
        rows = exponent == e
        out[rows] = base[rows] ** float(e)
    return out


def _effects_draws(d: _Draws) -> np.ndarray:
    """_effects of every draw: (draws, EF_NCOL)."""
    par, v = d.par, d.v
    e = {k: v(p) for k, p in par["effects"].items()}
    u = {k: v(p) for k, p in par["utilities"].items()}
    nh = {k: v(p) for k, p in par["natural_history"].items()}
    ctx = {k: v(p) for k, p in par["trial_context"].items()}
    rb = {k: v(p) for k, p in par["relapse_baseline"].items()}
    ef = np.zeros((d.n, L.EF_NCOL))
    ef[:, L.EF_B_MALT] = np.log(e["response_or_maltreatment"])
    ef[:, L.EF_B_INFL] = np.log(e["response_or_inflammation_monoaminergic"])
    ef[:, L.EF_B_SEV] = e["response_logodds_per_severity_point_psychotherapy"]
    ef[:, L.EF_B_FLEX] = np.log(e["response_or_per_sd_flexibility"])
    ef[:, L.EF_B_CHRONIC] = np.log(e["response_or_chronic_episode"])
    ef[:, L.EF_R_FAIL] = np.log(e["relapse_hr_per_prior_failure"])
    ef[:, L.EF_R_RESID] = np.log(e["relapse_hr_residual_symptoms"])
    ef[:, L.EF_R_MALT] = np.log(e["relapse_hr_maltreatment"])
    ef[:, L.EF_R_FLEX] = np.log(e["relapse_hr_per_sd_flexibility"])
    ef[:, L.EF_SG_PROB] = e["sudden_gain_probability"]
    ef[:, L.EF_R_SG] = np.log(e["relapse_hr_sudden_gain"])
    ef[:, L.EF_MORT_HR] = v(par["mortality"]["nonsuicide_depressed_hr"])
    ef[:, L.EF_SUICIDE_H] = v(par["mortality"]["suicide_weekly_hazard_depressed"])
    ef[:, L.EF_U_DEP] = u["depressed"]
    ef[:, L.EF_U_RESP] = u["response"]
    ef[:, L.EF_U_REM] = u["remission"]
    ef[:, L.EF_SEV_MEAN] = _reference_cohort()["severity_mean"]
    sc = par["state_costs"][d.scenario.setting]
    for col, key in (
        (L.EF_C_DEP, "depressed"),
        (L.EF_C_RESP, "response"),
        (L.EF_C_REM, "remission"),
    ):
        ef[:, col] = d.cost(sc[f"{key}_week"])
        if key == "depressed":
            ef[:, col] += d.self_harm_cost_week()
        if "productivity" in par:
            ef[:, col] += v(par["productivity"][f"{key}_week"])
    ef[:, L.EF_NH_WEEKS] = nh["weeks"]
    ef[:, L.EF_NH_REM] = nh["remission_share"]
    ef[:, L.EF_DEEP_H] = nh["deepening_weekly_hazard"]
    ef[:, L.EF_R_NF0] = rb["source_prior_failures"]
    ef[:, L.EF_CTX_FIRST] = ctx["first_week"]
    ef[:, L.EF_CTX_LAST] = ctx["last_week"]
    return ef


def _maintenance_draws(d: _Draws, names: list[str]) -> np.ndarray:
    """_maintenance_table of every draw: (draws, options, MX_NCOL)."""
    mx = np.zeros((d.n, len(names), L.MX_NCOL))
    for j, name in enumerate(names):
        m = d.par["maintenance"][name]
        mx[:, j, L.MX_HR] = d.v(m["relapse_hr"])
        mx[:, j, L.MX_HR_PARTIAL] = d.v(m.get("relapse_hr_partial", m["relapse_hr"]))
        mx[:, j, L.MX_DURATION] = d.v(m["duration_weeks"])
        mx[:, j, L.MX_COST_WEEK] = d.weekly_cost(m, d.v(m["sessions_per_week"]), 1.0)
    return mx


def _logit_draws(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1.0 - p))


def _no_response_draws(c, h, weeks, ctx_first, ctx_last) -> np.ndarray:
    """comparator_no_response in every draw: c and h (draws,) scalars per draw, or
    (draws, points) arrays per draw; weeks, ctx_first, ctx_last (draws,)."""
    f = np.minimum(np.maximum(weeks - ctx_first + 1.0, 0.0) / (ctx_last - ctx_first + 1.0), 1.0)
    if c.ndim == 1:
        return _scalar_pow(1.0 - c, f) * np.exp(-h * weeks)
    return _array_pow(1.0 - c, f) * np.exp(-h * weeks[:, None])


@dataclass(frozen=True)
class _BaselineDraws:
    """Baselines of every draw (fields as Baselines, with a leading draw axis)."""

    nh_weeks: np.ndarray
    ctx_first: np.ndarray
    ctx_last: np.ndarray
    nh_response: np.ndarray
    context: np.ndarray
    nhz: np.ndarray
    ctxz: np.ndarray

    def comparator(self, nf: np.ndarray, weeks: np.ndarray) -> np.ndarray:
        """Baselines.comparator in every draw (nf: failed trials per draw)."""
        rows = np.arange(nf.shape[0])
        at = np.minimum(nf, L.NF_MAX)
        c = self.context[rows, at]
        h = -np.log1p(-self.nh_response[rows, at]) / self.nh_weeks
        return 1.0 - _no_response_draws(c, h, weeks, self.ctx_first, self.ctx_last)


def _baselines_draws(d: _Draws, ef: np.ndarray, ref: ReferencePopulation) -> _BaselineDraws:
    """baselines in every draw."""
    par, v = d.par, d.v
    b_fail = np.log(v(par["effects"]["response_or_per_prior_failure"]))[:, None]
    nf = np.arange(L.NF_MAX + 1)
    nh, ctx = par["natural_history"], par["trial_context"]
    nh_src = v(nh["source_prior_failures"])[:, None]
    ctx_src = v(ctx["source_prior_failures"])[:, None]
    nh_p = _logistic(_logit_draws(v(nh["response"]))[:, None] + b_fail * (nf - nh_src))
    ctx_p = _logistic(_logit_draws(v(ctx["response"]))[:, None] + b_fail * (nf - ctx_src))
    eta = _baseline_mods_draws(ef, ref)
    nhz, ctxz = _solve_intercepts_draws(np.stack([nh_p, ctx_p]), eta, ref.weight)
    return _BaselineDraws(
        v(nh["weeks"]), v(ctx["first_week"]), v(ctx["last_week"]), nh_p, ctx_p, nhz, ctxz
    )


def _baseline_mods_draws(ef: np.ndarray, ref: ReferencePopulation) -> np.ndarray:
    """_baseline_mods in every draw: (draws, points)."""
    return (
        ef[:, L.EF_B_MALT, None] * ref.malt
        + ef[:, L.EF_B_FLEX, None] * ref.z_flex
        + ef[:, L.EF_B_CHRONIC, None] * ref.chronic
    )


def _response_log_odds_ratio_draws(d: _Draws, t: dict, base: _BaselineDraws) -> np.ndarray:
    """response_log_odds_ratio in every draw."""
    weeks = d.v(t["trial_weeks"])
    p0 = base.comparator(d.v(t["source_prior_failures"]).astype(np.int64), weeks)
    if t["effect"] == "absolute":
        return _logit_draws(d.v(t["response"])) - _logit_draws(p0)
    value = d.v(t["response_effect"])
    if t["measure"] == "OR":
        return np.log(value)
    p1 = p0 * value if t["measure"] == "RR" else p0 + value
    p1 = np.minimum(np.maximum(p1, P_CLIP), 1.0 - P_CLIP)
    return _logit_draws(p1) - _logit_draws(p0)


def compile_draws(
    scenario: Scenario, values: Mapping[str, np.ndarray], n: int | None = None
) -> DrawInputs:
    """The compiled inputs of parameter draws of a scenario, straight from their values.

    values: (draws,) arrays keyed by flattened parameter key (ParameterSpace.sample's
    columns); every other parameter keeps the scenario's value. n: the number of draws
    (needed only when values is empty). Bit-identical to stack_inputs([compile_inputs(
    space.apply(row)) for each draw's row]), in one pass over the draw axis (see the
    comment above _draw_params).
    """
    cols = {k: np.asarray(x, dtype=np.float64) for k, x in values.items()}
    if n is None:
        if not cols:
            raise ValueError("compile_draws: no values, so the number of draws must be given")
        n = len(next(iter(cols.values())))
    if any(x.shape != (n,) for x in cols.values()):
        raise ValueError(f"compile_draws: every parameter needs one value per draw ({n})")
    d = _Draws(scenario, _draw_params(scenario.params, cols), n)
    ef = _effects_draws(d)
    # the reference points depend on whether two effects are zero: draws that differ
    # there (only contrived distributions do) are compiled apart
    cohort = _reference_cohort()
    uses_sev = (ef[:, L.EF_B_SEV] != 0.0) & (cohort["severity_sd"] > 0)
    uses_flex = (ef[:, L.EF_B_FLEX] != 0.0) | (ef[:, L.EF_R_FLEX] != 0.0)
    key = uses_sev.astype(np.int64) * 2 + uses_flex
    if (key != key[0]).any():
        groups = [np.flatnonzero(key == k) for k in np.unique(key)]
        parts = [
            compile_draws(scenario, {k: x[g] for k, x in cols.items()}, len(g)) for g in groups
        ]
        return _merge_draws(parts, groups, n)
    ref = reference_population(cohort, ef[0])
    return _compile_draws(d, ef, ref)


def _compile_draws(d: _Draws, ef: np.ndarray, ref: ReferencePopulation) -> DrawInputs:
    """compile_draws for draws that share their reference points."""
    scenario, par, v, n = d.scenario, d.par, d.v, d.n
    used_t, used_m = _used(scenario)
    mx = _maintenance_draws(d, used_m)
    base = _baselines_draws(d, ef, ref)
    eta_base = _baseline_mods_draws(ef, ref)
    lin_relapse = ef[:, L.EF_R_MALT, None] * ref.malt + ef[:, L.EF_R_FLEX, None] * ref.z_flex
    rb = {k: v(p) for k, p in par["relapse_baseline"].items()}
    rb_shape = rb["shape"]
    rb_scale = rb["time_weeks"] / _scalar_pow(-np.log1p(-rb["relapse"]), 1.0 / rb_shape)
    rows = np.arange(n)

    tx = np.zeros((n, len(used_t), L.TX_NCOL))
    shapes: dict[int, tuple] = {}  # as compile_inputs, each a (draws,) array
    # each treatment's relapse multiplier problem, solved for all at once after the loop
    n_t, n_points = len(used_t), ref.weight.shape[0]
    w_all, lin_all = np.empty((n_t, n, n_points)), np.empty((n_t, n, n_points))
    mix_max = 4  # (remitted, partial) x (with, without a sudden gain)
    shares_all, ln_hrs_all = np.zeros((n_t, n, mix_max)), np.zeros((n_t, n, mix_max))
    n_mix = np.empty(n_t, dtype=np.int64)
    log_base_all, surv_all = np.empty((n_t, n)), np.empty((n_t, n))
    for k, name in enumerate(used_t):
        t = par["treatments"][name]
        vt = {f: v(p) for f, p in t.items() if isinstance(p, dict) and "value" in p}
        ln_or = _response_log_odds_ratio_draws(d, t, base)
        nf_rel = vt["relapse_prior_failures"].astype(np.int64)
        weeks = vt["trial_weeks"]
        h_j = natural_hazard(base.nhz[rows, nf_rel][:, None] + eta_base, base.nh_weeks[:, None])
        c_j = _logistic(base.ctxz[rows, nf_rel][:, None] + eta_base)
        q_j = _no_response_draws(c_j, h_j, weeks, base.ctx_first, base.ctx_last)
        responders = ref.weight * _logistic(np.log1p(-q_j) - np.log(q_j) + ln_or[:, None])
        t_last = vt.get("relapse_t2", vt["relapse_t1"])
        p_last = vt.get("relapse_p2", vt["relapse_p1"])
        log_base = -_scalar_pow(t_last / rb_scale, rb_shape)
        rem_share = _relapse_entry_share(t, vt["remission_share"])
        shares = [rem_share, 1.0 - rem_share]
        ln_hrs = [np.zeros(n), ef[:, L.EF_R_RESID]]
        if t["psychotherapy"]:
            sg = ef[:, L.EF_SG_PROB]
            shares = [s * (1.0 - sg) for s in shares] + [s * sg for s in shares]
            ln_hrs = ln_hrs + [h + ef[:, L.EF_R_SG] for h in ln_hrs]
        ref_hr = mx[:, used_m.index(t["relapse_reference"]), L.MX_HR]
        lin = (
            lin_relapse
            + (ef[:, L.EF_R_FAIL] * (nf_rel - ef[:, L.EF_R_NF0]))[:, None]
            + np.log(ref_hr)[:, None]
        )
        tx[:, k, L.TX_LN_OR] = ln_or
        tx[:, k, L.TX_OR] = [math.exp(x) for x in ln_or]  # as compile_inputs: the kernel's exp
        for f, col in _COPIED:
            tx[:, k, col] = vt[f]
        w_all[k] = responders / responders.sum(axis=1, keepdims=True)
        lin_all[k] = lin
        n_mix[k] = len(shares)
        shares_all[k, :, : len(shares)] = np.stack(shares, axis=1)
        ln_hrs_all[k, :, : len(shares)] = np.stack(ln_hrs, axis=1)
        log_base_all[k] = log_base
        surv_all[k] = 1.0 - p_last
        tx[:, k, L.TX_MONO] = float(t["monoaminergic"])
        tx[:, k, L.TX_PSYCH] = float(t["psychotherapy"])
        tx[:, k, L.TX_COUNTS] = float(t["counts_as_trial"])
        tx[:, k, L.TX_COST_WEEK] = d.weekly_cost(t, vt["sessions"], weeks)
        tx[:, k, L.TX_ENDURING_LNHR] = np.log(vt.get("enduring_relapse_hr", 1.0))
        tx[:, k, L.TX_ENDURING_HALF] = vt.get("enduring_half_life_weeks", math.inf)
        if "relapse_shape" in vt:
            shapes[k] = (
                np.broadcast_to(vt["relapse_shape"], (n,)),
                np.broadcast_to(t_last, (n,)),
                -log_base,
            )
    log_c = _solve_log_multipliers(
        w_all, lin_all, shares_all, ln_hrs_all, n_mix, log_base_all, surv_all
    )
    tx[:, :, L.TX_RELAPSE_HR] = np.exp(log_c).T

    interactions = [
        (frozenset(i["components"]), v(i["excess_multiplier"]), v(i["relapse_hr"]))
        for i in par["interactions"].values()
    ]
    h = scenario.horizon_weeks
    weeks = np.arange(h + 1, dtype=np.float64)
    cum_h = _array_pow(weeks / rb_scale[:, None], rb_shape)
    curves = {
        k: np.stack(
            [shape_multiplier(float(sh[d]), float(tr[d]), float(hr[d]), cum_h[d]) for d in range(n)]
        )
        for k, (sh, tr, hr) in shapes.items()
    }
    compiled = {
        a: compile_pathway_draws(
            scenario.pathways[a],
            used_t,
            tx,
            used_m,
            mx,
            interactions,
            h,
            _enduring(par, used_t),
            curves,
        )
        for a in scenario.arms
    }
    disc_q = discount_factors(scenario.discount_qalys, h)
    first = ModelInputs(
        treatments=used_t,
        tx=tx[0].copy(),
        maintenance=used_m,
        mx=mx[0].copy(),
        ef=ef[0].copy(),
        nhz=base.nhz[0].copy(),
        ctxz=base.ctxz[0].copy(),
        mort_h=weekly_mortality_hazard(scenario.life_table),
        cum_h=cum_h[0].copy(),
        disc_q=disc_q,
        qaly_weight=disc_q / 52.0,
        disc_c=discount_factors(scenario.discount_costs, h),
        pathways={a: p for a, (p, _) in compiled.items()},
    )
    return DrawInputs(
        first=first,
        tx=tx,
        mx=mx,
        ef=ef,
        nhz=base.nhz,
        ctxz=base.ctxz,
        cum_h=cum_h,
        pathways={a: DrawPathway(structure=p, **arr) for a, (p, arr) in compiled.items()},
    )


def _merge_draws(parts: list[DrawInputs], groups: list[np.ndarray], n: int) -> DrawInputs:
    """DrawInputs of n draws from those of groups of them (each group's draw indices)."""

    def merge(get) -> np.ndarray:
        first = get(parts[0])
        out = np.empty((n, *first.shape[1:]), dtype=first.dtype)
        for part, g in zip(parts, groups, strict=True):
            out[g] = get(part)
        return out

    fields = ("step_xmult", "step_rhr", "maint_hr", "maint_cost", "maint_last", "usual_cost",
              "usual_disutility")  # fmt: skip
    head = next(p for p, g in zip(parts, groups, strict=True) if g[0] == 0)  # holds draw 0
    return DrawInputs(
        first=head.first,
        tx=merge(lambda x: x.tx),
        mx=merge(lambda x: x.mx),
        ef=merge(lambda x: x.ef),
        nhz=merge(lambda x: x.nhz),
        ctxz=merge(lambda x: x.ctxz),
        cum_h=merge(lambda x: x.cum_h),
        pathways={
            a: DrawPathway(
                structure=p.structure,
                **{f: merge(lambda x, a=a, f=f: getattr(x.pathways[a], f)) for f in fields},
            )
            for a, p in head.pathways.items()
        },
    )
