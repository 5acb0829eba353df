"""Published targets: the defaults against them, the calibrator, the targets file's checks."""

import dataclasses

import pytest
from pytest import approx

import trdsim
from trdsim.cli import main
from trdsim.errors import ScenarioError, TrdsimError
from trdsim.scenario import from_dict
from trdsim.validation.calibrate import calibrate
from trdsim.validation.targets import load_targets
from trdsim.validation.validate import measure, setting_raw, validate

# Where the library's evidence and a published target disagree. Not tuned away: the
# calibrated scenario (scenarios/uk_nhs_calibrated.toml) shows what it takes to agree.
KNOWN_DISAGREEMENTS = {
    # a first SSRI: its effect (Arroll 2005, RR 1.37) is measured at 8 weeks, STAR*D level
    # 1 ran to 14; the model gives about 42 % response and 29 % remission
    "first_treatment_response",
    "stard_level1_remission",
    # step 2 is a switch: no better than continuing (Bschor 2018) and VAST-D's remission
    # share of its broad response (0.36); STAR*D level 2 (30.6 %) pooled switches,
    # augmentation and CBT
    "stard_level2_remission",
    # a combination step keeps the baseline relapse shape (Jelovac 2013): Wilkinson's
    # ketamine + CBT curve falls off more slowly early
    "ketamine_cbt_median_relapse",
    # issue 29: antidepressant responders relapse as in routine continued care (STAR*D
    # naturalistic follow-up, 40 % at 12 months); Geddes 2003's discontinuation-trial arms
    # (18 % continued, 41 % on placebo: selected stable responders) are a contrast, not
    # routine-care rates, and stopping is modelled as that contrast on the naturalistic
    # figure (about 72 %): both Geddes targets (dependent) disagree by design
    "continuation_ad_relapse",
    "discontinuation_relapse",
}


@pytest.fixture(scope="module")
def targets(uk):
    return load_targets(scenario=uk)


def test_the_defaults_agree_with_every_target_but_the_documented_ones(uk, targets):
    outcomes = validate(uk, targets)
    disagree = {o.target.id for o in outcomes if not o.passed}
    assert disagree == KNOWN_DISAGREEMENTS, [(o.target.id, o.value) for o in outcomes]


def test_the_calibrated_scenario_agrees_with_the_targets_it_was_fitted_to(targets):
    sc = trdsim.load_scenario("uk_nhs_calibrated")
    fitted = [t for t in targets if t.id in ("stard_level1_remission", "stard_level2_remission")]
    outcomes = validate(sc, fitted)
    assert all(o.passed for o in outcomes), [
        (o.target.id, o.value) for o in outcomes if not o.passed
    ]


def test_calibration_recovers_values_the_model_generated(uk, targets):
    """Targets simulated with known values are fitted back to those values."""
    truth = {"treatments.ssri.remission_share": 0.80, "treatments.rtms.relapse_p2": 0.45}
    chosen = [t for t in targets if t.id in ("stard_level1_remission", "rtms_sustained_12m")]
    made = []
    for t in chosen:
        sc = from_dict(uk.raw_with(setting_raw(uk, t), truth), uk.source)
        v = measure(t, sc, 4000, 11).value
        made.append(dataclasses.replace(t, value=v, events=round(v * 100_000), n=100_000,
                                        overdispersion=None))  # fmt: skip
    r = calibrate(uk, made, list(truth), patients=4000, seeds=[11])
    fitted = dict(zip(r.parameters.key, r.parameters.fitted, strict=True))
    for k, v in truth.items():
        assert fitted[k] == approx(v, abs=0.01), (k, fitted[k])
    assert r.fit.agrees_after.all()
    assert (r.parameters.se > 0).all()


def test_calibrated_fragment_is_a_scenario_compare_accepts(tmp_path, capsys):
    code = main(["calibrate", "--target", "stard_level1_remission", "--param",
                 "treatments.ssri.remission_share", "--patients", "1000", "--out",
                 str(tmp_path / "cal")])  # fmt: skip
    frag = tmp_path / "cal" / "uk_nhs_calibrated.toml"
    assert code == 0, capsys.readouterr().err
    sc = trdsim.load_scenario(frag)
    assert sc.params["treatments"]["ssri"]["remission_share"]["verified"] == "calibrated"
    assert sc.params["treatments"]["ssri"]["remission_share"]["dist"] == "beta"
    assert main(["compare", str(frag), "--patients", "200", "--force", "--out",
                 str(tmp_path / "r"), "--no-figures"]) == 0  # fmt: skip


def test_validate_command_writes_a_table_and_a_figure_per_target(tmp_path, capsys, targets):
    out = tmp_path / "v"
    assert main(["validate", "--patients", "2000", "--out", str(out)]) == 0
    assert len(list(out.glob("target_*.png"))) == len(targets)
    assert (out / "validation.csv").stat().st_size > 0
    assert main(["validate", "--patients", "2000", "--out", str(out), "--strict",
                 "--no-figures"]) == 1  # fmt: skip


def _write_targets(path, body):
    path.write_text(body)
    return path


GOOD = """[[target]]
id = "x"
description = "d"
source = "s"
setting = "acute"
steps = ["ssri"]
measure = "response"
"""


@pytest.mark.parametrize(
    "extra, key, allowed",
    [
        ("value = 1.3\ntolerance = 0.05\n", "target[0].value", "a proportion between 0 and 1"),
        ("range = [0.4, 0.2]\n", "target[0].range", "low must not exceed high"),
        ("value = 0.5\n", "target[0].value", "give value and tolerance"),
        (
            "value = 0.5\ntolerance = 0.05\nevents = 9\nn = 5\n",
            "target[0].events",
            "between 0 and n",
        ),
        ("value = 0.5\ntolerance = 0.05\nbogus = 1\n", "target[0].bogus", "unknown key"),
    ],
)
def test_an_impossible_target_is_rejected_with_its_key(tmp_path, uk, extra, key, allowed):
    f = _write_targets(tmp_path / "t.toml", GOOD + extra)
    with pytest.raises(ScenarioError) as e:
        load_targets(f, uk)
    assert key in str(e.value) and allowed in str(e.value)


def test_a_target_naming_an_unknown_treatment_is_rejected(tmp_path, uk):
    f = _write_targets(
        tmp_path / "t.toml", GOOD.replace('"ssri"', '"ssry"') + "range = [0.1, 0.2]\n"
    )
    with pytest.raises(ScenarioError, match="steps"):
        load_targets(f, uk)


def test_bad_calibration_requests_exit_2(tmp_path, capsys):
    f = _write_targets(tmp_path / "t.toml", GOOD + "value = 1.3\ntolerance = 0.05\n")
    assert (
        main(["calibrate", "--targets", str(f), "--param", "treatments.ssri.remission_share"]) == 2
    )
    assert "target[0].value" in capsys.readouterr().err
    assert main(["calibrate", "--param", "treatments.nope.remission_share", "--target",
                 "stard_level1_remission"]) == 2  # fmt: skip
    assert "unknown parameter" in capsys.readouterr().err
    assert (
        main(["calibrate", "--param", "treatments.ssri.remission_share", "--target", "nope"]) == 2
    )
    with pytest.raises(TrdsimError):
        calibrate(trdsim.load_scenario(), [], [], patients=10)


def test_a_scenario_cannot_be_its_own_base(tmp_path):
    a = tmp_path / "a.toml"
    a.write_text('[scenario]\nbase = "a.toml"\n')
    with pytest.raises(ScenarioError, match="must not include each other"):
        trdsim.load_scenario(a)
