"""Eligibility ranges are drawn exactly (issue 33): age and severity follow the normal
truncated to the cohort's range, with no point mass at a bound; the numba normal
quantile (AS241) agrees with scipy's."""

import numpy as np
import pytest
from helpers import scenario_with
from scipy import special, stats

from trdsim.inputs.cohort import ndtri, sample_cohort, truncated_normal

N = 200_000


def test_the_normal_quantile_is_scipys_to_1e_15():
    p = np.concatenate(
        [
            np.linspace(1e-6, 1 - 1e-6, 20_001),
            np.logspace(-300, -1, 2_000),
            1 - np.logspace(-16, -1, 200),
            [0.425, 0.075, 0.5, 0.925, np.exp(-25.0)],
        ]
    )
    ours = np.array([ndtri(x) for x in p])
    ref = special.ndtri(p)
    np.testing.assert_allclose(ours, ref, rtol=1e-15 * 8, atol=1e-15)
    assert ndtri(0.0) == -np.inf and ndtri(1.0) == np.inf and np.isnan(ndtri(1.5))


@pytest.mark.parametrize(
    "mean, sd, lo, hi",
    [
        (21.8, 5.2, 35.0, 52.0),  # severity >= 35: far in the upper tail
        (49.6, 11.7, 70.0, 90.0),  # age 70-90
        (21.8, 5.2, 0.0, 52.0),  # the default: barely truncated
        (21.8, 5.2, 10.0, 12.0),  # a narrow band below the mean
        (21.8, 5.2, 45.0, 52.0),  # 4.5 SD above the mean
    ],
)
def test_a_truncated_draw_has_the_truncated_normals_mean_and_variance(mean, sd, lo, hi):
    u = (np.arange(N) + 0.5) / N  # a stratified sample of the uniform
    x = np.array([truncated_normal(v, mean, sd, lo, hi) for v in u])
    ref = stats.truncnorm((lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd)
    assert x.min() >= lo and x.max() <= hi
    assert abs(x.mean() - ref.mean()) < 1e-3 * sd
    assert abs(x.var() - ref.var()) < 1e-3 * ref.var()
    # no point mass: no value repeats (a clamp put 92 % of patients at 35)
    assert np.unique(x).size > 0.999 * N


@pytest.mark.parametrize(
    "cohort, attr, lo, hi, mean, sd",
    [
        ({"severity_min": 35.0}, "severity", 35.0, 52.0, 21.8, 5.2),
        ({"age_min": 70.0, "age_max": 90.0}, "age", 70.0, 90.0, 49.6, 11.7),
    ],
)
def test_a_narrow_eligibility_range_leaves_no_patient_stacked_at_its_bound(
    cohort, attr, lo, hi, mean, sd
):
    sc = scenario_with(cohort=cohort)
    c = sample_cohort(sc, 20_000, seed=7)
    x = getattr(c, attr).astype(np.float64)
    at_bound = np.mean(np.isclose(x, lo, atol=1e-4, rtol=0))
    assert at_bound < 0.001, f"{at_bound:.1%} of patients exactly at {attr} {lo}"
    ref = stats.truncnorm((lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd)
    se = ref.std() / np.sqrt(x.size)
    assert abs(x.mean() - ref.mean()) < 4 * se
    # the same patient has the same attributes in any block (counter-based)
    part = sample_cohort(sc, 50, seed=7, pid0=100)
    np.testing.assert_array_equal(getattr(part, attr), getattr(c, attr)[100:150])
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3
