"""Costs by category: the kernel's categories add up to each patient's total cost, the
weeks they count are the weeks lived, and the table of costs by category adds up to the
per-arm costs of the summary."""

import numpy as np
import pytest
from helpers import scenario_with

from trdsim.analysis.compare import simulate
from trdsim.engine import layout as L
from trdsim.inputs.arrays import compile_inputs, cost_parts
from trdsim.inputs.cohort import sample_cohort
from trdsim.scenario import load_scenario
from trdsim.simulation.arm import ArmRun
from trdsim.simulation.means import CategoryMoments

N = 600
SEED = 11


@pytest.fixture(scope="module")
def uk():
    sc = load_scenario("uk_nhs")
    return sc, compile_inputs(sc)


@pytest.fixture(scope="module")
def runs(uk):
    sc, x = uk
    cohort = sample_cohort(sc, N, SEED)
    out = {}
    for a in sc.arms:
        run = ArmRun(cohort, x.pathways[a], x, SEED)
        run.advance(0, sc.horizon_weeks)
        out[a] = run
    return out


def test_categories_add_up_to_each_patients_cost(runs):
    for arm, run in runs.items():
        cats = run.cost_by_category()
        total = np.sum(list(cats.values()), axis=0)
        np.testing.assert_allclose(total, run.cost, rtol=1e-10, atol=1e-8, err_msg=arm)
        assert all((v >= 0).all() for v in cats.values())


def test_state_weeks_are_the_discounted_weeks_lived(runs, uk):
    _, x = uk
    for run in runs.values():
        state = run.cost_cat[:, [L.CC_DEP, L.CC_RESP, L.CC_REM]].sum(axis=1)
        lived = x.cum_disc_c[run.weeks_alive.astype(np.int64)]
        np.testing.assert_allclose(state, lived, rtol=1e-12, atol=1e-9)
        # nobody is on a component or in usual care longer than they live
        assert (run.cost_cat[:, L.CC_USUAL] <= lived + 1e-9).all()
        assert (run.cost_cat[:, L.CC_TX0 :] <= lived[:, None] + 1e-9).all()


def test_treatments_outside_an_arm_cost_nothing_in_it(runs, uk):
    sc, x = uk
    for arm, run in runs.items():
        pw = sc.pathways[arm]
        given = {t for step in pw["steps"] for t in step}
        given |= {t for r in pw.get("rules", []) for t in r["components"]}
        cats = run.cost_by_category()
        for t in x.treatments:
            if t not in given:
                assert not cats[f"treatment:{t}"].any(), (arm, t)
        assert any(cats[f"treatment:{t}"].sum() > 0 for t in given), arm


def test_week_by_week_calls_give_the_same_categories(uk, runs):
    sc, x = uk
    arm = sc.arms[1]
    cohort = sample_cohort(sc, N, SEED)
    weekly = ArmRun(cohort, x.pathways[arm], x, SEED)
    for w in range(sc.horizon_weeks):
        weekly.advance(w, w + 1)
    np.testing.assert_allclose(weekly.cost_cat, runs[arm].cost_cat, rtol=1e-10, atol=1e-9)
    np.testing.assert_array_equal(weekly.cost, runs[arm].cost)


# options given after a response in integrated care: three durations (52, 26 and 60 weeks)
# in one policy, so the shares of its weekly cost change over the relapse clock
MAINTENANCE = ("continuation_ad", "maintenance_rtms", "maintenance_cbt")


def _columns(x) -> dict[str, int]:
    """Each maintenance option's column of the cost-category array."""
    return {m: L.CC_TX0 + len(x.treatments) + j for j, m in enumerate(x.maintenance)}


@pytest.mark.parametrize("option", MAINTENANCE)
def test_a_maintenance_option_costs_each_patient_what_it_adds_to_the_total(uk, runs, option):
    """Twice the option's sessions change no event, so each patient's total cost grows by
    the weekly cost they add times the patient's discounted weeks on the option: the
    kernel's total, which knows nothing of categories, checks them patient by patient."""
    sc, x = uk
    m = sc.params["maintenance"][option]
    x2 = compile_inputs(
        sc.with_value(
            f"maintenance.{option}.sessions_per_week", 2 * m["sessions_per_week"]["value"]
        )
    )
    j = x.maintenance.index(option)
    added = x2.mx[j, L.MX_COST_WEEK] - x.mx[j, L.MX_COST_WEEK]
    assert added > 0
    arm = "integrated"
    run = ArmRun(sample_cohort(sc, N, SEED), x2.pathways[arm], x2, SEED)
    run.advance(0, sc.horizon_weeks)
    weeks = runs[arm].cost_cat[:, _columns(x)[option]]
    assert (weeks > 0).sum() > N // 10  # enough patients on it to tell
    np.testing.assert_allclose(run.cost - runs[arm].cost, weeks * added, rtol=1e-9, atol=1e-7)
    # and the category is the weeks at the option's weekly cost
    np.testing.assert_allclose(run.cost_by_category()[f"maintenance:{option}"],
                               weeks * x2.mx[j, L.MX_COST_WEEK], rtol=1e-12)  # fmt: skip


