"""Incremental analysis on hand-made cases with known answers."""

import numpy as np
import pandas as pd
from pytest import approx

from trdsim.economics import STATUSES, incremental_analysis, net_benefit


def _arms(rows):
    return pd.DataFrame(rows, columns=["arm", "cost", "qaly"])


def test_strict_dominance():
    r = incremental_analysis(_arms([("A", 100, 1.0), ("B", 200, 0.9), ("C", 300, 1.5)]))
    r = r.set_index("arm")
    assert r.loc["B", "status"] == "dominated" and r.loc["B", "comparator"] == "A"
    assert r.loc["A", "status"] == "reference"
    assert r.loc["C", "status"] == "frontier"
    assert r.loc["C", "icer"] == approx(400.0)


def test_extended_dominance():
    # B's ICER vs A (100/0.1 = 1000) exceeds C's ICER vs B (100/0.5 = 200)
    r = incremental_analysis(_arms([("A", 0, 1.0), ("B", 100, 1.1), ("C", 200, 1.6)]))
    r = r.set_index("arm")
    assert r.loc["B", "status"] == "extendedly_dominated"
    assert r.loc["C", "status"] == "frontier" and r.loc["C", "comparator"] == "A"
    assert r.loc["C", "icer"] == approx(200 / 0.6)
    assert np.isnan(r.loc["B", "icer"])


def test_equal_costs_more_qalys_dominates():
    r = incremental_analysis(_arms([("A", 100, 1.0), ("B", 100, 1.2)])).set_index("arm")
    assert r.loc["A", "status"] == "dominated" and r.loc["A", "comparator"] == "B"
    assert r.loc["B", "status"] == "reference"


def test_identical_arms_are_equivalent():
    r = incremental_analysis(_arms([("A", 100, 1.0), ("B", 100, 1.0)])).set_index("arm")
    assert r.loc["B", "status"] == "equivalent" and r.loc["B", "inc_cost"] == 0.0


def test_net_monetary_benefit_and_optimal_arm():
    arms = _arms([("A", 1000, 1.0), ("B", 4000, 1.1)])
    r = incremental_analysis(arms).set_index("arm")
    # ICER 30,000: A optimal at 20,000, B at 40,000
    assert r.loc["B", "icer"] == approx(30000)
    nb = net_benefit(arms, [20000, 40000]).set_index(["threshold", "arm"])
    assert nb.loc[(20000, "B"), "inc_nmb"] == approx(20000 * 0.1 - 3000)
    assert nb.loc[(20000, "B"), "comparator"] == "A" and nb.loc[(20000, "A"), "inc_nmb"] == 0
    assert nb.loc[(20000, "B"), "nmb"] == approx(20000 * 1.1 - 4000)
    assert nb.loc[(20000, "A"), "optimal"] and nb.loc[(40000, "B"), "optimal"]
    assert not nb.loc[(20000, "B"), "optimal"] and not nb.loc[(40000, "A"), "optimal"]


def test_statuses_come_from_a_fixed_vocabulary_and_the_reference_has_no_comparator():
    r = incremental_analysis(
        _arms([("A", 0, 1.0), ("B", 100, 1.1), ("C", 200, 1.6), ("D", 300, 1.0), ("E", 0, 1.0)])
    )
    assert set(r.status) <= set(STATUSES)
    ref = r[r.status == "reference"]
    assert len(ref) == 1 and ref.comparator.isna().all() and ref.inc_cost.isna().all()
    assert r.set_index("arm").loc["E", "status"] == "equivalent"
