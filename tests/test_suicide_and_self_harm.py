"""Suicide as its own cause of death and self-harm episodes (issue 12, item 6), checked
against the trace: counts conserve, and expected numbers follow from depressed weeks."""

import numpy as np
import pytest

import trdsim
from trdsim.engine import layout as L
from trdsim.inputs.arrays import compile_inputs

DEPRESSED = [L.TRACE_STATES.index(k) for k in L.DEPRESSED_TRACE_STATES]


@pytest.fixture(scope="module")
def high_suicide(uk):
    """A suicide hazard 20 times the library's, so a small cohort has many suicides."""
    h = uk.params["mortality"]["suicide_weekly_hazard_depressed"]["value"] * 20
    return uk.with_value("mortality.suicide_weekly_hazard_depressed", h), h


def _trace(res, arm):
    t = res.trace[res.trace.arm == arm]
    return t.pivot(index="week", columns="state", values="count")[list(L.TRACE_STATES)].to_numpy()


def test_library_defaults_wire_suicide_and_self_harm(uk):
    x = compile_inputs(uk)
    assert x.ef[L.EF_SUICIDE_H] > 0
    assert x.ef[L.EF_MORT_HR] == uk.params["mortality"]["nonsuicide_depressed_hr"]["value"]


def test_suicide_deaths_count_in_the_trace_and_in_life_years(high_suicide):
    sc, h = high_suicide
    res = trdsim.simulate(sc, patients=2000)
    base = trdsim.simulate(sc.with_value("mortality.suicide_weekly_hazard_depressed", 0.0), 2000)
    for arm in sc.arms:
        pat = res.patients[res.patients.arm == arm]
        tr = _trace(res, arm)
        # every suicide is a death, and the trace's last week holds each exactly once
        assert pat.suicide.sum() > 20
        assert (pat[pat.suicide].death_week >= 0).all()
        assert tr[-1, L.T_DEAD_SUICIDE] == pat.suicide.sum()
        assert tr[-1, L.T_DEAD] + tr[-1, L.T_DEAD_SUICIDE] == (pat.death_week >= 0).sum()
        # a suicide ends life-years at the death week
        died = pat[pat.suicide]
        np.testing.assert_allclose(died.life_years, died.death_week / 52.0)
        # expected suicides: each depressed week carries probability about h (h small)
        dep_weeks = tr[:-1, DEPRESSED].sum()
        expected = h * dep_weeks
        assert abs(pat.suicide.sum() - expected) < 4 * np.sqrt(expected), (arm, expected)
        # suicide shortens life: fewer life-years than with no suicide hazard
        other = base.patients[base.patients.arm == arm]
        assert pat.life_years.mean() < other.life_years.mean()
        assert other.suicide.sum() == 0
    s = res.per_arm.set_index("arm")
    assert (s.suicides > 0).all()


def test_self_harm_adds_hazard_times_episode_cost_per_discounted_depressed_week(uk):
    n = 800
    without = uk.with_value("self_harm.weekly_hazard_depressed", 0.0)
    a = trdsim.simulate(uk, patients=n)
    b = trdsim.simulate(without, patients=n)
    x = compile_inputs(uk)
    h = uk.params["self_harm"]["weekly_hazard_depressed"]["value"]
    episode = x.ef[L.EF_C_DEP] - compile_inputs(without).ef[L.EF_C_DEP]
    assert episode > 0
    for arm in uk.arms:
        tr = _trace(a, arm)
        # identical trajectories (episodes change nothing but cost), so the cost gap is
        # exactly the expected episode cost of every depressed week, discounted
        assert np.array_equal(_trace(b, arm), tr)
        dep = tr[:, DEPRESSED].sum(axis=1)
        gap = (
            a.patients[a.patients.arm == arm].cost.sum()
            - b.patients[b.patients.arm == arm].cost.sum()
        )
        np.testing.assert_allclose(gap, episode * (dep * x.disc_c).sum(), rtol=1e-9)
        events = a.per_arm.set_index("arm").loc[arm, "self_harm_events"]
        np.testing.assert_allclose(events, h * dep.sum() / n, rtol=1e-12)
    assert (b.per_arm.self_harm_events == 0).all()