def test_maintenance_weeks_follow_each_options_duration(runs, uk):
    """Weeks on an option are follow-up weeks: never more than on a longer option always
    given with it, and only in arms that give it."""
    sc, x = uk
    col = _columns(x)
    cc = runs["integrated"].cost_cat
    # maintenance rTMS (26 weeks) is only given with maintenance CBT (60 weeks)
    rtms, cbt = cc[:, col["maintenance_rtms"]], cc[:, col["maintenance_cbt"]]
    assert (rtms <= cbt + 1e-9).all() and (rtms < cbt - 1e-9).any()
    for arm, run in runs.items():
        given = {o for opts in sc.pathways[arm]["maintenance"].values() for o in opts}
        for m in x.maintenance:
            assert run.cost_cat[:, col[m]].any() == (m in given), (arm, m)


def test_parts_add_up_to_the_kernels_weekly_costs(uk):
    sc, x = uk
    parts = cost_parts(sc, x)
    for t, name in enumerate(x.treatments):
        got = sum(c for _, _, c in parts[f"treatment:{name}"])
        assert got == pytest.approx(x.tx[t, L.TX_COST_WEEK], rel=1e-12)
    for state, col in (("depressed", L.EF_C_DEP), ("response", L.EF_C_RESP),
                       ("remission", L.EF_C_REM)):  # fmt: skip
        got = sum(c for _, _, c in parts[f"state:{state}"])
        assert got == pytest.approx(x.ef[col], rel=1e-12)
    for j, name in enumerate(x.maintenance):
        got = sum(c for _, _, c in parts[f"maintenance:{name}"])
        assert got == pytest.approx(x.mx[j, L.MX_COST_WEEK], rel=1e-12, abs=0.0)


def test_cost_table_adds_up_to_the_summary(uk):
    sc, _ = uk
    r = simulate(sc, patients=400, seed=SEED)
    by_arm = r.costs.groupby("arm").cost.sum()
    for _, s in r.per_arm.iterrows():
        assert by_arm[s.arm] == pytest.approx(s.cost, rel=1e-10)
    assert set(r.costs.group) >= {"treatment", "state", "usual care", "maintenance"}
    assert (r.costs.se >= 0).all()
    # resources are unit-cost keys of the scenario's setting
    res = r.costs.resource[r.costs.group.isin(["treatment", "usual care", "maintenance"])]
    assert res.str.startswith(f"unit_costs.{sc.setting}.").all()
    # maintenance: a category per option, named by the option's own label
    m = r.costs[r.costs.group == "maintenance"]
    assert m.category.str.startswith("maintenance:").all()
    for cat, label in zip(m.category, m.label, strict=True):
        assert label == sc.params["maintenance"][cat.split(":")[1]]["label"]
    ad = m[(m.arm == "sequential") & (m.category == "maintenance:continuation_ad")]
    assert list(ad.resource) == [f"unit_costs.{sc.setting}.medication_review",
                                 f"unit_costs.{sc.setting}.generic_antidepressant_week"]  # fmt: skip
    assert (ad.cost > 0).all()


def test_productivity_is_its_own_group_and_is_what_the_societal_view_adds(uk):
    sc, _ = uk
    payer = simulate(sc, patients=300, seed=SEED)
    soc_sc = scenario_with(
        scenario={**sc.raw["scenario"], "perspective": "societal"},
        productivity={"depressed_week": 100.0, "response_week": 40.0, "remission_week": 0.0},
    )
    soc = simulate(soc_sc, patients=300, seed=SEED)
    assert "productivity" not in set(payer.costs.group)
    prod = soc.costs[soc.costs.group == "productivity"].groupby("arm").cost.sum()
    # same patients and events: the societal costs are the payer's plus productivity
    extra = soc.per_arm.set_index("arm").cost - payer.per_arm.set_index("arm").cost
    for arm in sc.arms:
        assert prod[arm] == pytest.approx(extra[arm], rel=1e-9)
    rest = soc.costs[soc.costs.group != "productivity"].groupby("arm").cost.sum()
    for arm in sc.arms:
        assert rest[arm] == pytest.approx(payer.per_arm.set_index("arm").cost[arm], rel=1e-9)


def test_pooled_moments_equal_the_whole_samples():
    rng = np.random.default_rng(3)
    x = {"a": rng.gamma(2.0, 500.0, 1000), "b": rng.normal(10.0, 3.0, 1000)}
    m = CategoryMoments()
    for lo, hi in ((0, 1), (1, 250), (250, 251), (251, 1000)):
        m.add({k: v[lo:hi] for k, v in x.items()})
    got = m.mean_se()
    for k, v in x.items():
        assert got[k][0] == pytest.approx(v.mean(), rel=1e-12)
        assert got[k][1] == pytest.approx(v.std(ddof=1) / np.sqrt(len(v)), rel=1e-9)


def test_cost_table_does_not_depend_on_the_block_size(uk):
    sc, _ = uk
    whole = simulate(sc, patients=300, seed=SEED).costs
    blocks = simulate(sc, patients=300, seed=SEED, block=70).costs
    assert whole[["arm", "category", "resource"]].equals(blocks[["arm", "category", "resource"]])
    np.testing.assert_allclose(blocks.cost, whole.cost, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(blocks.se, whole.se, rtol=1e-7, atol=1e-9)
