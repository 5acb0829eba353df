"""Personalised pathways (rules on patient attributes) and subgroup results."""

import numpy as np
import pandas as pd
import pytest
from helpers import default_raw

import trdsim
from trdsim.scenario import from_dict

RULE_INFLAMED = {"step": 3, "when": "inflammation == 1", "components": ["iv_ketamine", "cbt_augmentation"]}  # fmt: skip


def _with_arms(extra: dict) -> trdsim.Scenario:
    raw = default_raw()
    raw["pathways"] = extra
    raw["scenario"]["arms"] = ["integrated", *extra]
    return from_dict(raw, "test.toml")


@pytest.fixture(scope="module")
def personalised():
    base = {k: v for k, v in trdsim.load_scenario("uk_nhs").pathways["integrated"].items()}
    base.pop("label")
    sc = _with_arms(
        {
            "nobody": {
                **base,
                "rules": [{"step": 3, "when": "flexibility > 50", "components": ["ect"]}],
            },
            "inflamed": {**base, "rules": [RULE_INFLAMED]},
        }
    )
    return trdsim.simulate(sc, patients=3000, seed=11)


def _arm(r, arm: str) -> pd.DataFrame:
    return r.patients[r.patients.arm == arm].drop(columns="arm").reset_index(drop=True)


def test_rule_that_selects_nobody_gives_exactly_the_unpersonalised_arm(personalised):
    r = personalised
    pd.testing.assert_frame_equal(_arm(r, "integrated"), _arm(r, "nobody"), check_exact=True)
    t = r.trace.pivot_table(index=["week", "state"], columns="arm", values="count")
    assert (t["integrated"] == t["nobody"]).all()


def test_rule_changes_only_the_patients_it_selects(personalised):
    base, rule = _arm(personalised, "integrated"), _arm(personalised, "inflamed")
    hit = base.inflammation == 1
    assert 0 < hit.sum() < len(base)
    # patients the rule does not select meet the same steps and random numbers
    pd.testing.assert_frame_equal(base[~hit], rule[~hit], check_exact=True)
    # those it selects reach step 3 (2 failed trials at entry): their results differ
    assert not np.array_equal(base[hit].qaly.to_numpy(), rule[hit].qaly.to_numpy())


def test_patients_table_carries_the_attributes_at_entry(personalised):
    p = personalised.patients
    for col in ("age", "sex", "severity", "failed_trials", "maltreatment", "inflammation",
                "flexibility", "chronic", "sudden_gain"):  # fmt: skip
        assert col in p.columns, col
    # attributes belong to the patient, not the arm
    a, b = _arm(personalised, "integrated"), _arm(personalised, "inflamed")
    assert a[["age", "severity", "inflammation"]].equals(b[["age", "severity", "inflammation"]])
    # sudden gains arise on psychotherapy courses only: the integrated arm has some
    assert 0 < a.sudden_gain.mean() < 1


@pytest.mark.parametrize("by", ["severity", "inflammation", "age:40,60", "failed_trials"])
def test_subgroups_recombine_to_the_whole_cohort(personalised, by):
    r = personalised
    g = r.subgroups(by).table
    assert np.isclose(g.groupby("arm").share.sum(), 1.0).all()
    for arm in r.scenario.arms:
        rows = g[g.arm == arm]
        whole = r.per_arm.set_index("arm").loc[arm]
        for col in ("cost", "qaly", "life_years", "qaly_diff"):
            weighted = (rows[col] * rows.share).sum()
            assert weighted == pytest.approx(whole[col], rel=1e-12, abs=1e-12), (arm, col)
        assert rows.patients.sum() == whole.patients


def test_subgroup_incremental_analysis_is_the_subgroup_own(personalised):
    g = personalised.subgroups("inflammation").table
    inflamed = g[g.subgroup == "inflammation = 1"].set_index("arm")
    # the rule only acts on inflamed patients; among the others the two arms tie
    other = g[g.subgroup == "inflammation = 0"].set_index("arm")
    assert other.loc["inflamed", "cost"] == other.loc["integrated", "cost"]
    assert inflamed.loc["inflamed", "cost"] != inflamed.loc["integrated", "cost"]


def test_unknown_subgroup_attribute_is_a_value_error(personalised):
    with pytest.raises(ValueError, match="unknown attribute 'colour'"):
        personalised.subgroups("colour")


def test_a_treatment_given_only_by_a_rule_is_compiled():
    """mbct_acute appears in no step: the rule alone brings it (and its maintenance) in."""
    base = dict(trdsim.load_scenario("uk_nhs").pathways["integrated"])
    base.pop("label")
    rule = {"step": 3, "when": "flexibility <= -1", "components": ["mbct_acute"]}
    r = trdsim.simulate(_with_arms({"flex": {**base, "rules": [rule]}}), patients=500, seed=2)
    p = r.patients
    low = p[(p.arm == "flex")].flexibility.to_numpy() <= -1
    a, b = _arm(r, "integrated"), _arm(r, "flex")
    assert low.any() and not np.array_equal(a[low].cost.to_numpy(), b[low].cost.to_numpy())
