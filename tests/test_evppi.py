"""EVPPI by regression against values known in closed form, against dampack, and its
curve over thresholds."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pytest import approx

from trdsim.analysis.decision import check_table, evpi
from trdsim.analysis.evppi import curve_from_fit, evppi, evppi_tables
from trdsim.errors import TrdsimError

K = 800
DAMPACK = Path("/work/shared/peers/dampack")
REPO = Path(__file__).resolve().parents[1]


def _table(inc_nmb, params, inc_cost=None):
    """Two arms; at lambda = 1, NMB = QALYs - cost: B - A = inc_nmb - inc_cost."""
    rows = []
    cost = np.zeros(len(inc_nmb)) if inc_cost is None else inc_cost
    for d in range(len(inc_nmb)):
        p = {k: v[d] for k, v in params.items()}
        rows.append({"draw": d, "arm": "A", "cost": 0.0, "qaly": 0.0, **p})
        rows.append({"draw": d, "arm": "B", "cost": cost[d], "qaly": inc_nmb[d], **p})
    return check_table(pd.DataFrame(rows))


def _closed_form(g):
    """E[max(0, g)] - max(0, E[g]) on this sample."""
    return np.maximum(g, 0).mean() - max(g.mean(), 0)


def test_evppi_matches_its_closed_form_and_never_exceeds_evpi():
    rng = np.random.default_rng(11)
    a, b, noise = rng.standard_normal((3, K))
    t = _table(a + b + 0.1 * noise, {"a": a, "b": b, "unrelated": rng.standard_normal(K)})
    total = evpi(t, [1.0]).evpi.iloc[0]
    one = evppi(t, ["a"], 1.0)
    # INMB = a + b: what perfect knowledge of a is worth is E[max(0, a)] - max(0, E[a])
    assert one["evppi"] == approx(_closed_form(a), abs=0.03)
    assert one["method"] == "gam" and not one["clipped"]
    assert one["evppi"] <= total
    assert 0 < one["se"] < 0.05
    assert evppi(t, ["unrelated"], 1.0)["evppi"] < 0.02
    # all the parameters that matter: EVPPI ~ EVPI (the noise is 0.1 of 1.4 sd)
    both = evppi(t, ["a", "b", "unrelated"], 1.0)
    assert both["evppi"] == approx(total, rel=0.03)
    assert both["evppi"] <= total


def test_evppi_of_a_nonlinear_effect_and_an_interaction():
    rng = np.random.default_rng(5)
    x, z = rng.uniform(-2, 2, (2, K))
    g = x**2 - 1.0
    t = _table(g + 0.05 * rng.standard_normal(K), {"x": x})
    assert evppi(t, ["x"], 1.0)["evppi"] == approx(_closed_form(g), abs=0.03)
    # a pure interaction: no main effect of x or z, so an additive fit would find nothing
    h = x * z
    t2 = _table(h + 0.1 * rng.standard_normal(K), {"x": x, "z": z})
    assert evppi(t2, ["x", "z"], 1.0)["evppi"] == approx(_closed_form(h), rel=0.05)


def test_a_large_group_keeps_the_interaction_of_its_influential_parameters():
    """Five parameters: the GAM screens for the three with the largest main effects and
    fits their interactions ("gam-screened"); x * z has main effects through x + z."""
    rng = np.random.default_rng(8)
    p = {k: rng.uniform(-1, 1, K) for k in ("x", "z", "u", "v", "w")}
    g = p["x"] + p["z"] + 2 * p["x"] * p["z"] + 0.2 * p["u"]
    t = _table(g + 0.1 * rng.standard_normal(K), p)
    r = evppi(t, list(p), 1.0)
    assert r["method"] == "gam-screened"
    assert r["evppi"] == approx(_closed_form(g), rel=0.05)


def test_evppi_is_zero_without_decision_uncertainty():
    rng = np.random.default_rng(2)
    a = rng.standard_normal(200)
    r = evppi(_table(5.0 + 0.1 * a, {"a": a}), ["a"], 1.0)
    assert r["evppi"] == 0.0 and r["evpi"] == 0.0


def test_costs_and_qalys_fitted_apart_give_the_curve_over_thresholds():
    """inc cost = c, inc QALY = q: at lambda, INMB = lambda q - c, so the EVPPI of q is
    the closed form of lambda q - E[c] and that of c of lambda E[q] - c, at every lambda."""
    rng = np.random.default_rng(3)
    q, c, noise = rng.standard_normal((3, K))
    t = _table(q + 0.05 * noise, {"q": q, "c": c}, inc_cost=c)
    grid = [0.0, 0.5, 1.0, 2.0, 4.0]
    table, curve = evppi_tables(t, {"q": ["q"], "c": ["c"]}, [1.0, 2.0], grid)
    for lam in grid:
        at = curve[curve.threshold == lam].set_index("group")
        # within 2.5 SE: the SE carries e.g. the error of q's fitted slope on c, x lambda
        for name, g in (("q", lam * q - c.mean()), ("c", lam * q.mean() - c)):
            tolerance = max(0.03, 2.5 * at.se[name])
            assert at.evppi[name] == approx(_closed_form(g), abs=tolerance), (name, lam)
    # the table at a decision threshold is the curve there, and one-threshold EVPPI too
    merged = table.merge(curve, on=["group", "threshold"], suffixes=("", "_curve"))
    assert len(merged) == 4
    assert (merged.evppi == merged.evppi_curve).all() and (merged.se == merged.se_curve).all()
    single = evppi(t, ["q"], 2.0)
    row = table[(table.group == "q") & (table.threshold == 2.0)].iloc[0]
    assert single["evppi"] == row.evppi and single["se"] == row.se
    assert set(table.method) == {"gam"}
    assert (curve.evppi <= curve.evpi).all()


def test_an_estimate_above_the_evpi_is_clipped_and_flagged():
    rng = np.random.default_rng(4)
    dq = rng.standard_normal((300, 1))
    dc = np.zeros((300, 1))
    fitted = np.column_stack([dc, 2.0 * dq])  # an over-dispersed fit: twice the spread
    sampled = np.repeat(fitted.T[:, :, None], 5, axis=2)
    out = curve_from_fit(fitted, sampled, dc, dq, [1.0])
    total = _closed_form(dq[:, 0])
    assert out.clipped.iloc[0] and out.value.iloc[0] == approx(total)
    fair = curve_from_fit(np.column_stack([dc, 0.5 * dq]), sampled * 0.25, dc, dq, [1.0])
    assert not fair.clipped.iloc[0] and fair.value.iloc[0] < total


def test_methods_by_name_and_the_exact_gp_agrees_on_a_small_table():
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((2, 150))
    t = _table(a + b, {"a": a, "b": b})
    assert evppi(t, ["a"], 1.0)["method"] == "gam"
    assert evppi(t[t.draw < 40], ["a"], 1.0)["method"] == "gp"  # fewer than 50 draws
    auto = evppi(t, ["a"], 1.0, method="gp")
    gam = evppi(t, ["a"], 1.0, method="gam")
    assert gam["method"] == "gam"
    # 150 draws with noise b as large as a: within 2.5 SE of the sample's closed form
    assert abs(auto["evppi"] - _closed_form(a)) < 2.5 * auto["se"]
    assert gam["evppi"] == approx(auto["evppi"], abs=0.5 * auto["se"])
    with pytest.raises(TrdsimError, match="does not exist"):
        evppi(t, ["a"], 1.0, method="loess")
    with pytest.raises(TrdsimError, match="unknown parameter"):
        evppi(t, ["nope"], 1.0)


@pytest.mark.skipif(not DAMPACK.is_dir(), reason="dampack peer files not present")
def test_dampack_gam_values_on_its_first_2000_draws():
    """dampack calc_evppi(type = "gam") on the first 2,000 draws of its example PSA: ours
    on the same draws within 1.96 of our SE of each value (measured: all within 0.81 SE;
    8 of 9 within 5.5 %, costs at 101,000 differs by 77 % of a small value, 0.8 SE)."""
    raw = pd.read_csv(DAMPACK / "example_psa.csv")
    ref = pd.read_csv(DAMPACK / "evppi_2000.csv")
    groups = {
        "pFailChemo": ["pFailChemo"],
        "muDieCancer": ["muDieCancer"],
        "costs": ["cChemo", "cRadio", "cSurg"],
    }
    table, _ = evppi_tables(check_table(raw[raw.draw < 2000]), groups, [31000.0, 61000.0, 101000.0])
    m = table.merge(ref, left_on=["group", "threshold"], right_on=["group", "WTP"])
    assert len(m) == 9
    assert (np.abs(m.evppi - m.EVPPI) <= 1.96 * m.se).all(), m
    assert (m.evppi <= m.evpi).all()


@pytest.mark.skipif(not DAMPACK.is_dir(), reason="dampack peer files not present")
def test_dampack_gam_values_on_all_10000_draws():
    """The issue's check: on all 10,000 draws, each of the 9 values within its own SE of
    dampack's GAM (mgcv, dampack's formula, benchmarks/dampack_evppi.R) or within 5 %.
    Measured: the largest gap is 0.75 SE (costs at 101,000, a small value)."""
    raw = pd.read_csv(DAMPACK / "example_psa.csv")
    ref = pd.read_csv(REPO / "benchmarks" / "data" / "dampack_evppi_10000.csv", comment="#")
    groups = {
        "pFailChemo": ["pFailChemo"],
        "muDieCancer": ["muDieCancer"],
        "costs": ["cChemo", "cRadio", "cSurg"],
    }
    table, _ = evppi_tables(check_table(raw), groups, [31000.0, 61000.0, 101000.0])
    m = table.merge(ref, left_on=["group", "threshold"], right_on=["group", "WTP"])
    assert len(m) == 9
    gap = np.abs(m.evppi - m.EVPPI)
    assert ((gap <= m.se) | (gap <= 0.05 * m.EVPPI)).all(), m
