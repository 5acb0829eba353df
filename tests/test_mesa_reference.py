"""The kernel against the same model written as one mesa.Agent per patient (the speed
reference in benchmarks/): the same per-patient results, to the last bit."""

import sys
from pathlib import Path

import numpy as np
import pytest

from trdsim.engine import layout as L
from trdsim.inputs.arrays import compile_inputs
from trdsim.inputs.cohort import sample_cohort
from trdsim.simulation.arm import ArmRun

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from mesa_reference import MesaCohortModel


@pytest.mark.parametrize("arm", ["sequential", "integrated"])
def test_mesa_reference_reproduces_the_kernel(uk, arm):
    # suicide raised tenfold so that 300 patients exercise the cause-of-death draw
    h = uk.params["mortality"]["suicide_weekly_hazard_depressed"]["value"] * 10
    x = compile_inputs(uk.with_value("mortality.suicide_weekly_hazard_depressed", h))
    cohort = sample_cohort(uk, 300, 2026)
    model = MesaCohortModel(cohort, x, x.pathways[arm], 2026)
    weeks = uk.horizon_weeks
    for _ in range(weeks):
        model.step()
    ref = ArmRun(cohort, x.pathways[arm], x, 2026)
    ref.advance(0, weeks)
    agents = sorted(model.agents, key=lambda g: g.pid)
    for name, ours in (
        ("cost", ref.cost),
        ("qaly", ref.qaly),
        ("relapses", ref.relapses),
        ("first_response", ref.first_response),
        ("death_week", ref.death_week),
        ("suicide", ref.death_cause == L.CAUSE_SUICIDE),
    ):
        theirs = np.array([getattr(g, name) for g in agents])
        assert np.array_equal(theirs, ours), (name, np.nonzero(theirs != ours)[0][:5])
    assert (ref.relapses > 0).any() and (ref.first_response >= 0).any()
    assert (ref.death_cause == L.CAUSE_SUICIDE).any()
