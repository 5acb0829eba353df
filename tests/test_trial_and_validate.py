"""Trial designs as scenarios, and the validate fixes (first course only; cohort kept)."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import default_raw, scenario_with

from trdsim.engine import layout as L
from trdsim.errors import ScenarioError
from trdsim.inputs.arrays import compile_inputs
from trdsim.inputs.cohort import sample_cohort
from trdsim.inputs.effective import step_response
from trdsim.scenario import from_dict, load_scenario
from trdsim.validation.targets import Target
from trdsim.validation.trial import run_trial
from trdsim.validation.validate import measure, setting_raw

UC = {
    "steps": ["usual_care"],
    "start": "first",
    "on_exhausted": "usual_care",
    "maintenance": {"default": ["none"]},
}


def _trial_scenario(**trial):
    raw = default_raw()
    return scenario_with(
        cohort={"maltreatment_share": 0.0, "chronic_share": 0.0, "failed_trials": 2},
        pathways={"uc": UC, "uc_copy": UC},
        scenario={**raw["scenario"], "arms": ["uc", "uc_copy"], "horizon_weeks": 60},
        trial={"control": "uc", "assess_weeks": [4, 12, 30], "outcomes": ["bdi2_response"]} | trial,
    )


def test_trial_mode_gives_the_closed_form_response_at_each_assessment_week():
    """One arm of one constant weekly hazard (natural history only: no death, relapse,
    trial context or patient modifiers): the share responding by week t is 1 - e^{-ht}."""
    sc = _trial_scenario()
    x = compile_inputs(sc)
    ef = x.ef.copy()
    ef[L.EF_SUICIDE_H] = 0.0
    ef[L.EF_B_FLEX] = 0.0
    x = dataclasses.replace(
        x,
        ef=ef,
        mort_h=np.zeros_like(x.mort_h),
        cum_h=np.zeros_like(x.cum_h),
        ctxz=np.full_like(x.ctxz, -60.0),
    )
    n = 40_000
    r = run_trial(sc, patients=n, inputs=x)
    p_nh = 1.0 / (1.0 + np.exp(-x.nhz[2]))  # natural-history response over nh_weeks
    h = -np.log1p(-p_nh) / ef[L.EF_NH_WEEKS]
    o = r.outcomes[r.outcomes.arm == "uc"].set_index("week").share
    for t in (4, 12, 30):
        expected = 1.0 - np.exp(-h * t)
        assert abs(o[t] - expected) < 4 * np.sqrt(expected * (1 - expected) / n), (t, o[t])
    # an identical arm: a paired difference of exactly zero and an odds ratio of one
    c = r.contrasts
    assert (c.difference == 0.0).all() and (c.odds_ratio == 1.0).all()


def test_trial_outcome_shares_agree_with_the_trace():
    sc = _trial_scenario(outcomes=["bdi2_response", "bdi2_remission"])
    r = run_trial(sc, patients=2000)
    tr = r.result.trace
    for _, row in r.outcomes.iterrows():
        week = tr[(tr.arm == row.arm) & (tr.week == row.week)].set_index("state")["count"]
        states = ["remission"] if row.kind == "remission" else ["response", "remission"]
        assert row.share == week[states].sum() / 2000


@pytest.mark.parametrize(
    ("trial", "key"),
    [
        ({"assess_weeks": [60]}, "trial.assess_weeks[0]"),
        ({"outcomes": ["bdi_response"]}, "trial.outcomes[0]"),
        ({"outcomes": ["hamd_smd"]}, "trial.outcomes[0]"),
        ({"control": "usual"}, "trial.control"),
    ],
)
def test_bad_trial_designs_name_the_key(trial, key):
    with pytest.raises(ScenarioError) as e:
        _trial_scenario(**trial)
    assert e.value.key == key


def test_failed_trial_distribution_is_drawn_and_must_sum_to_one():
    sc = scenario_with(cohort={"failed_trials": {"2": 0.5, "3": 0.3, "4": 0.2}})
    fails = sample_cohort(sc, 20_000, 3).failed_trials
    np.testing.assert_allclose(
        np.bincount(fails, minlength=5)[2:] / 20_000, [0.5, 0.3, 0.2], atol=0.015
    )
    with pytest.raises(ScenarioError) as e:
        scenario_with(cohort={"failed_trials": {"2": 0.5, "3": 0.3}})
    assert e.value.key == "cohort.failed_trials" and "sum to 1" in e.value.allowed


def test_severity_range_truncates_the_cohort():
    sc = scenario_with(cohort={"severity_min": 24.0, "severity_max": 30.0})
    sev = sample_cohort(sc, 5000, 3).severity
    assert sev.min() >= 24.0 and sev.max() <= 30.0


def test_cli_trial_bad_design_is_one_line_and_writes_nothing(tmp_path):
    design = Path(__file__).resolve().parents[1] / "experiments/replications/cobalt.toml"
    raw_toml = tmp_path / "t.toml"
    raw_toml.write_text(
        design.read_text().replace("assess_weeks = [26, 52]", "assess_weeks = [999]")
    )
    out = tmp_path / "out"
    p = subprocess.run(
        [sys.executable, "-m", "trdsim.cli", "trial", str(raw_toml), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 2 and not out.exists()
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "trial.assess_weeks[0]" in lines[0]


# validate: the two fixes, each against its independent expectation


def test_acute_target_measures_the_last_steps_first_course_only(uk):
    """A cohort entering at the last step: its measured response is that course's, which
    effective.py computes as an exact expectation (no dropout, deaths negligible). The
    old measure also counted natural-history responses in the weeks of the skipped step."""
    sc = scenario_with(treatments={"antidepressant_switch": {"dropout": 0.0}})
    t = Target(
        id="t", description="", source="", setting="acute", measure="response",
        cohort={"failed_trials": 1}, steps=["ssri", "antidepressant_switch"], value=0.5,
        tolerance=0.5,
    )  # fmt: skip
    setting = from_dict(setting_raw(sc, t), sc.source)
    n = 80_000
    o = measure(t, setting, n, 7)
    expected, _ = step_response(compile_inputs(setting), setting, "target", 1, 1)
    # 4 Monte Carlo SEs (0.0065) and 0.002 for deaths in the course; the old measure read
    # 0.013 above the expectation here
    assert abs(o.value - expected) < 4 * np.sqrt(expected * (1 - expected) / n) + 0.002


def test_target_settings_keep_the_scenarios_cohort(uk):
    sc = scenario_with(cohort={"age_min": 60.0, "age_max": 75.0, "severity_min": 20.0})
    for t in (
        Target(id="a", description="", source="", setting="acute", measure="remission",
               steps=["ssri"], value=0.3, tolerance=0.1),
        Target(id="r", description="", source="", setting="relapse", treatment="ect", week=26,
               value=0.4, tolerance=0.1),
    ):  # fmt: skip
        raw = setting_raw(sc, t)
        assert raw["cohort"]["age_min"] == 60.0 and raw["cohort"]["severity_min"] == 20.0
        cohort = sample_cohort(from_dict(raw, sc.source), 2000, 1)
        assert cohort.age.min() >= 60.0 and cohort.severity.min() >= 20.0


# economic and trial figures of a design scenario as targets

DESIGN = Path(__file__).resolve().parents[1] / "experiments/replications/cobalt.toml"


def _targets_file(tmp_path, body: str) -> Path:
    f = tmp_path / "targets.toml"
    f.write_text(
        f'[[target]]\nid = "x"\ndescription = "d"\nsource = "s"\nscenario = "{DESIGN}"\n{body}'
    )
    return f


def test_an_icer_target_evaluates_the_same_as_compare(tmp_path, uk):
    from trdsim.analysis.compare import simulate
    from trdsim.validation.targets import load_targets
    from trdsim.validation.validate import validate

    f = _targets_file(
        tmp_path,
        'setting = "economic"\nmeasure = "icer"\narm = "cbt_usual_care"\nversus = "usual_care"\n'
        'quadrant = "NE"\nrange = [10000.0, 20000.0]\n',
    )
    (o,) = validate(uk, load_targets(f), patients=3000)
    inc = simulate(load_scenario(str(DESIGN)), patients=3000).incremental.set_index("arm")
    assert inc.comparator["cbt_usual_care"] == "usual_care"
    assert o.value == inc.icer["cbt_usual_care"] and o.quadrant == "NE"


def test_a_trial_target_reads_the_trial_table(tmp_path, uk):
    from trdsim.validation.targets import load_targets
    from trdsim.validation.validate import validate

    f = _targets_file(
        tmp_path,
        'setting = "trial"\nmeasure = "odds_ratio"\narm = "cbt_usual_care"\n'
        'versus = "usual_care"\noutcome = "bdi2_response"\nweek = 26\nrange = [2.1, 5.06]\n',
    )
    (o,) = validate(uk, load_targets(f), patients=2000)
    r = run_trial(load_scenario(str(DESIGN)), patients=2000)
    c = r.contrasts.set_index(["outcome", "week"]).loc[("bdi2_response", 26)]
    assert o.value == c.odds_ratio


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (
            'setting = "economic"\nmeasure = "icer"\narm = "cbt_usual_care"\nquadrant = "NE"\nrange = [0.0, 1.0]\n',
            "versus",
        ),
        (
            'setting = "economic"\nmeasure = "p_ce"\narm = "cbt_usual_care"\nversus = "usual_care"\nrange = [0.0, 1.0]\n',
            "threshold",
        ),
        (
            'setting = "economic"\nmeasure = "icer"\narm = "cbt_usual_care"\nversus = "usual_care"\nrange = [0.0, 1.0]\n',
            "quadrant",
        ),
        (
            'setting = "trial"\nmeasure = "share"\narm = "usual_care"\noutcome = "bdi2_response"\nweek = 30\nrange = [0.0, 1.0]\n',
            "week",
        ),
    ],
)
def test_bad_design_targets_name_the_key(tmp_path, body, key):
    from trdsim.validation.targets import load_targets

    with pytest.raises(ScenarioError) as e:
        load_targets(_targets_file(tmp_path, body))
    assert e.value.key == f"target[0].{key}"
