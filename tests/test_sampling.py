"""PSA draws: distributions reproduced, order kept, draws independent of how many are made."""

import numpy as np
import pytest
from helpers import scenario_with

from trdsim.analysis.sampling import ParameterSpace, moments
from trdsim.errors import ScenarioError, TrdsimError

K = 20_000


@pytest.fixture(scope="module")
def drawn(uk):
    space = ParameterSpace(uk)
    table, clipped = space.sample(np.arange(K), seed=7)
    return space, table, clipped


def test_draws_reproduce_their_distributions_means_and_variances(drawn):
    space, table, clipped = drawn
    adjusted = {k for c, n in clipped.items() if n for k in c.split() if "." in k}
    seen = set()
    for key in space.keys:
        if key in adjusted:
            continue  # clipped in a few draws: checked separately below
        e = space.entries[key]
        mean, var = moments(e)
        x = table[key].to_numpy()
        assert abs(x.mean() - mean) < 4.5 * np.sqrt(var / K), key
        # sample variance: SE ~ var * sqrt(2 / K) for near-normal draws; allow skew
        assert abs(x.var() / var - 1) < 0.08, key
        seen.add(e["dist"])
    assert seen >= {"beta", "lognormal", "uniform", "gamma", "normal"}


def test_ordered_parameters_stay_ordered_in_every_draw(drawn, uk):
    space, t, clipped = drawn
    for name in uk.params["treatments"]:
        p = f"treatments.{name}."

        def col(k, p=p):
            return t[p + k] if p + k in t else space.entries[p + k]["value"]

        if p + "relapse_p2" in t:  # sampled: a treatment some arm reaches
            assert (col("relapse_p1") < col("relapse_p2")).all(), name
    u = "utilities."
    assert (t[u + "depressed"] <= t[u + "response"]).all()
    assert (t[u + "response"] <= t[u + "remission"]).all()
    # linked draws keep the order by construction: clipping is a rare tail event
    assert sum(clipped.values()) < 0.005 * K


def test_linked_parameters_move_together(drawn):
    _, t, _ = drawn
    r = "treatments.rtms."
    assert np.corrcoef(t[r + "relapse_p1"], t[r + "relapse_p2"])[0, 1] > 0.95


def test_a_draw_does_not_depend_on_how_many_draws_are_made(uk):
    space = ParameterSpace(uk)
    few, _ = space.sample(np.arange(5), seed=7)
    many, _ = space.sample(np.arange(500), seed=7)
    some, _ = space.sample(np.array([3, 4]), seed=7)
    assert few.equals(many.iloc[:5])
    assert some.equals(many.iloc[3:5])
    other, _ = space.sample(np.arange(5), seed=8)
    assert not few.equals(other)


def test_a_distribution_outside_the_parameters_range_is_refused():
    # refused where the scenario is read (schema: a family's support must lie within
    # the kind), before any draw
    with pytest.raises(ScenarioError, match="treatments.ect.remission_share.dist.*beta"):
        scenario_with(
            treatments={
                "ect": {"remission_share": {"value": 0.7, "dist": "normal", "mean": 0.7, "sd": 0.4}}
            }
        )
    with pytest.raises(ScenarioError, match="remission_share.high.*between 0 and 1"):
        scenario_with(
            treatments={
                "ect": {
                    "remission_share": {"value": 0.7, "dist": "uniform", "low": 0.5, "high": 1.2}
                }
            }
        )


def test_a_whole_number_cannot_be_given_a_distribution():
    with pytest.raises(ScenarioError, match="trial_weeks.dist"):
        scenario_with(
            treatments={
                "ssri": {"trial_weeks": {"value": 12, "dist": "uniform", "low": 8, "high": 14}}
            }
        )


def test_unknown_parameter_key_suggests_the_right_one(uk):
    with pytest.raises(TrdsimError, match="did you mean 'treatments.esketamine.response_effect'"):
        ParameterSpace(uk).resolve("treatments.esketamine.response_effec")
    assert ParameterSpace(uk).resolve("unit_costs.uk.cbt_session") == "unit_costs.uk.cbt_session"
