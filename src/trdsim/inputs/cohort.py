"""Sampling patient attributes at entry (heterogeneity).

Attributes are drawn with the counter-based generator, keyed by patient id, so the
same patient has the same attributes in every arm, block and thread layout. Age and
severity are normal, truncated to the cohort's eligibility range, and drawn exactly: one
uniform each through the truncated normal's inverse CDF (Wichura's AS241 for the normal
quantile), so a narrow range (severity >= 35, age 70-90) has the truncated normal's
shape, with no point mass at a bound.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numba
import numpy as np

from trdsim.engine.rng import (
    P_AGE,
    P_CHRONIC,
    P_FAILED,
    P_FLEXIBILITY,
    P_INFLAMMATION,
    P_MALTREATMENT,
    P_SEVERITY,
    P_SEX,
    standard_normal,
    uniform,
)
from trdsim.scenario import Scenario

__all__ = [
    "COHORT_ARRAYS",
    "Cohort",
    "ndtri",
    "sample_cohort",
    "sample_cohorts",
    "truncated_normal",
]


# the per-patient arrays of a Cohort, in its field order after pid0
COHORT_ARRAYS = (
    "age",
    "sex",
    "severity",
    "maltreatment",
    "inflammation",
    "flexibility",
    "failed_trials",
    "chronic",
)


@dataclass(frozen=True)
class Cohort:
    """Structure of arrays, one entry per patient (the arrays: `COHORT_ARRAYS`)."""

    pid0: int
    age: np.ndarray  # years at entry (float32)
    sex: np.ndarray  # 0 male, 1 female (int8)
    severity: np.ndarray  # baseline HRSD-17 (float32)
    maltreatment: np.ndarray  # int8 flag
    inflammation: np.ndarray  # int8 flag (CRP > 3 mg/L)
    flexibility: np.ndarray  # psychological flexibility, z-score (float32)
    failed_trials: np.ndarray  # failed adequate trials at entry (int8)
    chronic: np.ndarray  # int8 flag: current episode has lasted 2 years or more

    def __len__(self) -> int:
        return self.age.shape[0]

    def attributes(self) -> dict[str, np.ndarray]:
        """Attributes at entry by name (what personalised rules and subgroups use)."""
        return {
            "age": self.age,
            "sex": self.sex,
            "severity": self.severity,
            "failed_trials": self.failed_trials,
            "maltreatment": self.maltreatment,
            "inflammation": self.inflammation,
            "flexibility": self.flexibility,
            "chronic": self.chronic,
        }


# the cohort parameters a patient's draw reads, in the order of _patient's arguments
_PARAMS = (
    "age_mean",
    "age_sd",
    "age_min",
    "age_max",
    "female_share",
    "severity_mean",
    "severity_sd",
    "severity_min",
    "severity_max",
    "maltreatment_share",
    "inflammation_share",
    "chronic_share",
)


@numba.njit(cache=True)
def _poly(c, r):
    """c[0] + c[1] r + ... + c[7] r^7 (Horner)."""
    v = c[7]
    for j in range(6, -1, -1):
        v = v * r + c[j]
    return v


# Wichura (1988), Algorithm AS 241 (PPND16), Appl Stat 37:477: the normal quantile to
# about 1e-16 relative accuracy. Numerators a, c, e and denominators b, d, f (b0 = d0 =
# f0 = 1), lowest power first.
_A = np.array([3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
               1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
               3.3430575583588128105e4, 2.5090809287301226727e3])  # fmt: skip
_B = np.array([1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
               2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
               5.2264952788528545610e3])  # fmt: skip
_C = np.array([1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
               3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
               2.27238449892691845833e-2, 7.74545014278341407640e-4])  # fmt: skip
_D = np.array([1.0, 2.05319162663775882187e0, 1.67638483018380384940e0,
               6.89767334985100004550e-1, 1.48103976427480074590e-1, 1.51986665636164571966e-2,
               5.47593808499534494600e-4, 1.05075007164441684324e-9])  # fmt: skip
_E = np.array([6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
               2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
               2.71155556874348757815e-5, 2.01033439929228813265e-7])  # fmt: skip
_F = np.array([1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1,
               1.48753612908506148525e-2, 7.86869131145613259100e-4, 1.84631831751005468180e-5,
               1.42151175831644588870e-7, 2.04426310338993978564e-15])  # fmt: skip


@numba.njit(cache=True)
def ndtri(p):
    """The standard normal quantile Φ⁻¹(p) (AS241; -inf at 0, inf at 1, nan outside)."""
    if not (0.0 <= p <= 1.0):
        return np.nan
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(_A, r) / _poly(_B, r)
    r = p if q < 0.0 else 1.0 - p
    if r <= 0.0:
        return -np.inf if q < 0.0 else np.inf
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        v = _poly(_C, r) / _poly(_D, r)
    else:
        r -= 5.0
        v = _poly(_E, r) / _poly(_F, r)
    return -v if q < 0.0 else v


_SQRT2 = math.sqrt(2.0)


@numba.njit(cache=True)
def truncated_normal(u, mean, sd, lo, hi):
    """The normal(mean, sd) truncated to [lo, hi] at the uniform u in [0, 1): its
    inverse CDF. In the upper tail it works with upper-tail probabilities, so that a
    range far above the mean (severity >= 45 of mean 22) keeps its precision."""
    if not sd > 0.0:
        return min(max(mean, lo), hi)
    a = (lo - mean) / sd
    b = (hi - mean) / sd
    if a > 0.0:
        qa = 0.5 * math.erfc(a / _SQRT2)  # P(Z > a) > P(Z > b)
        qb = 0.5 * math.erfc(b / _SQRT2)
        z = -ndtri(qa - u * (qa - qb))
    else:
        pa = 0.5 * math.erfc(-a / _SQRT2)
        pb = 0.5 * math.erfc(-b / _SQRT2)
        z = ndtri(pa + u * (pb - pa))
    return mean + sd * min(max(z, a), b)  # (rounding at a bound)


@numba.njit(inline="always", cache=True)
def _patient(
    i, seed, pid, age_mean, age_sd, age_min, age_max, female, sev_mean, sev_sd, sev_min,
    sev_max, p_malt, p_infl, p_chronic, fail_values, fail_cum,
    age, sex, sev, malt, infl, flex, chronic, fails,
):  # fmt: skip
    """Draw patient `pid`'s attributes into row i of the output arrays."""
    # truncated normals, exactly: one uniform each through the inverse CDF
    age[i] = truncated_normal(uniform(seed, pid, -1, P_AGE), age_mean, age_sd, age_min, age_max)
    sex[i] = 1 if uniform(seed, pid, -1, P_SEX) < female else 0
    u = uniform(seed, pid, -1, P_SEVERITY)
    sev[i] = truncated_normal(u, sev_mean, sev_sd, sev_min, sev_max)
    # failed trials at entry from the cohort's distribution (one value: no draw)
    f = fail_values[fail_values.shape[0] - 1]
    if fail_values.shape[0] > 1:
        u = uniform(seed, pid, -1, P_FAILED)
        for j in range(fail_values.shape[0]):
            if u < fail_cum[j]:
                f = fail_values[j]
                break
    fails[i] = f
    malt[i] = 1 if uniform(seed, pid, -1, P_MALTREATMENT) < p_malt else 0
    infl[i] = 1 if uniform(seed, pid, -1, P_INFLAMMATION) < p_infl else 0
    flex[i] = standard_normal(seed, pid, P_FLEXIBILITY)
    chronic[i] = 1 if uniform(seed, pid, -1, P_CHRONIC) < p_chronic else 0


