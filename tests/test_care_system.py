"""The care-system model: exactness, conservation, queues, sweeps, bad input."""

import mesa
import numpy as np
import pandas as pd
import pytest

import trdsim
from trdsim.care_system import CareSystemModel
from trdsim.cli import main
from trdsim.engine import layout as L
from trdsim.errors import ScenarioError
from trdsim.survival import with_coded_weeks
from trdsim.sweep import parse_grid, run_sweep

SMALL = {"care_system__years": 1, "care_system__referrals_per_year": 400}


def test_unlimited_capacity_closed_cohort_equals_simulate_bit_for_bit():
    m = CareSystemModel(
        "capacity_whatif", cohort_size=2000, care_system__years=2,
        care_system__services__cbt__units=10**6, care_system__services__rtms__units=10**6,
        care_system__services__ketamine__units=10**6,
    )  # fmt: skip
    m.run_model()
    ref = with_coded_weeks(trdsim.simulate(m.scenario, patients=2000, seed=m.seed_value).patients)
    assert np.array_equal(ref.cost.to_numpy(), m.run.cost)
    assert np.array_equal(ref.qaly.to_numpy(), m.run.qaly)
    assert np.array_equal(ref.death_week.to_numpy(), m.run.death_week)
    assert np.array_equal(ref.first_relapse_week.to_numpy(), m.run.first_relapse)


def test_nobody_appears_or_vanishes_any_week():
    m = CareSystemModel(
        "capacity_whatif", care_system__leave_per_week=0.05, care_system__services__cbt__units=2,
        **SMALL,
    )  # fmt: skip
    m.run_model()
    w = m.datacollector.get_model_vars_dataframe()
    arrived = np.searchsorted(m.arrival_week, w.week.to_numpy(), side="right")
    assert (w.arrived == arrived).all()
    total = w.waiting + w.in_care + w.discharged + w.dead
    assert (total == w.arrived).all()
    assert w.left_care.iloc[-1] > 0  # some waiting patients left


