"""Results do not depend on threads, chunking or week-by-week stepping; CRN across arms."""

import numba
import numpy as np
import pandas as pd
import pytest
from helpers import scenario_with

import trdsim
from trdsim.inputs.arrays import compile_inputs
from trdsim.inputs.cohort import sample_cohort
from trdsim.simulation.arm import ArmRun


def test_one_and_two_threads_give_identical_bits(uk):
    a = trdsim.simulate(uk, patients=3000, threads=1)
    b = trdsim.simulate(uk, patients=3000, threads=2)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    pd.testing.assert_frame_equal(a.patients, b.patients, check_exact=True)
    pd.testing.assert_frame_equal(a.trace, b.trace, check_exact=True)


def test_any_chunking_gives_identical_bits(uk, uk_small):
    blocked = trdsim.simulate(uk, patients=3000, block=777)
    pd.testing.assert_frame_equal(uk_small.patients, blocked.patients, check_exact=True)
    pd.testing.assert_frame_equal(uk_small.trace, blocked.trace, check_exact=True)


@pytest.mark.parametrize("arm", ["sequential", "integrated", "personalised"])
def test_week_by_week_and_any_call_split_equal_full_horizon(uk, arm):
    """The kernel commits quiet weeks in bulk; one-week calls, irregular calls and one
    full-horizon call must still agree to the last bit, also when read part-way."""
    inputs = compile_inputs(uk)
    cohort = sample_cohort(uk, 2000, 5)
    full = ArmRun(cohort, inputs.pathways[arm], inputs, 5)
    full.advance(0, uk.horizon_weeks)
    weekly = ArmRun(cohort, inputs.pathways[arm], inputs, 5)
    for w in range(uk.horizon_weeks):
        weekly.advance(w, w + 1)
    for key, value in full.outputs().items():
        np.testing.assert_array_equal(value, weekly.outputs()[key], err_msg=key)
    np.testing.assert_array_equal(full.trace, weekly.trace)
    # irregular calls (lengths 1..40), read part-way against a run that stops there
    rng = np.random.default_rng(0)
    cuts = np.unique(np.r_[0, np.cumsum(rng.integers(1, 41, 40)), uk.horizon_weeks])
    cuts = cuts[cuts <= uk.horizon_weeks]
    split = ArmRun(cohort, inputs.pathways[arm], inputs, 5)
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        split.advance(int(a), int(b))
        if b == cuts[len(cuts) // 2]:
            upto = ArmRun(cohort, inputs.pathways[arm], inputs, 5)
            upto.advance(0, int(b))
            np.testing.assert_array_equal(split.cost, upto.cost)
            np.testing.assert_array_equal(split.qaly, upto.qaly)
    for key, value in full.outputs().items():
        np.testing.assert_array_equal(value, split.outputs()[key], err_msg=key)


def test_arm_against_its_exact_copy_gives_zero_increments(uk):
    pathways = {"sequential_copy": dict(uk.pathways["sequential"])}
    sc = scenario_with(
        pathways=pathways,
        scenario={**uk.raw["scenario"], "arms": ["sequential", "sequential_copy"]},
    )
    r = trdsim.simulate(sc, patients=2000)
    row = r.per_arm.set_index("arm").loc["sequential_copy"]
    assert row["paired_with"] == "sequential"
    assert row["cost_diff"] == 0.0 and row["qaly_diff"] == 0.0
    inc = r.incremental.set_index("arm").loc["sequential_copy"]
    assert inc.status == "equivalent" and inc.inc_cost == 0.0 and inc.inc_qaly == 0.0


def test_common_random_numbers_same_cohort_in_every_arm(uk_small):
    p = uk_small.patients
    seq, integ = p[p.arm == "sequential"], p[p.arm == "integrated"]
    # both arms start at the same step with the same draws: identical until their steps differ
    assert (seq.patient.to_numpy() == integ.patient.to_numpy()).all()


def test_seed_changes_results(uk):
    a = trdsim.simulate(uk, patients=500, seed=1)
    b = trdsim.simulate(uk, patients=500, seed=2)
    assert not np.array_equal(a.patients.qaly, b.patients.qaly)


def test_numba_num_threads_environment_1_and_2_give_identical_bits(tmp_path):
    """The literal contract: separate processes with NUMBA_NUM_THREADS=1 and =2."""
    import hashlib
    import os
    import subprocess
    import sys

    code = (
        "import hashlib, trdsim\n"
        "r = trdsim.simulate(trdsim.load_scenario('uk_nhs'), patients=3000)\n"
        "print(hashlib.sha256(r.patients.to_csv(index=False).encode()"
        " + r.trace.to_csv(index=False).encode()).hexdigest())\n"
    )
    digests = []
    for n in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": n}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1] and len(digests[0]) == len(hashlib.sha256().hexdigest())


def test_an_empty_call_changes_nothing(uk):
    """advance(w, w) is a no-op (a caller splitting at the horizon's last week makes one)."""
    inputs = compile_inputs(uk)
    cohort = sample_cohort(uk, 3000, 5)
    a = ArmRun(cohort, inputs.pathways["sequential"], inputs, 5)
    a.advance(0, 10)
    before = {k: v.copy() for k, v in a.outputs().items()}
    a.advance(10, 10)
    a.advance(10, uk.horizon_weeks)
    a.advance(uk.horizon_weeks, uk.horizon_weeks)
    b = ArmRun(cohort, inputs.pathways["sequential"], inputs, 5)
    b.advance(0, uk.horizon_weeks)
    for key, value in b.outputs().items():
        np.testing.assert_array_equal(value, a.outputs()[key], err_msg=key)
    assert before["cost"].sum() < b.cost.sum()
