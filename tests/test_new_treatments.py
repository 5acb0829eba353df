"""The treatments added for issue 12: each reproduces its own input effect in its source
population, and a treatment that needs earlier failures cannot come before them."""

import numpy as np
import pytest
from helpers import default_raw

import trdsim
from trdsim.cli import main
from trdsim.errors import ScenarioError
from trdsim.scenario import from_dict

NEW = ["lithium_augmentation", "dbs", "vns", "psilocybin_therapy", "behavioural_activation",
       "mbct_acute", "antidepressant_combination"]  # fmt: skip
N = 20_000


@pytest.mark.parametrize("name", NEW)
def test_new_treatment_reproduces_its_input_odds_ratio_in_its_source_population(name):
    """A trial in silico: the treatment vs its comparator (usual care's course, which
    carries the comparator's trial context), in a homogeneous cohort with the source's
    failed trials, no dropout (the effects are per protocol here) and no prerequisite."""
    lib = trdsim.load_scenario("uk_nhs").params["treatments"][name]
    weeks = int(lib["trial_weeks"]["value"])
    raw = default_raw()
    raw["cohort"] |= {
        "failed_trials": int(lib["source_prior_failures"]["value"]),
        # one kind of patient: the odds ratio is then the same conditional and marginal
        "maltreatment_share": 0.0,
        "chronic_share": 0.0,
        "severity_sd": 0.0,
    }
    raw["treatments"] = {name: {"dropout": 0.0, "requires_failed_trials": 0}}
    raw["pathways"] = {
        "control": {"steps": ["usual_care"], "start": "first"},
        "treated": {"steps": [name], "start": "first"},
    }
    raw["scenario"] |= {"arms": ["control", "treated"], "horizon_weeks": weeks + 2}
    r = trdsim.simulate(from_dict(raw, "trial.toml"), patients=N, seed=3)
    p = r.patients
    # the course's hazard acts in weeks 1 .. T: response by week T
    resp = {a: int((p[p.arm == a].first_response_week.between(0, weeks)).sum()) for a in ("control", "treated")}  # fmt: skip
    log_or = np.log(resp["treated"] / (N - resp["treated"])) - np.log(
        resp["control"] / (N - resp["control"])
    )
    se = np.sqrt(sum(1 / k + 1 / (N - k) for k in resp.values()))
    expected = np.log(lib["response_effect"]["value"])
    assert lib["measure"] == "OR"
    assert abs(log_or - expected) < 3 * se, (name, np.exp(log_or), np.exp(expected))


def test_lithium_before_a_failed_trial_is_rejected():
    raw = default_raw()
    raw["cohort"] |= {"failed_trials": 0}
    raw["pathways"] = {"sequential": {"steps": ["lithium_augmentation", "ssri"]}}
    with pytest.raises(ScenarioError, match="needs 1 failed adequate trial"):
        from_dict(raw, "lithium_first.toml")
    # after a failed SSRI it is allowed
    raw["pathways"] = {"sequential": {"steps": ["ssri", "lithium_augmentation"]}}
    from_dict(raw, "lithium_second.toml")


def test_a_rule_giving_lithium_too_early_is_rejected(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[scenario]\nbase = "uk_nhs"\n[cohort]\nfailed_trials = 0\n[pathways.integrated]\n'
        'rules = [{ step = 1, when = "severity >= 25", components = ["lithium_augmentation"] }]\n'
    )
    out = tmp_path / "out"
    code = main(["compare", str(bad), "--patients", "10", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists() and len(err.splitlines()) == 1, err
    assert "pathways.integrated.rules[0].components" in err and "lithium_augmentation" in err
