"""Incremental analysis on hand-made cases with known answers."""

import numpy as np
import pandas as pd
from pytest import approx

from trdsim.economics import incremental_analysis


def _arms(rows):
    return pd.DataFrame(rows, columns=["arm", "cost", "qaly"])


def test_strict_dominance():
    r = incremental_analysis(_arms([("A", 100, 1.0), ("B", 200, 0.9), ("C", 300, 1.5)]), [20000])
    r = r.set_index("arm")
    assert r.loc["B", "status"] == "dominated" and r.loc["B", "compared_with"] == "A"
    assert r.loc["A", "status"] == "frontier (reference)"
    assert r.loc["C", "status"] == "frontier"
    assert r.loc["C", "icer"] == approx(400.0)


def test_extended_dominance():
    # B's ICER vs A (100/0.1 = 1000) exceeds C's ICER vs B (100/0.5 = 200)
    r = incremental_analysis(_arms([("A", 0, 1.0), ("B", 100, 1.1), ("C", 200, 1.6)]), [500])
    r = r.set_index("arm")
    assert r.loc["B", "status"] == "extendedly dominated"
    assert r.loc["C", "status"] == "frontier" and r.loc["C", "compared_with"] == "A"
    assert r.loc["C", "icer"] == approx(200 / 0.6)
    assert np.isnan(r.loc["B", "icer"])


def test_equal_costs_more_qalys_dominates():
    r = incremental_analysis(_arms([("A", 100, 1.0), ("B", 100, 1.2)]), [1000]).set_index("arm")
    assert r.loc["A", "status"] == "dominated" and r.loc["A", "compared_with"] == "B"
    assert r.loc["B", "status"] == "frontier (reference)"


def test_identical_arms_are_equivalent():
    r = incremental_analysis(_arms([("A", 100, 1.0), ("B", 100, 1.0)]), [1000]).set_index("arm")
    assert r.loc["B", "status"] == "equivalent" and r.loc["B", "inc_cost"] == 0.0


def test_net_monetary_benefit_and_optimal_arm():
    r = incremental_analysis(_arms([("A", 1000, 1.0), ("B", 4000, 1.1)]), [20000, 40000])
    r = r.set_index("arm")
    # ICER 30,000: A optimal at 20,000, B at 40,000
    assert r.loc["B", "icer"] == approx(30000)
    assert r.loc["B", "inc_nmb_20000_vs_A"] == approx(20000 * 0.1 - 3000)
    assert r.loc["A", "optimal_at_20000"] and r.loc["B", "optimal_at_40000"]