@numba.njit(cache=True)
def _empty(n):
    return (
        np.empty(n, np.float32),  # age
        np.empty(n, np.int8),  # sex
        np.empty(n, np.float32),  # severity
        np.empty(n, np.int8),  # maltreatment
        np.empty(n, np.int8),  # inflammation
        np.empty(n, np.float32),  # flexibility
        np.empty(n, np.int8),  # chronic
        np.empty(n, np.int8),  # failed trials
    )


@numba.njit(parallel=True, cache=True)
def _sample(seed, pid0, n, par, fail_values, fail_cum):
    """Patients pid0 .. pid0 + n - 1; par: the cohort parameters in _PARAMS order."""
    age, sex, sev, malt, infl, flex, chronic, fails = _empty(n)
    for i in numba.prange(n):
        _patient(
            i, seed, pid0 + i, par[0], par[1], par[2], par[3], par[4], par[5], par[6], par[7],
            par[8], par[9], par[10], par[11], fail_values, fail_cum,
            age, sex, sev, malt, infl, flex, chronic, fails,
        )  # fmt: skip
    return age, sex, sev, malt, infl, flex, chronic, fails


@numba.njit(parallel=True, cache=True)
def _sample_draws(seeds, n_per, par, fail_values, fail_cum):
    """Patients 0 .. n_per - 1 of each draw d (seed seeds[d], cohort parameters par[d]),
    one draw after another: each as _sample draws it with that seed and parameters."""
    n = seeds.shape[0] * n_per
    age, sex, sev, malt, infl, flex, chronic, fails = _empty(n)
    for i in numba.prange(n):
        d = i // n_per
        q = par[d]
        _patient(
            i, seeds[d], i - d * n_per, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8],
            q[9], q[10], q[11], fail_values, fail_cum,
            age, sex, sev, malt, infl, flex, chronic, fails,
        )  # fmt: skip
    return age, sex, sev, malt, infl, flex, chronic, fails


def _failed_trials(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Values of failed trials at entry and their cumulative shares."""
    shares = scenario.failed_trials_shares or {scenario.failed_trials: 1.0}
    values = np.array(list(shares), dtype=np.int8)
    cum = np.cumsum(np.array(list(shares.values()), dtype=np.float64))
    return values, cum


def sample_cohort(scenario: Scenario, n: int, seed: int, pid0: int = 0) -> Cohort:
    """Draw patients pid0 .. pid0 + n - 1 of the scenario's cohort."""
    c = scenario.params["cohort"]
    par = np.array([float(c[k]["value"]) for k in _PARAMS])
    arrays = _sample(np.uint64(seed), pid0, n, par, *_failed_trials(scenario))
    age, sex, sev, malt, infl, flex, chronic, fails = arrays
    return Cohort(pid0, age, sex, sev, malt, infl, flex, fails, chronic)


def sample_cohorts(
    scenario: Scenario, n: int, seeds: np.ndarray, values: Mapping[str, np.ndarray]
) -> Cohort:
    """n patients of each of several parameter draws in one call, one draw after another
    (numbered from 0 within a draw): draw d's are sample_cohort(its scenario, n, seeds[d])
    exactly. values: (draws,) arrays by flattened parameter key; cohort.* keys among them
    replace the scenario's values."""
    c = scenario.params["cohort"]
    d = len(seeds)
    par = np.empty((d, len(_PARAMS)))
    for j, k in enumerate(_PARAMS):
        par[:, j] = values.get(f"cohort.{k}", float(c[k]["value"]))
    seeds = np.asarray(seeds, dtype=np.uint64)
    arrays = _sample_draws(seeds, n, par, *_failed_trials(scenario))
    age, sex, sev, malt, infl, flex, chronic, fails = arrays
    return Cohort(0, age, sex, sev, malt, infl, flex, fails, chronic)
