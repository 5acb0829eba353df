"""EVSI by regression on simulated study data, against closed forms, and ENBS."""

import numpy as np
import pandas as pd
import pytest
from pytest import approx

from trdsim.analysis.decision import check_table
from trdsim.analysis.evsi import Study, check_sizes, enbs, evsi
from trdsim.errors import TrdsimError

K = 2000


def _table(inc_nmb, params):
    rows = []
    for d in range(len(inc_nmb)):
        p = {k: v[d] for k, v in params.items()}
        rows.append({"draw": d, "arm": "A", "cost": 0.0, "qaly": 0.0, **p})
        rows.append({"draw": d, "arm": "B", "cost": 0.0, "qaly": inc_nmb[d], **p})
    return check_table(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def normal_table():
    rng = np.random.default_rng(21)
    a, b = rng.standard_normal((2, K))
    return _table(a + b, {"a": a, "b": b}), a


def test_evsi_is_zero_without_a_study_grows_with_n_and_tends_to_the_evppi(normal_table):
    t, a = normal_table
    study = Study("a", "normal", sd=1.0)
    r = evsi(t, study, [0, 1, 4, 16, 100_000], [1.0]).set_index("n")
    assert r.evsi[0] == 0.0 and r.se[0] == 0.0
    # prior a ~ N(0, 1), data mean ~ N(a, 1/n): E[a | data] has SD sqrt(n / (n + 1)) and
    # EVSI = E[max(0, E[a | data])] = sqrt(n / (n + 1)) / sqrt(2 pi), on this sample
    sample_factor = (np.maximum(a, 0).mean() - max(a.mean(), 0)) / (1 / np.sqrt(2 * np.pi))
    for n in (1, 4, 16):
        expected = sample_factor * np.sqrt(n / (n + 1)) / np.sqrt(2 * np.pi)
        assert r.evsi[n] == approx(expected, abs=max(0.02, 2.5 * r.se[n])), n
    assert r.evsi[1] < r.evsi[4] < r.evsi[16] <= r.evppi[16]
    assert r.evsi[100_000] == approx(r.evppi[100_000], rel=0.01)
    assert (r.evsi <= r.evppi).all()


def test_an_odds_ratio_trial_and_a_proportion_study():
    rng = np.random.default_rng(4)
    odds_ratio = np.exp(rng.normal(0.3, 0.4, K))
    p = rng.beta(20, 30, K)
    t = _table(np.log(odds_ratio) - 0.3 + 2 * (p - 0.4), {"or": odds_ratio, "p": p})
    trial = Study("or", "odds-ratio", control_rate=0.3)
    r = evsi(t, trial, [10, 100, 50_000], [1.0]).set_index("n")
    assert 0 < r.evsi[10] < r.evsi[100] < r.evsi[50_000]
    assert r.evsi[50_000] == approx(r.evppi[50_000], rel=0.03)
    one_arm = evsi(t, Study("p", "proportion"), [20, 100_000], [1.0]).set_index("n")
    assert one_arm.evsi[20] < one_arm.evsi[100_000] == approx(one_arm.evppi[100_000], rel=0.03)


def test_enbs_is_population_evsi_less_the_study_cost_and_marks_the_optimum(normal_table):
    t, _ = normal_table
    study = Study("a", "odds-ratio", control_rate=0.4)  # 2 arms; a > 0 needed
    with pytest.raises(TrdsimError, match="draws > 0"):
        evsi(t, study, [10], [1.0])
    trial = Study("a", "normal", sd=2.0)
    r = enbs(evsi(t, trial, [5, 50, 500], [1.0]), trial, 1000.0, 20.0, 0.5)
    assert list(r.study_cost) == [20 + 0.5 * 5, 20 + 0.5 * 50, 20 + 0.5 * 500]
    assert np.allclose(r.enbs, 1000.0 * r.evsi - r.study_cost)
    assert r.optimal.sum() == 1 and r.enbs[r.optimal].iloc[0] == r.enbs.max()
    dear = enbs(evsi(t, trial, [5, 50], [1.0]), trial, 1.0, 1e6, 0.0)
    assert not dear.optimal.any()  # no size is worth its cost


def test_a_design_lacking_a_number_or_with_no_patients_is_refused(normal_table):
    t, _ = normal_table
    with pytest.raises(TrdsimError, match="control arm's event rate"):
        evsi(t, Study("a", "odds-ratio"), [10], [1.0])
    with pytest.raises(TrdsimError, match="SD of one observation"):
        evsi(t, Study("a", "normal"), [10], [1.0])
    with pytest.raises(TrdsimError, match="unknown parameter"):
        evsi(t, Study("nope", "normal", sd=1.0), [10], [1.0])
    with pytest.raises(TrdsimError, match="not one of"):
        evsi(t, Study("a", "survival", sd=1.0), [10], [1.0])
    with pytest.raises(TrdsimError, match=">= 1"):
        check_sizes([0, 10])
