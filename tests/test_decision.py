"""Decision analysis on hand-made (draw, arm, cost, qaly) tables with known answers."""

import numpy as np
import pandas as pd
import pytest
from pytest import approx

from trdsim.analysis.decision import (
    ceac,
    check_table,
    check_thresholds,
    evpi,
    frontier,
    population_factor,
)
from trdsim.errors import TrdsimError


def _table(rows):
    return check_table(pd.DataFrame(rows, columns=["draw", "arm", "cost", "qaly"]))


def _constant(arms):
    """The same (cost, qaly) per arm in each of 3 draws."""
    return _table([(d, a, c, q) for d in range(3) for a, c, q in arms])


def test_frontier_over_draws_strict_and_extended_dominance_and_ties():
    strict = frontier(_constant([("A", 100, 1.0), ("B", 200, 0.9), ("C", 300, 1.5)]))
    assert strict.set_index("arm").loc["B", "status"] == "dominated"
    ext = frontier(_constant([("A", 0, 1.0), ("B", 100, 1.1), ("C", 200, 1.6)]))
    assert ext.set_index("arm").loc["B", "status"] == "extendedly_dominated"
    ties = frontier(_constant([("A", 100, 1.0), ("B", 100, 1.2)])).set_index("arm")
    assert ties.loc["A", "status"] == "dominated" and ties.loc["A", "comparator"] == "B"


def test_frontier_uses_the_mean_over_draws():
    t = _table([(0, "A", 0, 1.0), (0, "B", 100, 1.0), (1, "A", 0, 1.0), (1, "B", 300, 1.4)])
    f = frontier(t).set_index("arm")
    assert f.loc["B", "icer"] == approx(200 / 0.2)


def test_ceac_sums_to_one_at_every_threshold_even_with_ties():
    rng = np.random.default_rng(3)
    rows = [
        (d, a, float(rng.normal(1000 * k, 300)), float(rng.normal(1 + 0.05 * k, 0.05)))
        for d in range(200)
        for k, a in enumerate("ABC")
    ]
    rows += [(200, "A", 0.0, 1.0), (200, "B", 0.0, 1.0), (200, "C", 0.0, 1.0)]  # a 3-way tie
    c = ceac(_table(rows), [0, 1e4, 2e4, 5e4, 1e5])
    sums = c.groupby("threshold").p_cost_effective.sum()
    assert np.allclose(sums, 1.0)
    assert (c.groupby("threshold").on_ceaf.sum() == 1).all()


def test_evpi_is_zero_when_one_arm_wins_every_draw():
    rows = [(d, "A", 100.0 + d, 1.0) for d in range(50)]
    rows += [(d, "B", 50.0 + d, 1.1 + d / 1000) for d in range(50)]
    e = evpi(_table(rows), [0, 2e4])
    assert (e.evpi == 0).all() and (e.optimal_arm == "B").all()


def test_evpi_and_expected_loss_on_a_hand_computed_table():
    # NMB at lambda = 1: A = q - c, B likewise
    rows = [
        (0, "A", 0.0, 10.0), (0, "B", 0.0, 14.0),  # B wins by 4
        (1, "A", 0.0, 10.0), (1, "B", 0.0, 8.0),   # A wins by 2
        (2, "A", 0.0, 10.0), (2, "B", 0.0, 11.0),  # B wins by 1
    ]  # fmt: skip
    e = evpi(_table(rows), [1.0]).iloc[0]
    # E[max] = (14 + 10 + 11) / 3; max E = max(10, 11) = 11
    assert e.evpi == approx(35 / 3 - 11)
    assert e.optimal_arm == "B"
    loss = ceac(_table(rows), [1.0]).set_index("arm").expected_loss
    assert loss["B"] == approx(e.evpi)
    assert loss["A"] == approx((4 + 0 + 1) / 3)


def test_population_factor_is_a_discounted_sum():
    assert population_factor(1000, 1, 0.035) == approx(1000)
    assert population_factor(1000, 3, 0.035) == approx(1000 * (1 + 1 / 1.035 + 1 / 1.035**2))
    with pytest.raises(TrdsimError):
        population_factor(1000, 0, 0.035)


@pytest.mark.parametrize(
    "rows, message",
    [
        ([(0, "A", 1.0, 1.0)], "at least two arms"),
        ([(0, "A", 1.0, 1.0), (0, "A", 2.0, 1.0), (0, "B", 1.0, 1.0)], "more than once"),
        ([(0, "A", 1.0, 1.0), (0, "B", 1.0, 1.0), (1, "A", 1.0, 1.0)], "lacks some of the arms"),
        ([(0, "A", "x", 1.0), (0, "B", 1.0, 1.0)], "finite numbers"),
    ],
)
def test_bad_tables_are_rejected_with_a_reason(rows, message):
    with pytest.raises(TrdsimError, match=message):
        _table(rows)


def test_thresholds_must_increase():
    assert check_thresholds(["0", "20000"]) == [0.0, 20000.0]
    for bad in (["30000", "20000"], ["20000", "20000"], ["-1"], ["x"], []):
        with pytest.raises(TrdsimError):
            check_thresholds(bad)
