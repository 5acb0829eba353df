"""Closed-form results the engine must reproduce exactly or within sampling error."""

import dataclasses

import numpy as np
from helpers import scenario_with

from trdsim.economics import discount_factors
from trdsim.engine import layout as L
from trdsim.inputs.arrays import compile_inputs, weibull_through
from trdsim.inputs.cohort import sample_cohort
from trdsim.simulation.arm import ArmRun
from trdsim.survival import kaplan_meier


def _run(scenario, inputs, n=20_000, seed=11, arm="sequential"):
    run = ArmRun(sample_cohort(scenario, n, seed), inputs.pathways[arm], inputs, seed)
    run.advance(0, scenario.horizon_weeks)
    return run


def test_constant_weekly_hazard_gives_geometric_survival(uk):
    h = 0.004
    ef = compile_inputs(uk).ef.copy()
    ef[L.EF_MORT_HR] = 1.0
    ef[L.EF_SUICIDE_H] = 0.0  # the one hazard is h
    inputs = dataclasses.replace(compile_inputs(uk), ef=ef)
    inputs = dataclasses.replace(inputs, mort_h=np.full_like(inputs.mort_h, h))
    n = 20_000
    run = _run(uk, inputs, n)
    alive = n - run.trace[:, L.T_DEAD]
    weeks = np.arange(1, uk.horizon_weeks + 1)
    expected = n * (1 - (1 - np.exp(-h))) ** weeks  # geometric: (1 - q) ** t, q = 1 - exp(-h)
    sd = np.sqrt(n * np.exp(-h * weeks) * (1 - np.exp(-h * weeks)))
    assert np.all(np.abs(alive - expected) < 5 * sd + 1)


def test_single_state_discounted_qalys_equal_the_annuity(uk):
    """With one utility everywhere, no deaths and no costs, each patient's QALYs are an annuity."""
    u = 0.8
    no_decrement = {"disutility": 0.0}
    sc = scenario_with(
        utilities={"depressed": u, "response": u, "remission": u},
        mortality={"suicide_weekly_hazard_depressed": 0.0},
        scenario={**uk.raw["scenario"], "horizon_weeks": 520, "discount_qalys": 0.035},
        treatments=dict.fromkeys(("antipsychotic_augmentation", "ect"), no_decrement),
    )
    inputs = compile_inputs(sc)
    inputs = dataclasses.replace(inputs, mort_h=np.zeros_like(inputs.mort_h))
    run = _run(sc, inputs, n=500)
    v = 1.035 ** (-1 / 52)
    annuity = u / 52 * (1 - v**520) / (1 - v)
    np.testing.assert_allclose(run.qaly, annuity, rtol=1e-12)


def test_discount_factor_is_annual_rate_after_52_weeks():
    f = discount_factors(0.035, 105)
    assert f[0] == 1.0
    np.testing.assert_allclose([f[52], f[104]], [1 / 1.035, 1 / 1.035**2], rtol=1e-14)


def test_weibull_passes_through_published_points():
    scale, shape = weibull_through(13, 0.335, 52, 0.537)
    for t, p in ((13, 0.335), (52, 0.537)):
        assert abs((1 - np.exp(-((t / scale) ** shape))) - p) < 1e-12
    scale, shape = weibull_through(52, 0.41, None, None)
    assert shape == 1.0 and abs(1 - np.exp(-52 / scale) - 0.41) < 1e-12


def test_constant_relapse_hazard_gives_exponential_relapse_free_survival(uk):
    """Neutral modifiers, no maintenance, an exponential baseline: the relapse-free survival
    of a treatment's responders follows its published median (esketamine, 39 weeks)."""
    neutral = dict.fromkeys(
        (
            "relapse_hr_per_prior_failure",
            "relapse_hr_residual_symptoms",
            "relapse_hr_maltreatment",
            "relapse_hr_sudden_gain",
        ),
        1.0,
    )
    sc = scenario_with(
        effects=neutral,
        relapse_baseline={"shape": 1.0},
        pathways={
            "only": {
                "steps": ["esketamine"],
                "start": "first",
                "maintenance": {"default": ["none"]},
            }
        },
        scenario={**uk.raw["scenario"], "arms": ["only"]},
        treatments={"esketamine": {"relapse_reference": "none"}},
    )
    inputs = compile_inputs(sc)
    inputs = dataclasses.replace(inputs, mort_h=np.zeros_like(inputs.mort_h))
    run = _run(sc, inputs, n=20_000, arm="only")
    # responders of the esketamine course (a response after it is natural history's)
    fu = (run.first_followup >= 0) & (run.first_response < 4)
    relapsed = run.first_relapse[fu] >= 0
    t = np.where(relapsed, run.first_relapse[fu], sc.horizon_weeks) - run.first_followup[fu]
    km = kaplan_meier(t, relapsed)
    scale = 39 / np.log(2)  # esketamine: median 39 weeks, exponential
    for week in (13, 26, 39):
        s = km.survival[km.time <= week].iloc[-1]
        assert abs(s - np.exp(-week / scale)) < 0.02, (week, s)


def test_kaplan_meier_by_hand():
    km = kaplan_meier(np.array([1, 2, 2, 3, 4]), np.array([True, True, False, True, False]))
    # S(1) = 4/5, S(2) = 4/5 * 3/4, S(3) = 0.6 * 1/2
    np.testing.assert_allclose(
        km.set_index("time").survival.loc[[1, 2, 3, 4]], [0.8, 0.6, 0.3, 0.3]
    )


def test_every_failed_course_is_charged_for_exactly_its_trial_weeks(uk):
    """Nobody responds or drops out or dies: each step costs trial_weeks x its weekly cost."""
    sc = scenario_with(
        pathways={
            "two": {
                "steps": ["ssri", "antidepressant_switch", "rtms"],
                "maintenance": {"default": ["none"]},
                "on_exhausted": "none",
            }
        },
        natural_history={"response": 1e-12},
        trial_context={"response": 1e-12},
        state_costs={"uk": {"depressed_week": 0.0, "response_week": 0.0, "remission_week": 0.0}},
        self_harm={"weekly_hazard_depressed": 0.0},
        mortality={"suicide_weekly_hazard_depressed": 0.0},
        scenario={
            **uk.raw["scenario"],
            "arms": ["two"],
            "discount_costs": 0.0,
            "horizon_weeks": 60,
        },
        treatments={
            "rtms": {"response_effect": 1.0, "dropout": 0.0},
        },
    )
    inputs = compile_inputs(sc)
    inputs = dataclasses.replace(inputs, mort_h=np.zeros_like(inputs.mort_h))
    run = _run(sc, inputs, n=200, arm="two")  # TRD entry: starts on rTMS (step 3)
    t = inputs.treatments.index("rtms")
    weekly = inputs.tx[t, L.TX_COST_WEEK]
    # 6 weeks of rTMS, then the pathway is exhausted: no further cost
    np.testing.assert_allclose(run.cost, 6 * weekly, rtol=1e-12)
    assert (run.trace[5, L.T_ON_TREATMENT] == 200) and (run.trace[6, L.T_UNTREATED] == 200)
