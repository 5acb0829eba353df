"""EVPPI by GP regression against values known in closed form on synthetic PSA tables."""

import numpy as np
import pandas as pd
from pytest import approx

from trdsim.analysis.decision import check_table, evpi
from trdsim.analysis.evppi import evppi

K = 800


def _table(inc_nmb, params):
    """Two arms; at lambda = 1 with cost 0, NMB = QALYs: B - A = inc_nmb."""
    rows = []
    for d in range(len(inc_nmb)):
        p = {k: v[d] for k, v in params.items()}
        rows.append({"draw": d, "arm": "A", "cost": 0.0, "qaly": 0.0, **p})
        rows.append({"draw": d, "arm": "B", "cost": 0.0, "qaly": inc_nmb[d], **p})
    return check_table(pd.DataFrame(rows))


def test_evppi_matches_its_closed_form_and_never_exceeds_evpi():
    rng = np.random.default_rng(11)
    a, b, noise = rng.standard_normal((3, K))
    t = _table(a + b + 0.1 * noise, {"a": a, "b": b, "unrelated": rng.standard_normal(K)})
    total = evpi(t, [1.0]).evpi.iloc[0]
    one = evppi(t, ["a"], 1.0)
    # E[max(0, a)] - max(0, E[a]) on this sample: what perfect knowledge of a is worth
    expected = np.maximum(a, 0).mean() - max(a.mean(), 0)
    assert one["evppi"] == approx(expected, abs=0.03)
    assert one["evppi"] <= total
    assert 0 < one["se"] < 0.05
    assert evppi(t, ["unrelated"], 1.0)["evppi"] < 0.02
    # all the parameters that matter: EVPPI ~ EVPI (the noise is 0.1 of 1.4 sd)
    both = evppi(t, ["a", "b", "unrelated"], 1.0)
    assert both["evppi"] == approx(total, rel=0.03)


def test_evppi_of_a_nonlinear_effect():
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, K)
    t = _table(x**2 - 1.0 + 0.05 * rng.standard_normal(K), {"x": x})
    g = x**2 - 1.0
    expected = np.maximum(g, 0).mean() - max(g.mean(), 0)
    assert evppi(t, ["x"], 1.0)["evppi"] == approx(expected, abs=0.03)


def test_evppi_is_zero_without_decision_uncertainty():
    rng = np.random.default_rng(2)
    a = rng.standard_normal(200)
    r = evppi(_table(5.0 + 0.1 * a, {"a": a}), ["a"], 1.0)
    assert r["evppi"] == 0.0 and r["evpi"] == 0.0