def test_zero_capacity_gives_no_starts_and_a_growing_queue():
    m = CareSystemModel("capacity_whatif", care_system__services__cbt__units=0, **SMALL)
    m.run_model()
    cbt = m.services.to_list()[0]
    assert cbt.capacity == 0 and cbt.total_starts == 0
    q = m.datacollector.get_agent_vars_dataframe().xs(cbt.unique_id, level="AgentID").queue
    assert q.iloc[-1] > q.iloc[len(q) // 2] > 0
    assert (np.diff(q.to_numpy()) >= -0).sum() > 0.9 * (len(q) - 1)  # hardly ever shrinks (deaths)
    # nobody ever took a CBT place
    t = m.inputs.treatments.index("cbt_augmentation")
    last = m.pathway.n_steps - 1
    has_cbt = (m.pathway.comp[np.minimum(m.run.step, last)] == t).any(axis=1)
    has_cbt &= m.run.step <= last
    on_cbt = has_cbt & np.isin(m.run.phase, [L.ACUTE, L.COURSE])
    assert not on_cbt.any()


def _contested_weeks(model, weeks):
    """Yield the CBT service in weeks where it granted some and left others waiting."""
    for _ in range(weeks):
        model.step()
        cbt = model.services.to_list()[0]
        if len(cbt.last_granted) and len(cbt.last_waiting):
            yield cbt


def test_fifo_serves_the_longest_waiting_first():
    m = CareSystemModel("capacity_whatif", care_system__services__cbt__units=3, **SMALL)
    seen = 0
    for cbt in _contested_weeks(m, 40):
        joined = m.queued_since  # granted ones were reset: use the waits recorded
        granted_joined = m.week - 1 - cbt.waits
        assert granted_joined.max() <= joined[cbt.last_waiting].min()
        seen += 1
    assert seen > 5


def test_severity_queue_serves_the_most_severe_first():
    m = CareSystemModel("capacity_whatif", care_system__services__cbt__units=3,
                        care_system__queue="severity", **SMALL)  # fmt: skip
    sev = m.run.cohort.severity
    seen = 0
    for cbt in _contested_weeks(m, 40):
        assert sev[cbt.last_granted].min() >= sev[cbt.last_waiting].max()
        seen += 1
    assert seen > 5


def test_mesa_batch_run_sweeps_the_model():
    rows = mesa.batch_run(
        CareSystemModel,
        parameters={"scenario_file": "capacity_whatif", "care_system__years": 1,
                    "care_system__services__cbt__units": [5, 40]},
        rng=[1, 2], max_steps=52, display_progress=False,
    )  # fmt: skip
    df = pd.DataFrame(rows)
    assert set(df.care_system__services__cbt__units) == {5, 40}
    assert set(df.iteration) == {0, 1}
    assert {"queue", "utilisation", "arrived"} <= set(df.columns)


class Stop(Exception):
    pass


@pytest.fixture(scope="module")
def whatif():
    return trdsim.load_scenario("capacity_whatif").with_values(
        {"care_system.years": 1, "care_system.referrals_per_year": 300}
    )


@pytest.fixture(scope="module")
def serial_sweep(whatif, tmp_path_factory):
    grid = parse_grid(
        ["care_system.services.cbt.units=2,6", "care_system.services.rtms.units=1"], whatif
    )
    return grid, run_sweep(whatif, grid, 2, tmp_path_factory.mktemp("sweep"))


def test_sweep_resumes_to_the_same_table(whatif, serial_sweep, tmp_path):
    grid, full = serial_sweep

    def stop(done):
        if done == 2:
            raise Stop

    with pytest.raises(Stop):
        run_sweep(whatif, grid, 2, tmp_path, on_run=stop)
    assert len(list((tmp_path / "runs").glob("*.parquet"))) == 2
    seen = []
    table = run_sweep(whatif, grid, 2, tmp_path, progress=seen.append)
    assert seen[0] == 2
    pd.testing.assert_frame_equal(table, full)
    assert len(full) == 4 and full.run.tolist() == [0, 1, 2, 3]


def test_sweep_on_a_cluster_gives_the_serial_table(whatif, serial_sweep, tmp_path):
    grid, full = serial_sweep
    table = run_sweep(whatif, grid, 2, tmp_path, workers=2)
    pd.testing.assert_frame_equal(table, full)


BAD = [
    (
        ["--grid", "care_system.services.cbt.units=-1"],
        "care_system.services.cbt.units",
        "whole number",
    ),
    (
        ["--grid", "care_system.services.cbt.units=2.5"],
        "care_system.services.cbt.units",
        "whole number",
    ),
    (
        ["--grid", "care_system.services.cbt.units=abc"],
        "care_system.services.cbt.units",
        "whole number",
    ),
    (
        ["--grid", "care_system.services.nope.units=3"],
        "care_system.services.nope.units",
        "unknown service",
    ),
    (
        ["--grid", "care_system.referals_per_year=100"],
        "care_system.referals_per_year",
        "did you mean",
    ),
    (["--grid", "treatments.ssri.respons=0.5"], "treatments.ssri.respons", "did you mean"),
    (
        ["--grid", "care_system.wait_standard_share=1.5"],
        "care_system.wait_standard_share",
        "between 0 and 1",
    ),
    (
        ["--grid", "care_system.waiting_cost=gp_visit"],
        "care_system.waiting_cost",
        "waiting_gp_contacts_week",
    ),
    (
        ["--grid", "care_system.referrals_per_year=lots"],
        "care_system.referrals_per_year",
        "greater than 0",
    ),
]


@pytest.mark.parametrize("argv, key, allowed", BAD, ids=[b[0][1] for b in BAD])
def test_bad_sweep_input_one_message_exit_2_nothing_written(tmp_path, capsys, argv, key, allowed):
    out = tmp_path / "out"
    assert main(["sweep", "capacity_whatif", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and key in err and allowed in err, err
    assert not out.exists()


def test_a_scenario_without_a_care_system_is_refused():
    with pytest.raises(ScenarioError, match="care_system"):
        CareSystemModel("uk_nhs")


def test_care_command_writes_tables_and_figures(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["care", "capacity_whatif", "--set", "care_system.years=1", "--out", str(out)]) == 0
    for name in ("weekly.csv", "services.csv", "summary.json", "queues.png", "waits.png",
                 "utilisation.png"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name


def test_a_combined_step_needs_a_place_in_every_service_it_uses():
    """rTMS with CBT needs a chair and a therapist's place: with no chairs nobody starts
    it, however many therapists there are; with both it starts and uses both."""
    combined = {
        "care_system__arm": "combined",
        "pathways__combined__steps": [["rtms", "cbt_augmentation"]],
        "pathways__combined__start": "first",
        "care_system__services__cbt__units": 100,
    }
    none = CareSystemModel("capacity_whatif", care_system__services__rtms__units=0,
                           **combined, **SMALL)  # fmt: skip
    none.run_model()
    svc = {s.name: s for s in none.services}
    cbt, rtms = svc["cbt"], svc["rtms"]
    assert rtms.total_starts == 0 and cbt.total_starts == 0
    assert cbt.queue_length > 0  # waiting for the chair, though therapists are free
    some = CareSystemModel("capacity_whatif", care_system__services__rtms__units=2,
                           **combined, **SMALL)  # fmt: skip
    some.run_model()
    svc = {s.name: s for s in some.services}
    cbt, rtms = svc["cbt"], svc["rtms"]
    assert rtms.total_starts == cbt.total_starts > 0


def test_rng_generators_give_different_referrals_and_an_int_seed_repeats():
    """mesa 3 conventions: a Generator is honoured (two give two runs), an int (rng= or
    mesa's seed=) repeats a run exactly, and the services are an AgentSet."""
    a = CareSystemModel("capacity_whatif", rng=np.random.default_rng(1), **SMALL)
    b = CareSystemModel("capacity_whatif", rng=np.random.default_rng(2), **SMALL)
    assert a.seed_value != b.seed_value
    assert not np.array_equal(a.arrival_week, b.arrival_week)
    # the same Generator state gives the same run
    c = CareSystemModel("capacity_whatif", rng=np.random.default_rng(1), **SMALL)
    assert np.array_equal(a.arrival_week, c.arrival_week)
    runs = [CareSystemModel("capacity_whatif", rng=7, **SMALL) for _ in range(2)]
    runs.append(CareSystemModel("capacity_whatif", seed=7, **SMALL))
    for m in runs:
        m.run_model()
    for m in runs[1:]:
        assert m.seed_value == 7
        assert np.array_equal(m.arrival_week, runs[0].arrival_week)
        assert np.array_equal(m.run.cost, runs[0].run.cost)
        pd.testing.assert_series_equal(pd.Series(m.summary()), pd.Series(runs[0].summary()))
    assert isinstance(runs[0].services, mesa.agentset.AgentSet)
    # in the scenario's order
    assert [s.name for s in runs[0].services] == list(runs[0].scenario.care_system["services"])
    with pytest.raises(ValueError, match="either rng or seed"):
        CareSystemModel("capacity_whatif", rng=1, seed=1, **SMALL)


# ----- capacity answers: per year, steady state, costs -------------------------------
THREE_YEARS = {"care_system__years": 3, "care_system__referrals_per_year": 300}


@pytest.fixture(scope="module")
def ample():
    """Capacity far above demand (300 referrals a year)."""
    m = CareSystemModel("capacity_whatif", care_system__services__cbt__units=100,
                        care_system__services__rtms__units=40, **THREE_YEARS)  # fmt: skip
    m.run_model()
    return m


@pytest.fixture(scope="module")
def short():
    """Too few therapists: demand well above what they deliver."""
    m = CareSystemModel("capacity_whatif", care_system__services__cbt__units=3,
                        care_system__services__rtms__units=40, **THREE_YEARS)  # fmt: skip
    m.run_model()
    return m


def test_ample_capacity_is_stable_and_meets_the_standard(ample):
    ss = ample.steady_state()
    assert ss["verdict"] == "stable" and ss["meets_standard"]
    s = ample.summary()
    assert s["steady_state"] == "stable" and s["meets_standard_in_steady_state"]
    assert s["cbt_last_year_within_target"] == 1.0  # nobody waits at all


def test_too_little_capacity_is_growing_and_misses_the_standard(short):
    ss = short.steady_state()
    cbt = ss["services"]["cbt"]
    assert cbt["verdict"] == "growing" and ss["verdict"] == "growing"
    assert not ss["meets_standard"]
    assert cbt["queue_growth_per_year"] > 0 and cbt["wait_trend_per_year"] > 0
    y = short.yearly().query("service == 'cbt'")
    assert (np.diff(y.queue_end) > 0).all()  # the queue grows every year
    assert y.utilisation.iloc[-1] == 1.0


def test_one_year_is_too_short_to_tell():
    m = CareSystemModel("capacity_whatif", **SMALL)
    m.run_model()
    assert m.steady_state()["verdict"] == "too short to tell"
    assert not m.summary()["meets_standard_in_steady_state"]


@pytest.mark.parametrize("which", ["ample", "short"])
def test_yearly_table_adds_up(which, request):
    m = request.getfixturevalue(which)
    y = m.yearly()
    services = m.datacollector.get_agent_vars_dataframe()
    assert (services.utilisation.dropna() <= 1.0).all()
    assert ((y.utilisation >= 0) & (y.utilisation <= 1)).all()
    assert (y.weeks == 52).all() and len(y) == 3 * len(m.services)
    for sv in m.services:
        mine = y[y.service == sv.name]
        assert mine.starts.sum() == sv.total_starts  # per-year starts sum to total starts
        assert mine.queue_end.iloc[-1] == sv.queue_length
        q = services.xs(sv.unique_id, level="AgentID").queue.to_numpy()
        assert np.allclose(mine.queue_mean, q.reshape(3, 52).mean(axis=1))
        assert (mine.over_target_end <= mine.queue_end).all()


def test_capacity_cost_is_units_times_weeks_times_cost_a_week():
    """Closed forms: undiscounted, units x weeks x cost a week; discounted, the sum of
    a geometric series. The library's costs are in the scenario's price year (2023)."""
    lib = trdsim.load_scenario("capacity_whatif").params["unit_costs"]["uk"]
    per_t, per_c = lib["therapist_week"]["value"], lib["rtms_chair_week"]["value"]
    flat = CareSystemModel("capacity_whatif", scenario__discount_costs=0.0,
                           care_system__services__cbt__units=7, **SMALL)  # fmt: skip
    flat.run_model()
    c = flat.costs()
    assert c["cbt_cost_capacity"] == pytest.approx(7 * 52 * per_t, rel=1e-12)
    assert c["rtms_cost_capacity"] == pytest.approx(2 * 52 * per_c, rel=1e-12)
    r = 0.035
    m = CareSystemModel("capacity_whatif", scenario__discount_costs=r,
                        care_system__services__cbt__units=7, **SMALL)  # fmt: skip
    m.run_model()
    q = (1 + r) ** (-1 / 52)
    assert m.costs()["cbt_cost_capacity"] == pytest.approx(7 * per_t * (1 - q**52) / (1 - q))
    # idle capacity costs the same: the cost does not depend on the starts
    idle = CareSystemModel("capacity_whatif", scenario__discount_costs=0.0,
                           care_system__referrals_per_year=1,
                           care_system__services__cbt__units=7, care_system__years=1)  # fmt: skip
    idle.run_model()
    assert idle.costs()["cbt_cost_capacity"] == c["cbt_cost_capacity"]


def test_waiting_cost_is_the_weekly_waiting_count_times_its_cost(short):
    per = trdsim.load_scenario("capacity_whatif").params["unit_costs"]["uk"]
    per = per["waiting_gp_contacts_week"]["value"]
    waiting = short.datacollector.get_model_vars_dataframe().waiting.to_numpy()
    c = short.costs()
    assert c["waiting_weeks"] == waiting.sum() > 0
    assert c["cost_waiting"] == pytest.approx((waiting * per * short.disc_c).sum(), rel=1e-12)
    total = c["cost_care"] + c["cost_waiting"] + c["cost_capacity"]
    assert c["cost_total"] == pytest.approx(total)
    assert c["cost_per_patient_treated"] == pytest.approx(total / c["treated"])
    assert c["cost_per_qaly"] == pytest.approx(total / short.run.qaly.sum())
    assert 0 < c["treated"] <= short.arrived


def test_a_unit_cost_must_be_a_library_resource(tmp_path, capsys):
    argv = ["care", "--set", "care_system.services.cbt.unit_cost=therapist_wek",
            "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unit_cost" in err and "therapist_week" in err


def test_care_manifest_repeats_the_run(tmp_path, capsys):
    """manifest.json names the scenario as run, its --set values and seed: rebuilding the
    model from it gives the same scenario hash and the same summary."""
    import json

    out = tmp_path / "c"
    argv = ["care", "--set", "care_system.years=2", "--set", "care_system.referrals_per_year=200",
            "--set", "care_system.services.cbt.units=4", "--seed", "5", "--no-figures",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Steady state" in printed and "per patient treated" in printed
    m = json.loads((out / "manifest.json").read_text())
    assert m["analysis"] == "care" and m["seed"] == 5
    assert m["settings"]["care_system.services.cbt.units"] == 4
    again = CareSystemModel(
        trdsim.load_scenario(m["scenario_file"]).with_values(m["settings"]), rng=m["seed"]
    )
    assert again.scenario.hash == m["scenario_hash"]
    again.run_model()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steady_state_test"]["verdict"] == again.steady_state()["verdict"]
    for k, v in again.summary().items():
        if isinstance(v, float):
            assert summary[k] == pytest.approx(v, nan_ok=True), k
        else:
            assert summary[k] == v, k
    assert (out / "yearly.csv").is_file()


def test_report_of_a_care_folder(tmp_path, capsys):
    """`trdsim report` of a care folder: the per-year table and the verdict as in the
    folder's files; the figures drawn from services.csv after --no-figures; a sweep
    folder is one clear line, exit 2."""
    import json

    from trdsim.report import write_report

    out = tmp_path / "c"
    assert main(["care", "--set", "care_system.years=2", "--set", "care_system.referrals_per_year=200",
                 "--set", "care_system.services.cbt.units=2", "--no-figures",
                 "--out", str(out)]) == 0  # fmt: skip
    r = write_report(out)
    page = r.html.read_text(encoding="utf-8")
    assert r.sections[:1] == ["notices"]  # a growing system is flagged first
    assert {"care", "care_by_year", "steady_state", "care_costs"} <= set(r.sections)
    y = pd.read_csv(out / "yearly.csv")
    shown = pd.read_csv(r.exports[0].parent / "care_by_year.csv")
    pd.testing.assert_frame_equal(shown[list(y.columns.drop("weeks").drop("capacity"))],
                                  y.drop(columns=["weeks", "capacity"]))  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steady_state"] == "growing"
    assert "The system is growing and does not meet the standard" in page
    assert page.count("data:image/png;base64,") == 2  # queues and utilisation, redrawn
    sweep = tmp_path / "s"
    assert main(["sweep", "capacity_whatif", "--grid", "care_system.years=1",
                 "--grid", "care_system.referrals_per_year=50", "--no-figures",
                 "--out", str(sweep)]) == 0  # fmt: skip
    m = json.loads((sweep / "manifest.json").read_text())
    assert m["analysis"] == "sweep" and m["reps"] == 1 and m["seeds"] == [m["seed"]]
    assert m["grid"] == {"care_system.years": [1], "care_system.referrals_per_year": [50]}
    capsys.readouterr()
    assert main(["report", str(sweep)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sweep" in err


@pytest.mark.parametrize(
    "settings",
    [
        # queues on both services, a combined step needing both
        dict(care_system__referrals_per_year=3000, care_system__years=3,
             care_system__services__cbt__units=20, care_system__services__rtms__units=2),
        # most severe first, waiting patients leaving care
        dict(care_system__referrals_per_year=2000, care_system__years=3,
             care_system__queue="severity", care_system__leave_per_week=0.02),
    ],
)  # fmt: skip
def test_leaving_quiet_patients_out_of_the_weekly_calls_changes_no_number(settings):
    """Parking patients to whom nothing can happen, and flagging waiting patients
    without a probe, gives every weekly and final number of everybody-every-week."""
    plain = CareSystemModel(**settings)
    plain.shortcuts = False
    plain.run_model()
    fast = CareSystemModel(**settings)
    parked_in = set()  # phases in which patients were left out of the weekly calls
    while fast.running:
        fast.step()
        on = fast.parked_from[: fast.arrived] >= 0
        parked_in |= set(np.unique(fast.run.phase[: fast.arrived][on]).tolist())
    # the shortcuts are taken: on a course and in follow-up, not only in usual care
    assert {L.ACUTE, L.COURSE, L.FOLLOWUP} <= parked_in
    assert (fast.parked_from == -1).all()  # everybody brought up to date at the end
    pd.testing.assert_frame_equal(
        fast.datacollector.get_model_vars_dataframe(),
        plain.datacollector.get_model_vars_dataframe(),
        check_exact=True,
    )
    pd.testing.assert_frame_equal(
        fast.datacollector.get_agent_vars_dataframe(),
        plain.datacollector.get_agent_vars_dataframe(),
        check_exact=True,
    )
    a, b = fast.run.outputs(), plain.run.outputs()
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    # cost categories: stretches added in bulk rather than week by week (to rounding)
    ca, cb = fast.run.cost_by_category(), plain.run.cost_by_category()
    assert ca.keys() == cb.keys()
    for k in ca:
        np.testing.assert_allclose(ca[k], cb[k], rtol=1e-9, atol=1e-6, err_msg=k)
    sa, sb = fast.summary(), plain.summary()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k] == sb[k] or (sa[k] != sa[k] and sb[k] != sb[k]), k  # nan == nan


def test_a_service_holds_a_place_while_its_own_component_runs():
    """rTMS is given with CBT (integrated care's rTMS step): a chair is held for the
    rTMS course, not for the longer CBT course that goes on after it. Little's law with
    unlimited capacity: place-weeks per start is the weeks each start holds a place."""
    m = CareSystemModel(
        care_system__referrals_per_year=3000, care_system__years=4,
        care_system__services__cbt__units=10_000, care_system__services__rtms__units=10_000,
    )  # fmt: skip
    m.run_model()
    per_start = {sv.name: sum(sv.in_use_by_week) / sv.total_starts for sv in m.services}
    rtms_weeks = m.scenario.params["treatments"]["rtms"]["trial_weeks"]["value"]
    # at most the course and its start week; dropouts, deaths and the horizon cut some
    # short (holding a chair for the whole rTMS + CBT step gave 13.8 weeks)
    assert 0.8 * rtms_weeks <= per_start["rtms"] <= rtms_weeks + 1
    assert per_start["cbt"] > 2 * per_start["rtms"]


# ----- one measure of "within the wait target", one verdict naming the binding service ---
def test_within_target_is_starts_within_among_starts_and_those_waiting_past_it():
    """By hand: starts waited 0, 5, 18, 19 and 30 weeks (three within 18); three still
    wait, 25, 10 and 18 weeks so far: one is past the target (counted as over), two are
    not yet (counted neither way). 3 / (5 + 1) = 0.5."""
    from trdsim.care_result import within_target, within_target_share

    assert within_target([0, 5, 18, 19, 30], [25, 10, 18], 18) == 0.5
    assert within_target_share(3, 5, 1) == 0.5
    assert within_target([0, 5], [], 18) == 1.0  # nobody still waiting
    assert within_target([], [40], 18) == 0.0  # nobody started, one past it
    assert within_target([], [3], 18) != within_target([], [3], 18)  # nobody to count: nan


def _still_waiting_past(m, service: int) -> int:
    """From the model's final state, apart from the service's own record: patients still
    waiting (alive, not gone) for a step that needs the service, longer than the target."""
    n, run = m.arrived, m.run
    wanted = m.needs[run.variant[:n], np.minimum(run.step[:n], m.pathway.n_steps), service]
    still = (run.phase[:n] == L.WAITING) & (run.clin[:n] != L.DEAD) & ~m.left[:n] & wanted
    return int((still & (m.week - 1 - m.queued_since[:n] > m.wait_target)).sum())


def test_the_share_within_target_is_one_number_in_terminal_table_figure_and_dashboard(
    tmp_path, capsys
):
    """One run: the terminal's per-service and pooled shares, summary.json, the yearly
    table's last year, the steady-state test and the dashboard's table give the same
    numbers, and they equal the measure computed apart from the model's final state."""
    import json

    from trdsim.care_result import within_target, within_target_label
    from trdsim.currency import share as pct
    from trdsim.dashboard import PlanComparison

    settings = {"care_system.years": 2, "care_system.referrals_per_year": 300}
    out = tmp_path / "c"
    argv = ["care", "--seed", "5", "--no-figures", "--out", str(out),
            "--set", "care_system.services.cbt.units=3"]  # fmt: skip
    for k, v in settings.items():
        argv += ["--set", f"{k}={v}"]
    assert main(argv) == 0
    printed = " ".join(capsys.readouterr().out.split())  # lines wrap at 100 columns
    s = json.loads((out / "summary.json").read_text())
    label = within_target_label(18)
    model = CareSystemModel(
        "capacity_whatif", rng=5, care_system__years=2, care_system__referrals_per_year=300,
        care_system__services__cbt__units=3,
    )  # fmt: skip
    model.run_model()
    waits = pd.read_parquet(out / "waits.parquet")
    yearly = pd.read_csv(out / "yearly.csv")
    for k, sv in enumerate(model.services):
        past = _still_waiting_past(model, k)
        assert past == s[f"{sv.name}_over_target_at_end"]
        mine = waits.wait[waits.service == sv.name].to_numpy()
        share = within_target(mine, np.full(past, 19), 18)  # all past: any wait above 18
        assert s[f"{sv.name}_within_target"] == pytest.approx(share, nan_ok=True)
        assert f"{pct(share)} {label} over the whole run" in printed
        # the last year's share: the yearly table's, the steady-state test's
        last = yearly[yearly.service == sv.name].within_target.iloc[-1]
        t = s["steady_state_test"]["services"][sv.name]["last_year_within_target"]
        assert last == pytest.approx(t, nan_ok=True)
    assert s["cbt_over_target_at_end"] > 0  # the check counts someone still waiting
    pooled = s["share_started_within_target"]
    assert f"All services: {pct(pooled)} {label} over the whole run" in printed
    dash = PlanComparison("capacity_whatif", settings, a_cbt=3, seed=5)
    while dash.running:
        dash.step()
    row = dash.table()[0]
    assert row[label] == pct(pooled)
    assert s["steady_state_test"]["bottleneck"] in row["steady state"]


def test_the_verdict_names_the_under_provisioned_service_as_binding(short):
    """Too few therapists (3, with 40 rTMS chairs): CBT binds, at full use; any other queue
    that grows is held by CBT, its own places free, and is not called binding."""
    ss = short.steady_state()
    assert ss["binding"] == ["cbt"]
    cbt = ss["services"]["cbt"]
    assert cbt["utilisation"] == 1.0 and cbt["kept_waiting_by"]["cbt"] > 0.5
    assert ss["bottleneck"].startswith("binding: CBT therapists")
    for name in ("rtms", "ketamine"):
        t = ss["services"][name]
        assert not t["binding"] and t["utilisation"] < 1.0
        if t["verdict"] == "growing":
            assert t["held_by"] == ["cbt"] and "wait for CBT therapists" in ss["bottleneck"]
    assert short.summary()["binding_services"] == "cbt"


def test_without_rtms_chairs_rtms_binds_and_holds_the_therapists_queue():
    """No rTMS chairs, ample therapists and ketamine chairs: the rTMS step's patients wait
    for a chair in both queues; rTMS binds, and the therapists' queue (their places
    mostly free) grows only because of it."""
    m = CareSystemModel("capacity_whatif", care_system__services__cbt__units=100,
                        care_system__services__rtms__units=0,
                        care_system__services__ketamine__units=40, **THREE_YEARS)  # fmt: skip
    m.run_model()
    ss = m.steady_state()
    assert ss["binding"] == ["rtms"]
    cbt = ss["services"]["cbt"]
    assert cbt["verdict"] == "growing" and not cbt["binding"] and cbt["utilisation"] < 0.5
    assert cbt["held_by"] == ["rtms"]
    assert ss["bottleneck"] == (
        "binding: rTMS chairs (no places at all); the queue for CBT "
        f"therapists grows only because its patients also wait for rTMS chairs "
        f"({cbt['utilisation']:.0%} of its places in use)"
    )


def test_the_waits_figure_gives_the_measure_of_its_waits_and_those_still_waiting():
    """waits.png's legend: the hand example's 50 %, counting the one still waiting past
    the target; without it, the starts alone (60 %) would be shown as within."""
    from trdsim import care_plots

    fig = care_plots.waits_figure(
        {"cbt": np.array([0, 5, 18, 19, 30])}, 18, waiting_past={"cbt": 1},
        labels={"cbt": "CBT therapists"},
    )  # fmt: skip
    (text,) = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert (
        text == "CBT therapists: 50.0% started within 18 weeks (5 starts, 1 still waiting past it)"
    )


def test_the_scenario_description_says_what_the_default_run_is():
    """capacity_whatif's description names the years and units it runs (a starting plan
    whose queues grow, not the capacity that meets the standard)."""
    sc = trdsim.load_scenario("capacity_whatif")
    cs, text = sc.care_system, sc.description
    assert f"over {cs['years']} years" in text
    for spec in cs["services"].values():
        assert f"{spec['units']} {spec['label']}" in text
    assert "needed for" not in text and "every queue grows" in text and "CBT binds" in text
    m = CareSystemModel(sc)  # the default run: what the description says of it
    m.run_model()
    ss = m.steady_state()
    assert {t["verdict"] for t in ss["services"].values()} == {"growing"}
    assert ss["binding"] == ["cbt"]


def test_a_full_service_holding_a_growing_queue_binds_though_its_own_is_stable():
    """90 therapists, 25 ketamine chairs (capacity_whatif with seed + 18, year 20; one
    realisation of a knife-edge, found again when the cohort's draws changed): the
    therapists' queue, its places all in use, stays under the growth threshold,
    while the ketamine queue (its chairs mostly free when its patients' turn comes)
    crosses it because those patients also wait for a therapist: CBT binds."""
    sc = trdsim.load_scenario("capacity_whatif")
    m = CareSystemModel(sc, rng=sc.seed + 18, care_system__years=20,
                        care_system__services__cbt__units=90,
                        care_system__services__ketamine__units=25,
                        care_system__services__rtms__units=28)  # fmt: skip
    m.run_model()
    ss = m.steady_state()
    cbt, ket = ss["services"]["cbt"], ss["services"]["ketamine"]
    assert cbt["verdict"] == "stable" and ket["verdict"] == "growing"
    assert ket["kept_waiting_by"]["cbt"] > 0.5 > ket["kept_waiting_by"]["ketamine"]
    assert ket["held_by"] == ["cbt"] and not ket["binding"]
    assert ss["binding"] == ["cbt"] and cbt["utilisation"] == 1.0
