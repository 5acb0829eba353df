"""Conservation, monotonicity and the published marginal rates the engine is built on."""

import numpy as np
from helpers import scenario_with

import trdsim
from trdsim.cohort import sample_cohort
from trdsim.engine import layout as L
from trdsim.inputs import compile_inputs


def test_state_counts_sum_to_the_cohort_every_week(uk_small):
    totals = uk_small.trace.groupby(["arm", "week"])["count"].sum()
    assert (totals == 3000).all()


def test_nobody_appears_or_vanishes(uk_small):
    p = uk_small.patients
    last = uk_small.trace[uk_small.trace.week == uk_small.scenario.horizon_weeks - 1]
    for arm in uk_small.scenario.arms:
        d = p[p.arm == arm]
        dead = int(last[(last.arm == arm) & (last.state == "dead")]["count"].iloc[0])
        assert dead == int((d.death_week >= 0).sum())
        # weeks alive + weeks dead = horizon for everyone
        alive_weeks = np.round(d.life_years * 52).astype(int)
        died = d.death_week >= 0
        assert (alive_weeks[died] == d.death_week[died]).all()
        assert (alive_weeks[~died] == uk_small.scenario.horizon_weeks).all()


def test_raising_a_response_probability_never_lowers_mean_qalys(uk):
    qalys = []
    for p in (0.3, 0.45, 0.6, 0.75, 0.9):
        sc = uk.with_value("treatments.cbt_augmentation.response", p)
        r = trdsim.simulate(sc, patients=4000)
        qalys.append(r.summary.set_index("arm").loc["integrated", "qaly"])
    assert all(b >= a for a, b in zip(qalys, qalys[1:], strict=False)), qalys


def test_cheaper_treatment_never_raises_cost(uk):
    costs = []
    for price in (600.0, 400.0, 200.0):
        sc = scenario_with(unit_costs={"uk": {"esketamine_session": price}})
        r = trdsim.simulate(sc, patients=2000)
        costs.append(r.summary.set_index("arm").loc["sequential", "cost"])
    assert costs[0] > costs[1] > costs[2]


def test_intercept_reproduces_the_marginal_response_rate(uk):
    """The individual-level intercept makes the cohort average equal the trial's rate.

    The intercept comes from quadrature; this checks it against a large sample of the
    cohort sampler itself (Monte Carlo SE of the mean here is below 1e-4).
    """
    inputs = compile_inputs(uk)
    ref = sample_cohort(uk, 400_000, 0x7D5)
    t = inputs.treatments.index("cbt_augmentation")
    ef = inputs.ef
    eta = (
        inputs.tx[t, L.TX_ALPHA]
        + ef[L.EF_B_MALT] * ref.maltreatment
        + ef[L.EF_B_SEV] * (ref.severity - ef[L.EF_SEV_MEAN])
        + ef[L.EF_B_FLEX] * ref.flexibility
    )
    assert abs(np.mean(1 / (1 + np.exp(-eta))) - 0.46) < 5e-4


def test_calibration_holds_when_every_attribute_has_an_effect():
    """With flexibility effects on response and relapse (2-D quadrature), the cohort's
    mean response equals the trial rate and the responder-weighted survival at the
    curve's last point equals the published value, checked on a large sample."""
    sc = scenario_with(
        effects={"response_or_per_sd_flexibility": 1.6, "relapse_hr_per_sd_flexibility": 1.4}
    )
    x = compile_inputs(sc)
    ref = sample_cohort(sc, 400_000, 0x5EED)
    ef = x.ef
    t = x.treatments.index("ketamine_cbt")
    tx = x.tx[t]
    eta = (
        tx[L.TX_ALPHA]
        + ef[L.EF_B_MALT] * ref.maltreatment
        + ef[L.EF_B_SEV] * (ref.severity - ef[L.EF_SEV_MEAN])
        + ef[L.EF_B_FLEX] * ref.flexibility
    )
    resp = 1 / (1 + np.exp(-eta))
    entry = sc.params["treatments"]["ketamine_cbt"]
    assert abs(resp.mean() - entry["response"]["value"]) < 1e-3
    # responder-weighted survival at the last published point, over the mixture of
    # remission / response-only and sudden gain / none
    t_last = entry.get("relapse_t2", entry["relapse_t1"])["value"]
    p_last = entry.get("relapse_p2", entry["relapse_p1"])["value"]
    cum = (t_last / tx[L.TX_W_SCALE]) ** tx[L.TX_W_SHAPE]
    lin = ef[L.EF_R_MALT] * ref.maltreatment + ef[L.EF_R_FLEX] * ref.flexibility
    sg = ef[L.EF_SG_PROB]
    surv = 0.0
    for share, h in ((tx[L.TX_REM_SHARE], 0.0), (1 - tx[L.TX_REM_SHARE], ef[L.EF_R_RESID])):
        for g_share, g in ((1 - sg, 0.0), (sg, ef[L.EF_R_SG])):
            hr = tx[L.TX_RELAPSE_C] * np.exp(lin + h + g)
            surv += share * g_share * np.sum(resp * np.exp(-cum * hr)) / resp.sum()
    assert abs(surv - (1 - p_last)) < 1e-3


def test_first_step_response_matches_the_trial_rate():
    """A diagnosis cohort on citalopram responds at the STAR*D level-1 rate (47 %)."""
    sc = scenario_with(
        cohort={"start": "diagnosis", "failed_trials": 0},
        pathways={"ssri_only": {"steps": ["ssri"], "maintenance": {"default": ["none"]}}},
        scenario={**scenario_with().raw["scenario"], "arms": ["ssri_only"], "horizon_weeks": 20},
    )
    r = trdsim.simulate(sc, patients=20_000)
    responded = (r.patients.first_followup_week >= 0).mean()
    assert abs(responded - 0.47) < 0.015, responded


def test_dropout_is_the_trial_share(uk):
    """Dropouts among all starters equal the treatment's dropout rate (esketamine 7 %)."""
    inputs = compile_inputs(uk)
    t = inputs.treatments.index("esketamine")
    assert abs(inputs.tx[t, L.TX_DROPOUT] * (1 - 0.587) - 0.07) < 1e-12


def test_societal_perspective_adds_productivity_losses(uk):
    payer = trdsim.simulate(uk, patients=1000)
    sc = scenario_with(
        scenario={**uk.raw["scenario"], "perspective": "societal"},
        productivity={"depressed_week": 100.0, "response_week": 40.0, "remission_week": 0.0},
    )
    soc = trdsim.simulate(sc, patients=1000)
    # same patients and events: QALYs equal, costs higher by the discounted losses
    assert np.array_equal(payer.patients.qaly, soc.patients.qaly)
    extra = soc.patients.cost - payer.patients.cost
    assert (extra > 0).all()
    # a patient depressed every week would lose 100 per week, discounted: an upper bound
    bound = 100.0 * compile_inputs(sc).disc_c.sum()
    assert (extra <= bound + 1e-6).all()
