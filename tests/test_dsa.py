"""Deterministic sensitivity: tornado direction, two-way grid, threshold by root-finding."""

import pytest
from pytest import approx

import trdsim
from trdsim.analysis.dsa import Contrast, one_way, threshold_value, two_way
from trdsim.errors import TrdsimError

N = 1500


def test_threshold_price_resimulated_gives_the_target_icer(uk):
    r = threshold_value(
        uk, "unit_costs.uk.cbt_session", 30000.0, arm="integrated",
        versus="sequential", patients=N, low=0.0, high=5000.0,
    )  # fmt: skip
    assert r["quadrant"] == "more costly, more effective"
    # independent check: the full simulation with the price set in the scenario
    sc = uk.with_value("unit_costs.uk.cbt_session", r["value"])
    s = trdsim.simulate(sc, patients=N).per_arm.set_index("arm")
    icer = (s.loc["integrated", "cost"] - s.loc["sequential", "cost"]) / (
        s.loc["integrated", "qaly"] - s.loc["sequential", "qaly"]
    )
    assert icer == approx(30000.0, rel=1e-6)


def test_threshold_of_a_clinical_input(uk):
    """The CBT augmentation odds ratio at which integrated care's ICER vs sequential is
    £15,000 (Brent's method on a step function of the effect under CRN). The target sits
    between the ICERs at the bracket's ends (about £21,000 at OR 0.2, £8,000 at 3.26 since
    the relapse model of issue 29; £30,000, the target before, is no longer crossed)."""
    r = threshold_value(
        uk, "treatments.cbt_augmentation.response_effect", 15000.0, arm="integrated",
        versus="sequential", patients=N, low=0.2, high=3.26,
    )  # fmt: skip
    assert 0.2 < r["value"] < 3.26
    assert r["quadrant"] == "more costly, more effective"
    # a step function of the response: one patient's outcome moves the ICER slightly
    assert r["icer"] == approx(15000.0, rel=0.02)


def test_threshold_outside_the_bracket_says_so(uk):
    with pytest.raises(TrdsimError, match="does not cross"):
        threshold_value(uk, "unit_costs.uk.cbt_session", 30000.0, patients=300, low=0, high=1)


def test_tornado_moves_the_right_way(uk):
    contrast = Contrast.of(uk, None, None, 20000.0)
    table, info = one_way(
        uk, contrast, keys=["unit_costs.uk.cbt_session", "treatments.cbt_augmentation.response_effect"],
        patients=N,
    )  # fmt: skip
    t = table.set_index("key")
    # dearer CBT lowers integrated care's incremental NMB; better CBT raises it
    assert t.loc["unit_costs.uk.cbt_session", "inmb_high"] < info["base_inmb"]
    assert t.loc["unit_costs.uk.cbt_session", "inmb_low"] > info["base_inmb"]
    assert (
        t.loc["treatments.cbt_augmentation.response_effect", "inmb_high"]
        > t.loc["treatments.cbt_augmentation.response_effect", "inmb_low"]
    )
    assert info["base_inmb_se"] > 0


def test_two_way_grid_covers_both_ranges(uk):
    contrast = Contrast.of(uk, None, None, 20000.0)
    g = two_way(
        uk, contrast, "unit_costs.uk.cbt_session", "utilities.depressed", steps=3, patients=300
    )
    assert len(g) == 9 and set(g.optimal) <= set(uk.arms)
    assert g.x.nunique() == 3 and g.y.nunique() == 3
    assert set(g.x_parameter) == {"unit_costs.uk.cbt_session"}


def test_fixed_parameter_has_no_range(uk):
    with pytest.raises(TrdsimError, match="fixed"):
        one_way(uk, Contrast.of(uk, None, None, None), keys=["cohort.age_mean"], patients=50)
