"""Conservation, monotonicity and the published marginal rates the engine is built on."""

import numpy as np
from helpers import scenario_with

import trdsim
from trdsim.engine import layout as L
from trdsim.inputs.arrays import compile_inputs
from trdsim.inputs.cohort import sample_cohort


def test_state_counts_sum_to_the_cohort_every_week(uk_small):
    totals = uk_small.trace.groupby(["arm", "week"])["count"].sum()
    assert (totals == 3000).all()


def test_nobody_appears_or_vanishes(uk_small):
    p = uk_small.patients
    last = uk_small.trace[uk_small.trace.week == uk_small.scenario.horizon_weeks - 1]
    for arm in uk_small.scenario.arms:
        d = p[p.arm == arm]
        at_end = last[(last.arm == arm) & last.state.isin(["dead", "dead_suicide"])]
        dead = int(at_end["count"].sum())
        assert dead == int((d.death_week >= 0).sum())
        # weeks alive + weeks dead = horizon for everyone
        alive_weeks = np.round(d.life_years * 52).astype(int)
        died = d.death_week >= 0
        assert (alive_weeks[died] == d.death_week[died]).all()
        assert (alive_weeks[~died] == uk_small.scenario.horizon_weeks).all()


def test_raising_an_effect_never_lowers_mean_qalys(uk):
    qalys = []
    for odds_ratio in (1.0, 2.0, 3.26, 5.0, 8.0):
        sc = uk.with_value("treatments.cbt_augmentation.response_effect", odds_ratio)
        r = trdsim.simulate(sc, patients=4000)
        qalys.append(r.per_arm.set_index("arm").loc["integrated", "qaly"])
    assert all(b >= a for a, b in zip(qalys, qalys[1:], strict=False)), qalys


def test_cheaper_treatment_never_raises_cost(uk):
    costs = []
    for price in (600.0, 400.0, 200.0):
        sc = scenario_with(unit_costs={"uk": {"ect_session": price}})
        r = trdsim.simulate(sc, patients=2000)
        costs.append(r.per_arm.set_index("arm").loc["sequential", "cost"])
    assert costs[0] > costs[1] > costs[2]


def _baseline_linear(ef, cohort):
    return (
        ef[L.EF_B_MALT] * cohort.maltreatment
        + ef[L.EF_B_FLEX] * cohort.flexibility
        + ef[L.EF_B_CHRONIC] * cohort.chronic
    )


def test_intercepts_reproduce_the_baselines_in_the_evidence_population(uk):
    """The natural-history and trial-context intercepts make the mean over the evidence's
    population (the library's default cohort) equal the published rate at the source's
    failed trials, and the per-failure odds ratio away from it.

    The intercepts come from quadrature; this checks them against a large sample of the
    cohort sampler itself (Monte Carlo SE of the mean here is below 1e-3).
    """
    x = compile_inputs(uk)
    ref = sample_cohort(uk, 400_000, 0x7D5)
    eta = _baseline_linear(x.ef, ref)
    odds_ratio = 0.813
    for nf, target in ((4, 0.3985), (2, None)):
        mean = np.mean(1 / (1 + np.exp(-(x.nhz[nf] + eta))))
        if target is None:
            odds = 0.3985 / (1 - 0.3985) * odds_ratio ** (nf - 4)
            target = odds / (1 + odds)
        assert abs(mean - target) < 1e-3, (nf, mean, target)
    mean = np.mean(1 / (1 + np.exp(-(x.ctxz[2] + eta))))
    assert abs(mean - 0.221) < 1e-3


def test_relapse_ratio_holds_when_every_attribute_has_an_effect():
    """With flexibility effects on response and relapse (2-D quadrature), the responders of
    rTMS in its source population (2 failed trials, no maintenance) keep the published
    survival at the curve's last point (46.3 % at 52 weeks), checked on a large sample."""
    sc = scenario_with(
        effects={"response_or_per_sd_flexibility": 1.6, "relapse_hr_per_sd_flexibility": 1.4}
    )
    x = compile_inputs(sc)
    ref = sample_cohort(sc, 400_000, 0x5EED)
    ef = x.ef
    tx = x.tx[x.treatments.index("rtms")]
    nf = 2
    eta = _baseline_linear(ef, ref)
    h = np.log1p(np.exp(x.nhz[nf] + eta)) / ef[L.EF_NH_WEEKS]
    c = 1 / (1 + np.exp(-(x.ctxz[nf] + eta)))
    q = (1 - c) * np.exp(-h * 6)  # the 6-week course holds the whole context window
    resp = 1 / (1 + np.exp(-(np.log1p(-q) - np.log(q) + tx[L.TX_LN_OR])))
    cum = x.cum_h[52]
    lin = ef[L.EF_R_MALT] * ref.maltreatment + ef[L.EF_R_FLEX] * ref.flexibility
    lin = lin + ef[L.EF_R_FAIL] * (nf - ef[L.EF_R_NF0])
    surv = 0.0
    for share, hr in ((tx[L.TX_REM_SHARE], 0.0), (1 - tx[L.TX_REM_SHARE], ef[L.EF_R_RESID])):
        rate = tx[L.TX_RELAPSE_HR] * np.exp(lin + hr)
        surv += share * np.sum(resp * np.exp(-cum * rate)) / resp.sum()
    assert abs(surv - (1 - 0.537)) < 2e-3


def test_dropout_is_the_share_of_starters(uk):
    """Starters who stop esketamine for intolerance: the library's 7 % (TRANSFORM-2)."""
    from trdsim.simulation.arm import ArmRun

    sc = scenario_with(
        pathways={"esk": {"steps": ["esketamine"], "start": "first"}},
        scenario={**uk.raw["scenario"], "arms": ["esk"]},
    )
    x = compile_inputs(sc)
    n = 100_000
    run = ArmRun(sample_cohort(sc, n, 5), x.pathways["esk"], x, 5)
    stopped = (run.ek[:, 0] < 4).mean()
    assert abs(stopped - 0.07) < 3 * np.sqrt(0.07 * 0.93 / n) + 1e-9


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
    lived = soc.patients.death_week != 0  # who dies in week 0 has no week to cost
    assert (extra[lived] > 0).all() and (extra[~lived] == 0).all()
    # a patient depressed every week would lose 100 per week, discounted: an upper bound
    bound = 100.0 * compile_inputs(sc).disc_c.sum()
    assert (extra <= bound + 1e-6).all()
