"""PSA runs: common random numbers, resume and dask equal to serial, the noise split."""

import numpy as np
import pandas as pd
import pytest
from helpers import default_raw

from trdsim.analysis import psa
from trdsim.analysis.psa import chunk_size, draw_seed, evaluate_draws, run_psa, summarise
from trdsim.analysis.sampling import ParameterSpace
from trdsim.engine.kernel import CHUNK as CHUNK_PATIENTS
from trdsim.errors import TrdsimError
from trdsim.scenario import from_dict
from trdsim.simulation.run import arm_means, arm_means_draws

DRAWS, PATIENTS, CHUNK = 12, 150, 4


class Stop(Exception):
    pass


@pytest.fixture(scope="module")
def serial(uk, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return run_psa(uk, DRAWS, PATIENTS, out, seed=5, chunk=CHUNK)


def test_table_has_one_row_per_draw_and_arm_with_parameters(serial, uk):
    assert len(serial) == DRAWS * len(uk.arms)
    assert list(serial.arm[: len(uk.arms)]) == uk.arms
    keys = ParameterSpace(uk).keys
    assert set(keys) <= set(serial.columns)
    # parameters are per draw: identical on both arms' rows
    assert (serial.groupby("draw")[keys].nunique() == 1).all().all()


def test_an_interrupted_run_resumes_to_the_same_table(serial, uk, tmp_path):
    def stop_after_two(done):
        if done >= 2 * CHUNK:
            raise Stop

    with pytest.raises(Stop):
        run_psa(uk, DRAWS, PATIENTS, tmp_path, seed=5, chunk=CHUNK, on_chunk=stop_after_two)
    assert not (tmp_path / "draws.parquet").exists()  # no partial table passed off as results
    assert len(list((tmp_path / "chunks").glob("*.parquet"))) == 2
    finished = []
    resumed = run_psa(uk, DRAWS, PATIENTS, tmp_path, seed=5, chunk=CHUNK, progress=finished.append)
    assert finished[0] == 2 * CHUNK  # the saved chunks were not redone
    pd.testing.assert_frame_equal(resumed, serial)


def test_a_run_resumes_from_chunks_that_also_hold_the_parameters(serial, uk, tmp_path):
    """Chunk files hold the simulated columns (the parameters are added at the end); an
    earlier version's chunks also held the parameters' columns, and still resume."""

    def stop_after_one(done):
        if done >= CHUNK:
            raise Stop

    with pytest.raises(Stop):
        run_psa(uk, DRAWS, PATIENTS, tmp_path, seed=5, chunk=CHUNK, on_chunk=stop_after_one)
    (saved,) = (tmp_path / "chunks").glob("*.parquet")
    assert "utilities.depressed" not in pd.read_parquet(saved).columns
    values, _ = ParameterSpace(uk).sample(np.arange(DRAWS), 5)
    evaluate_draws(uk, values.loc[0 : CHUNK - 1], PATIENTS, 5).to_parquet(saved)
    resumed = run_psa(uk, DRAWS, PATIENTS, tmp_path, seed=5, chunk=CHUNK)
    pd.testing.assert_frame_equal(resumed, serial)


def test_chunks_through_the_kernel_one_by_one_give_the_same_table(
    serial, uk, tmp_path, monkeypatch
):
    """In this process consecutive chunks share kernel calls (up to WORK_PER_CALL); one
    chunk per group and one draw per kernel call give the same table."""
    monkeypatch.setattr(psa, "WORK_PER_CALL", 1.0)
    table = run_psa(uk, DRAWS, PATIENTS, tmp_path, seed=5, chunk=CHUNK)
    pd.testing.assert_frame_equal(table, serial)


def test_kernel_calls_group_consecutive_chunks_only():
    chunks = [(0, 3), (4, 7), (8, 11), (16, 19), (20, 23)]  # 12..15 already on disk
    assert psa._consecutive(chunks, 8) == [[(0, 3), (4, 7)], [(8, 11)], [(16, 19), (20, 23)]]
    assert psa._consecutive(chunks, 1) == [[c] for c in chunks]  # at least one chunk a call


def test_a_rerun_with_other_arguments_is_refused(uk, tmp_path):
    run_psa(uk, 2, 20, tmp_path, seed=5)
    with pytest.raises(TrdsimError, match="other arguments"):
        run_psa(uk, 3, 20, tmp_path, seed=5)


def test_dask_local_cluster_gives_the_serial_table(serial, uk, tmp_path):
    table = run_psa(uk, DRAWS, PATIENTS, tmp_path, seed=5, chunk=CHUNK, workers=2)
    pd.testing.assert_frame_equal(table, serial)


def test_a_running_scheduler_by_address_gives_the_serial_table(serial, uk, tmp_path):
    from dask.distributed import LocalCluster

    # one single-threaded in-process worker: numba is not called from two threads at once
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        table = run_psa(
            uk, DRAWS, PATIENTS, tmp_path, seed=5, chunk=CHUNK, scheduler=cluster.scheduler_address
        )
    pd.testing.assert_frame_equal(table, serial)


def test_an_unreachable_scheduler_is_a_clear_error(uk, tmp_path):
    with pytest.raises(TrdsimError, match="cannot connect"):
        run_psa(uk, 2, 20, tmp_path, seed=5, scheduler="tcp://127.0.0.1:9")


def test_within_a_draw_arms_meet_the_same_patients(uk):
    """An arm and its exact copy differ by exactly 0 in every draw."""
    raw = default_raw()
    raw["pathways"] = {"copy": {"steps": uk.pathways["sequential"]["steps"]}}
    raw["pathways"]["copy"].update(
        {
            k: uk.pathways["sequential"][k]
            for k in ("maintenance", "maintenance_duration", "on_relapse", "on_exhausted")
        }
    )
    raw["scenario"]["arms"] = ["sequential", "copy"]
    sc = from_dict(raw, "copy.toml")
    values, _ = ParameterSpace(sc).sample(np.arange(3), 1)
    t = evaluate_draws(sc, values, 200, 1)
    wide = t.pivot(index="draw", columns="arm", values=["cost", "qaly"])
    assert (wide["cost"]["copy"] == wide["cost"]["sequential"]).all()
    assert (wide["qaly"]["copy"] == wide["qaly"]["sequential"]).all()
    assert (t.dcost_var == 0).all()


def test_noise_split_matches_a_run_without_parameter_uncertainty(uk, tmp_path):
    """With every parameter fixed at one value, the spread over draws is patient noise only:
    the estimated noise variance must account for all of it."""
    space = ParameterSpace(uk)
    one, _ = space.sample(np.arange(1), 3)
    values = pd.concat([one] * 60, ignore_index=True)
    values.index.name = "draw"
    t = evaluate_draws(uk, values, 100, seed=9)
    table, _ = summarise(t, [20000.0], patients=100)
    row = table[(table.quantity == "inc_nmb") & (table.threshold == 20000)].iloc[0]
    assert 0.6 < row.noise_share < 1.6  # ratio of two variance estimates from 60 draws


def test_only_parameters_some_arm_uses_are_uncertain(uk):
    """A parameter no arm can feel (a treatment, maintenance or resource outside every
    pathway, or a step before the cohort enters) is not sampled: it would only add noise
    to EVPPI."""
    keys = set(ParameterSpace(uk).keys)
    assert "treatments.cbt_augmentation.response_effect" in keys
    assert "unit_costs.uk.cbt_session" in keys and "unit_costs.uk.self_harm_episode" in keys
    assert "interactions.ketamine_cbt.relapse_hr" in keys
    for unused in ("treatments.dbs.response_effect", "treatments.behavioural_activation.dropout",
                   "treatments.antidepressant_switch.response_effect",  # before TRD entry
                   "unit_costs.dbs_implantation", "treatments.esketamine.response_effect",
                   "maintenance.esketamine_maintenance.relapse_hr"):  # fmt: skip
        assert unused not in keys, unused
    # an arm that uses DBS makes its parameters uncertain again
    steps = ["ssri", "antidepressant_switch", "antipsychotic_augmentation", "ect", "dbs"]
    sc = uk.with_values({"pathways.sequential.steps": steps})
    assert "treatments.dbs.response_effect" in ParameterSpace(sc).keys


@pytest.mark.parametrize("patients", [40, CHUNK_PATIENTS + 9])
def test_draws_in_one_kernel_call_equal_one_call_per_draw(uk, patients):
    """The batched PSA path gives, bit for bit, what one kernel call per draw gives, in
    every arm (personalised included), also when a draw spans several work items."""
    space = ParameterSpace(uk)
    values, _ = space.sample(np.arange(3), 8)
    scenarios = [space.apply(r) for r in values.to_dict("index").values()]
    seeds = [draw_seed(8, d) for d in range(3)]
    batched = arm_means_draws(scenarios, seeds, patients)
    for sc, seed, got in zip(scenarios, seeds, batched, strict=True):
        one = arm_means(sc, patients, seed)
        for f in ("cost", "qaly", "cost_var", "qaly_var", "dcost_var", "dqaly_var", "dcov"):
            assert np.array_equal(getattr(got, f), getattr(one, f)), f


def test_chunks_follow_the_workers_and_the_progress_bar():
    # 1,000 draws of 1,000 patients: 20 steps in this process, 4 chunks per dask worker
    assert chunk_size(1000, 1000, 3, 260) == 50
    assert chunk_size(200, 1000, 3, 260, workers=2) == 10
    assert chunk_size(1000, 1000, 3, 260, workers=2) == 50
    # never more patients than one kernel call takes, never less than one draw
    assert chunk_size(1000, 150_000, 3, 260) == 1
    assert chunk_size(3, 10, 3, 260, workers=8) == 1
