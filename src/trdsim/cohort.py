"""Sampling patient attributes at entry (heterogeneity).

Attributes are drawn with the counter-based generator, keyed by patient id, so the
same patient has the same attributes in every arm, block and thread layout.
"""

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
    standard_normal,
    uniform,
)
from trdsim.scenario import Scenario

__all__ = ["COHORT_ARRAYS", "Cohort", "sample_cohort"]

_REJECTION_ATTEMPTS = 16  # rejection attempts for the truncated age and severity distributions


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


@numba.njit(parallel=True, cache=True)
def _sample(
    seed,
    pid0,
    n,
    age_mean,
    age_sd,
    age_min,
    age_max,
    female,
    sev_mean,
    sev_sd,
    sev_min,
    sev_max,
    fail_values,
    fail_cum,
    p_malt,
    p_infl,
    p_chronic,
):
    age = np.empty(n, np.float32)
    sex = np.empty(n, np.int8)
    sev = np.empty(n, np.float32)
    malt = np.empty(n, np.int8)
    infl = np.empty(n, np.int8)
    flex = np.empty(n, np.float32)
    chronic = np.empty(n, np.int8)
    fails = np.empty(n, np.int8)
    for i in numba.prange(n):
        pid = pid0 + i
        a = min(max(age_mean, age_min), age_max)  # fallback if every attempt is rejected
        for k in range(_REJECTION_ATTEMPTS):
            x = age_mean + age_sd * standard_normal(seed, pid, P_AGE + k)
            if age_min <= x <= age_max:
                a = x
                break
        age[i] = a
        sex[i] = 1 if uniform(seed, pid, -1, P_SEX) < female else 0
        # truncated normal by rejection (the first draw is the untruncated one's)
        x = sev_mean + sev_sd * standard_normal(seed, pid, P_SEVERITY)
        k = 1
        while not (sev_min <= x <= sev_max) and k < _REJECTION_ATTEMPTS:
            x = sev_mean + sev_sd * standard_normal(seed, pid, P_SEVERITY_RETRY + k)
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
    return age, sex, sev, malt, infl, flex, chronic, fails


def sample_cohort(scenario: Scenario, n: int, seed: int, pid0: int = 0) -> Cohort:
    """Draw patients pid0 .. pid0 + n - 1 of the scenario's cohort."""
    c = {k: p["value"] for k, p in scenario.params["cohort"].items()}
    shares = scenario.failed_trials_shares or {scenario.failed_trials: 1.0}
    values = np.array(list(shares), dtype=np.int8)
    cum = np.cumsum(np.array(list(shares.values()), dtype=np.float64))
    age, sex, sev, malt, infl, flex, chronic, fails = _sample(
        np.uint64(seed),
        pid0,
        n,
        float(c["age_mean"]),
        float(c["age_sd"]),
        float(c["age_min"]),
        float(c["age_max"]),
        float(c["female_share"]),
        float(c["severity_mean"]),
        float(c["severity_sd"]),
        float(c["severity_min"]),
        float(c["severity_max"]),
        values,
        cum,
        float(c["maltreatment_share"]),
        float(c["inflammation_share"]),
        float(c["chronic_share"]),
    )
    return Cohort(pid0, age, sex, sev, malt, infl, flex, fails, chronic)
