"""Sampling patient attributes at entry (heterogeneity).

Attributes are drawn with the counter-based generator, keyed by patient id, so the
same patient has the same attributes in every arm, block and thread layout.
"""

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
    P_SEVERITY_RETRY,
    P_SEX,
    REJECTION_ATTEMPTS,
    standard_normal,
    uniform,
)
from trdsim.scenario import Scenario

__all__ = ["COHORT_ARRAYS", "Cohort", "sample_cohort", "sample_cohorts"]


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


@numba.njit(inline="always", cache=True)
def _patient(
    i, seed, pid, age_mean, age_sd, age_min, age_max, female, sev_mean, sev_sd, sev_min,
    sev_max, p_malt, p_infl, p_chronic, fail_values, fail_cum,
    age, sex, sev, malt, infl, flex, chronic, fails,
):  # fmt: skip
    """Draw patient `pid`'s attributes into row i of the output arrays."""
    a = min(max(age_mean, age_min), age_max)  # fallback if every attempt is rejected
    for k in range(REJECTION_ATTEMPTS):
        x = age_mean + age_sd * standard_normal(seed, pid, P_AGE + k)
        if age_min <= x <= age_max:
            a = x
            break
    age[i] = a
    sex[i] = 1 if uniform(seed, pid, -1, P_SEX) < female else 0
    # truncated normal by rejection (the first draw is the untruncated one's)
    x = sev_mean + sev_sd * standard_normal(seed, pid, P_SEVERITY)
    k = 1
    while not (sev_min <= x <= sev_max) and k < REJECTION_ATTEMPTS:
        x = sev_mean + sev_sd * standard_normal(seed, pid, P_SEVERITY_RETRY + k - 1)
        k += 1
    sev[i] = min(max(x, sev_min), sev_max)  # fallback if every attempt is rejected
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
