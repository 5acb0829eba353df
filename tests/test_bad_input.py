"""Bad scenarios stop before any simulation: one message, exit code 2, nothing written."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import default_raw

from trdsim.cli import main


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):  # inline table (e.g. a personalised rule)
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)


def _write(path, raw: dict) -> None:
    lines = []

    def emit(prefix, table):
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if prefix:
            lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {_toml(v)}" for k, v in scalars.items())
        for k, v in table.items():
            if isinstance(v, dict):
                emit(f"{prefix}.{k}" if prefix else k, v)

    emit("", raw)
    path.write_text("\n".join(lines) + "\n")


# A complete new treatment, written as a user would (VNS added to usual care)
VNS = {
    "label": "Vagus nerve stimulation",
    "monoaminergic": False,
    "psychotherapy": False,
    "counts_as_trial": True,
    "resource": "vns_programming",
    "effect": "relative",
    "measure": "OR",
    "comparator": "usual_care",
    "outcome": "madrs_response",
    "response_effect": 2.0,
    "remission_share": 0.6,
    "trial_weeks": 52,
    "onset_first_week": 4,
    "onset_last_week": 52,
    "dropout": 0.05,
    "relapse_t1": 52,
    "relapse_p1": 0.4,
    "relapse_reference": "none",
    "source_prior_failures": 4,
    "relapse_prior_failures": 4,
    "relapse_entry": "response",
    "relapse_design": "trial_follow_up",
    "relapse_setting": "test",
    "sessions": 6,
    "disutility": 0.0,
}
VNS_NO_COMPARATOR = {k: v for k, v in VNS.items() if k != "comparator"}

CASES = [
    # (description, edit of the raw scenario, key in message, value in message, allowed text)
    (
        "unknown treatment",
        lambda r: r.setdefault("pathways", {}).update(
            {"sequential": {"steps": ["ssri", "psilocybin"]}}
        ),
        "pathways.sequential.steps[1]",
        "'psilocybin'",
        "unknown treatment",
    ),
    (
        "probability above 1",
        lambda r: r.setdefault("treatments", {}).update({"ssri": {"response": 1.3}}),
        "treatments.ssri.response",
        "1.3",
        "probability strictly between 0 and 1",
    ),
    (
        "negative cost",
        lambda r: r.setdefault("unit_costs", {}).update({"uk": {"cbt_session": -5.0}}),
        "unit_costs.uk.cbt_session",
        "-5.0",
        "a cost of 0 or more",
    ),
    (
        "missing key",
        lambda r: r["scenario"].pop("horizon_weeks"),
        "scenario.horizon_weeks",
        "(missing)",
        "required",
    ),
    (
        "misspelt key",
        lambda r: r["scenario"].update({"discount_cost": 0.035}),
        "scenario.discount_cost",
        "0.035",
        "did you mean 'discount_costs'",
    ),
    (
        "wrong type",
        lambda r: r["scenario"].update({"horizon_weeks": "five years"}),
        "scenario.horizon_weeks",
        "'five years'",
        "must be of type int",
    ),
    (
        "empty pathway",
        lambda r: r.setdefault("pathways", {}).update({"integrated": {"steps": []}}),
        "pathways.integrated.steps",
        "[]",
        "at least one step",
    ),
    (
        "unknown component of a step",
        lambda r: r.setdefault("pathways", {}).update(
            {"sequential": {"steps": ["ssri", ["antidepressant_switch", "psilocybin"]]}}
        ),
        "pathways.sequential.steps[1][1]",
        "'psilocybin'",
        "unknown treatment",
    ),
    (
        "too many components",
        lambda r: r.setdefault("pathways", {}).update(
            {"sequential": {"steps": [["ssri", "rtms", "cbt_augmentation", "ect"]]}}
        ),
        "pathways.sequential.steps[0]",
        "'ect'",
        "list of 1 to 3 treatments",
    ),
    (
        "effect without its comparator",
        lambda r: r.setdefault("treatments", {}).update({"tvns": VNS_NO_COMPARATOR}),
        "treatments.tvns.comparator",
        "(missing)",
        "needs its comparator",
    ),
    (
        "comparator not in the library",
        lambda r: r.setdefault("treatments", {}).update(
            {"tvns": {**VNS, "comparator": "waitlist"}}
        ),
        "treatments.tvns.comparator",
        "'waitlist'",
        "unknown comparator",
    ),
    (
        "outcome definition missing",
        lambda r: r.setdefault("treatments", {}).update(
            {"tvns": {k: v for k, v in VNS.items() if k != "outcome"}}
        ),
        "treatments.tvns.outcome",
        "(missing)",
        "required",
    ),
    (
        "price year outside the index",
        lambda r: r.update({"settings": {"uk": {"currency": "GBP", "price_year": 2005}}}),
        "settings.uk.price_year",
        "2005",
        "uk price index, 2006-2024",
    ),
    (
        "state cost below zero",
        lambda r: r.update({"state_costs": {"uk": {"depressed_week": -1.0}}}),
        "state_costs.uk.depressed_week",
        "-1.0",
        "a cost of 0 or more",
    ),
    (
        "personalised rule on an unknown attribute",
        lambda r: r.setdefault("pathways", {}).update(
            {"integrated": {"rules": [{"step": 3, "when": "crp > 3", "components": ["ect"]}]}}
        ),
        "pathways.integrated.rules[0].when",
        "'crp > 3'",
        "unknown attribute 'crp'",
    ),
    (
        "personalised rule that selects no component",
        lambda r: r.setdefault("pathways", {}).update(
            {"integrated": {"rules": [{"step": 3, "when": "severity >= 25", "components": []}]}}
        ),
        "pathways.integrated.rules[0].components",
        "[]",
        "selects no component",
    ),
    (
        "new treatment missing a field",
        lambda r: r.setdefault("treatments", {}).update(
            {"tvns": {"label": "VNS", "response": 0.3}}
        ),
        "treatments.tvns",
        "(missing)",
        "required",
    ),
    (
        "misspelt unit cost (would have been a new resource)",
        lambda r: (
            r.setdefault("unit_costs", {}).setdefault("uk", {}).update({"esketamine_sesion": 326.0})
        ),
        "unit_costs.uk.esketamine_sesion",
        "326.0",
        "did you mean 'esketamine_session'",
    ),
    (
        "a resource declared without a label",
        lambda r: r.setdefault("resources", {}).update({"tms_helmet": {"unit": "week"}}),
        "resources.tms_helmet.label",
        "(missing)",
        "required",
    ),
    (
        "a new setting without a life table (would have kept another country's)",
        lambda r: (
            r.update({"settings": {"de": {"currency": "EUR", "price_year": 2023}}}),
            r["scenario"].update({"setting": "de"}),
        ),
        "settings.de.life_table",
        "(missing)",
        "required: the life table of the setting's population",
    ),
    (
        "utilities out of order (depressed above remission)",
        lambda r: r.setdefault("utilities", {}).update({"depressed": 0.9, "remission": 0.5}),
        "utilities.depressed",
        "0.9",
        "depressed <= response <= remission",
    ),
    (
        "beta distribution with a negative shape",
        lambda r: r.setdefault("utilities", {}).update(
            {"response": {"value": 0.7, "dist": "beta", "a": -1.0, "b": 3.0}}
        ),
        "utilities.response.a",
        "-1.0",
        "'a' > 0",
    ),
    (
        "gamma distribution with a negative standard error",
        lambda r: (
            r.setdefault("state_costs", {})
            .setdefault("uk", {})
            .update({"depressed_week": {"value": 50.0, "dist": "gamma", "mean": 50.0, "se": -3.0}})
        ),
        "state_costs.uk.depressed_week.se",
        "-3.0",
        "'se' > 0",
    ),
    (
        "scenario name that climbs out of results/",
        lambda r: r["scenario"].update({"name": "../../escaped"}),
        "scenario.name",
        "'../../escaped'",
        "plain folder name",
    ),
    (
        "empty scenario name (would write into results/ itself)",
        lambda r: r["scenario"].update({"name": ""}),
        "scenario.name",
        "''",
        "plain folder name",
    ),
    (
        "seed past 64 bits",
        lambda r: r["scenario"].update({"seed": 2**70}),
        "scenario.seed",
        str(2**70),
        "2**63 - 1",
    ),
    (
        "severity floor below the HRSD-17's 0",
        lambda r: r.setdefault("cohort", {}).update({"severity_min": -5.0}),
        "cohort.severity_min",
        "-5.0",
        "HRSD-17's 0 to 52",
    ),
    (
        "severity ceiling above the HRSD-17's 52",
        lambda r: r.setdefault("cohort", {}).update({"severity_max": 60.0}),
        "cohort.severity_max",
        "60.0",
        "HRSD-17's 0 to 52",
    ),
    (
        "personalised rule with a threshold outside the cohort's range",
        lambda r: r.setdefault("pathways", {}).update(
            {
                "integrated": {
                    "rules": [{"step": 3, "when": "severity >= 60", "components": ["ect"]}]
                }
            }
        ),
        "pathways.integrated.rules[0].when",
        "'severity >= 60'",
        "never true: the cohort's severity runs from 0 to 52",
    ),
    (
        "personalised rule on sex == 2",
        lambda r: r.setdefault("pathways", {}).update(
            {"integrated": {"rules": [{"step": 3, "when": "sex == 2", "components": ["ect"]}]}}
        ),
        "pathways.integrated.rules[0].when",
        "'sex == 2'",
        "never true: sex is 0 (male) or 1 (female)",
    ),
    (
        "personalised rule with a nan threshold",
        lambda r: r.setdefault("pathways", {}).update(
            {"integrated": {"rules": [{"step": 3, "when": "age < nan", "components": ["ect"]}]}}
        ),
        "pathways.integrated.rules[0].when",
        "'age < nan'",
        "not nan",
    ),
    (
        "personalised rule on a step before the cohort enters",
        lambda r: r.setdefault("pathways", {}).update(
            {
                "integrated": {
                    "rules": [{"step": 1, "when": "severity >= 25", "components": ["ect"]}]
                }
            }
        ),
        "pathways.integrated.rules[0].step",
        "1",
        "the cohort enters this pathway at step 3",
    ),
    (
        "a UK setting relabelled in dollars",
        lambda r: r.setdefault("settings", {}).update({"uk": {"currency": "USD"}}),
        "settings.uk.currency",
        "'USD'",
        "must be GBP",
    ),
    (
        "a US unit cost in a UK scenario",
        lambda r: r.setdefault("unit_costs", {}).update({"us": {"cbt_session": 150.0}}),
        "unit_costs.us",
        "{'cbt_session': 150.0}",
        "this scenario's setting is uk (GBP)",
    ),
    (
        "ages beyond the life table",
        lambda r: r.setdefault("cohort", {}).update({"age_max": 120.0}),
        "cohort.age_max",
        "120.0",
        "the life table uk_ons_2020_2022 ends at",
    ),
]


@pytest.mark.parametrize("desc,edit,key,value,allowed", CASES, ids=[c[0] for c in CASES])
def test_bad_input_one_message_exit_2_nothing_written(
    tmp_path, capsys, desc, edit, key, value, allowed
):
    raw = default_raw()
    raw["resources"] = {"vns_programming": {"label": "VNS programming session"}}
    raw.setdefault("unit_costs", {}).setdefault("uk", {})["vns_programming"] = 100.0
    edit(raw)
    bad = tmp_path / "bad.toml"
    _write(bad, raw)
    out = tmp_path / "out"
    code = main(["compare", str(bad), "--patients", "10", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert not out.exists()
    assert len(err.splitlines()) == 1, err
    assert str(bad) in err and key in err and value in err and allowed in err, err
    assert "Traceback" not in err


def test_unreadable_toml_is_reported(tmp_path, capsys):
    bad = tmp_path / "broken.toml"
    bad.write_text("[scenario\nname = 1\n")
    assert main(["compare", str(bad)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content,says",
    [
        ('name = "caf\xe9"\n'.encode("latin-1"), "is not UTF-8 text (byte 0xe9"),
        (b"\x00\x01\x02binary", "is a binary file"),
    ],
    ids=["latin-1", "binary"],
)
def test_files_that_are_not_utf8_toml_say_so(tmp_path, capsys, content, says):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(content)
    assert main(["compare", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and not (tmp_path / "out").exists(), err


def test_a_folder_given_as_the_scenario_says_so(tmp_path, capsys):
    assert main(["compare", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "is a folder, not a scenario file" in capsys.readouterr().err


def test_a_byte_order_mark_is_accepted(tmp_path):
    from trdsim.scenario import load_scenario

    raw = default_raw()
    plain, bom = tmp_path / "plain.toml", tmp_path / "bom.toml"
    _write(plain, raw)
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert load_scenario(bom).params == load_scenario(plain).params


def test_a_seed_past_64_bits_on_the_command_line_exits_2():
    p = subprocess.run(
        [sys.executable, "-m", "trdsim.cli", "compare", "--seed", str(2**70)],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 2 and "2**63 - 1" in p.stderr and "Traceback" not in p.stderr


def test_missing_file_names_the_bundled_scenarios(capsys):
    assert main(["compare", "no_such_scenario"]) == 2
    assert re.search(r"bundled scenarios: .*uk_nhs", capsys.readouterr().err)


def test_by_an_unknown_attribute_names_the_file_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["compare", "uk_nhs", "--patients", "10", "--out", str(out), "--by", "colour"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists() and len(err.splitlines()) == 1, err
    assert "uk_nhs.toml" in err and "--by" in err and "'colour'" in err and "allowed:" in err


def test_by_a_cut_off_that_is_not_a_number_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["compare", "uk_nhs", "--patients", "10", "--out", str(out), "--by",
                 "severity:17,nan"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists() and len(err.splitlines()) == 1, err
    assert "--by" in err and "'severity:17,nan'" in err and "finite numbers" in err, err


@pytest.mark.parametrize(
    "call, says",
    [
        (lambda t: t.compare("uk_nhs", patients=100.5), "patients=100.5: is not a whole number"),
        (lambda t: t.compare("uk_nhs", patients=-3), "patients=-3: must be at least 1"),
        (lambda t: t.compare("uk_nhs", patients=True), "patients=True: is not a whole number"),
        (lambda t: t.validate("uk_nhs", patients=0), "patients=0: must be at least 1"),
        (lambda t: t.compare("uk_nhs", seed=-1), "seed=-1: must be between 0 and"),
        (lambda t: t.compare("uk_nhs", seed=2**64), "(2**63 - 1)"),
        (lambda t: t.compare("uk_nhs", threads=0), "threads=0: must be from 1 to"),
        (lambda t: t.compare("uk_nhs", by=["colour"]), "by='colour': unknown attribute"),
        (lambda t: t.compare("uk_nhs", by="severity:17,nan"), "finite numbers"),
        (lambda t: t.psa("uk_nhs", draws=2.5), "draws=2.5: is not a whole number"),
        (lambda t: t.dsa("uk_nhs", patients="300"), "patients='300': is not a whole number"),
    ],
)
def test_the_python_api_refuses_bad_counts_seeds_and_attributes_in_one_line(call, says):
    import trdsim
    from trdsim.errors import TrdsimError

    with pytest.raises(TrdsimError) as e:
        call(trdsim)
    assert says in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_the_python_api_takes_one_subgroup_attribute_as_a_string(uk):
    import trdsim

    r = trdsim.compare(uk, patients=200, by="severity")
    assert set(r.subgroup_table.attribute) == {"severity"}


@pytest.mark.parametrize(
    "argv, says",
    [
        (["sweep", "--grid", "care_system.services.cbt.units=2,6", "--grid",
          "care_system.services.cbt.units=3"], "is already given"),
        (["dsa", "--param", "unit_costs.uk.cbt_session", "--param", "unit_costs.uk.cbt_session"],
         "--param unit_costs.uk.cbt_session: given twice"),
        (["calibrate", "uk_nhs", "--param", "treatments.ssri.remission_share", "--param",
          "treatments.ssri.remission_share"], "given twice"),
        (["care", "--set", "care_system.years=2", "--set", "care_system.years=3"],
         "care_system.years is already set"),
    ],
)  # fmt: skip
def test_an_option_given_twice_is_refused_before_any_work(tmp_path, capsys, argv, says):
    out = tmp_path / "out"
    code = main([*argv, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and says in err, err
    assert not out.exists()


def test_a_trial_outcome_given_twice_is_refused():
    import tomllib

    from trdsim.errors import ScenarioError
    from trdsim.scenario import from_dict

    design = Path(__file__).resolve().parents[1] / "experiments/replications/cobalt.toml"
    raw = tomllib.loads(design.read_text())
    raw["trial"]["outcomes"] = ["bdi2_response", "bdi2_response"]
    with pytest.raises(ScenarioError, match=r"trial.outcomes\[1\] = 'bdi2_response': given twice"):
        from_dict(raw, "cobalt.toml")


def test_an_odds_ratio_target_at_or_below_0_is_refused(tmp_path):
    from trdsim.errors import ScenarioError
    from trdsim.validation.targets import load_targets

    design = Path(__file__).resolve().parents[1] / "experiments/replications/cobalt.toml"
    f = tmp_path / "targets.toml"
    f.write_text(
        f'[[target]]\nid = "t"\ndescription = "d"\nsource = "x"\n'
        f'setting = "trial"\nscenario = "{design}"\n'
        'measure = "odds_ratio"\narm = "cbt_usual_care"\nversus = "usual_care"\n'
        'outcome = "bdi2_response"\nweek = 26\nrange = [0.0, 5.06]\n'
    )
    with pytest.raises(
        ScenarioError, match=r"target\[0\]\.range\[0\] = 0.0: must be an odds ratio > 0"
    ):
        load_targets(f)


def test_by_a_treatment_outcome_is_refused_with_the_reason(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["compare", "uk_nhs", "--patients", "10", "--out", str(out), "--by", "sudden_gain"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists() and "outcome of treatment" in err, err


def test_bad_command_line_value_exits_2():
    p = subprocess.run(
        [sys.executable, "-m", "trdsim.cli", "compare", "--patients", "0"],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 2 and "must be at least 1" in p.stderr and "Traceback" not in p.stderr


def test_a_user_can_add_a_treatment_without_code(tmp_path):
    """A new treatment (psilocybin-assisted therapy) with all fields, used in a pathway."""
    raw = default_raw()
    raw["treatments"] = {
        "psilocybin": {
            "label": "Psilocybin-assisted therapy",
            "monoaminergic": False,
            "psychotherapy": True,
            "counts_as_trial": True,
            "resource": "psilocybin_session",
            "relapse_reference": "none",
            "effect": "absolute",
            "outcome": "madrs_response",
            "response": 0.37,
            "remission_share": 0.78,
            "trial_weeks": 3,
            "onset_first_week": 1,
            "onset_last_week": 3,
            "dropout": 0.05,
            "relapse_t1": 12,
            "relapse_p1": 0.4,
            "source_prior_failures": 2,
            "relapse_prior_failures": 2,
            "relapse_entry": "response",
            "relapse_design": "trial_follow_up",
            "relapse_setting": "test",
            "sessions": 2,
            "disutility": 0.0,
        }
    }
    raw["resources"] = {"psilocybin_session": {"label": "Psilocybin dosing session"}}
    raw["unit_costs"] = {"uk": {"psilocybin_session": 1500.0}}
    raw["pathways"] = {
        "psilocybin_first": {"steps": ["ssri", "antidepressant_switch", "psilocybin", "ect"]}
    }
    raw["scenario"]["arms"] = ["sequential", "psilocybin_first"]
    path = tmp_path / "psilocybin.toml"
    _write(path, raw)
    out = tmp_path / "out"
    argv = ["compare", str(path), "--patients", "200", "--force", "--out", str(out)]
    assert main([*argv, "--no-figures"]) == 0
    assert (out / "summary.csv").exists()


def test_more_threads_than_the_machine_allows_is_a_clear_error(tmp_path, capsys):
    assert main(["compare", "--threads", "999", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--threads 999" in err and not (tmp_path / "o").exists()


def test_out_pointing_at_a_file_is_a_clear_error(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["compare", "--patients", "10", "--force", "--out", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"--out {f}: is a file" in err, err
    assert f.read_text() == "x"


def test_societal_perspective_needs_productivity_inputs(tmp_path, capsys):
    raw = default_raw()
    raw["scenario"]["perspective"] = "societal"
    path = tmp_path / "societal.toml"
    _write(path, raw)
    assert main(["compare", str(path), "--patients", "10", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "productivity" in err and "(missing)" in err


def test_a_misspelt_cost_set_from_python_is_an_error_not_a_new_resource(uk):
    from trdsim.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="did you mean 'esketamine_session'"):
        uk.with_value("unit_costs.uk.esketamine_sesion", 326.0)
    assert (
        uk.with_value("unit_costs.uk.esketamine_session", 326.0).params["unit_costs"]["uk"][
            "esketamine_session"
        ]["value"]
        == 326.0
    )


def test_values_a_scenario_gives_without_their_certainty_count_as_unverified(uk):
    from trdsim.evidence import UNVERIFIED, parameter_table

    before = parameter_table(uk.params).verified.isin(UNVERIFIED).sum()
    plain = uk.with_value("utilities.remission", 0.86)
    stated = uk.with_value("utilities.remission", {"value": 0.86, "verified": "read"})
    assert parameter_table(plain.params).verified.isin(UNVERIFIED).sum() == before + 1
    assert parameter_table(stated.params).verified.isin(UNVERIFIED).sum() == before


def test_a_derived_scenario_has_its_own_name_and_description(tmp_path, uk):
    from trdsim.scenario import load_scenario

    f = tmp_path / "cheaper_cbt.toml"
    f.write_text('[scenario]\nbase = "uk_nhs"\n\n[unit_costs.uk]\ncbt_session = 100.0\n')
    sc = load_scenario(f)
    assert sc.name == "cheaper_cbt"  # its results do not land in results/uk_nhs/
    assert sc.description != uk.description
    assert sc.description.startswith(uk.description)
    assert "unit_costs.uk.cbt_session" in sc.description


def test_calibrating_to_an_unknown_target_names_the_library_targets(capsys):
    code = main(
        ["calibrate", "uk_nhs", "--param", "treatments.ssri.remission_share", "--target", "nope"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "not in the library targets" in err and "None" not in err, err


def test_a_threshold_no_plausible_value_reaches_says_so(capsys):
    # the ketamine infusion price cannot make integrated care's ICER 1 per QALY (since
    # issue 29 the CBT session price can: integrated costs less than it did)
    code = main(
        ["threshold", "uk_nhs", "--param", "unit_costs.uk.ketamine_infusion", "--threshold", "1",
         "--arm", "integrated", "--versus", "sequential", "--patients", "300"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "stays not cost-effective" in err and "default search range" in err, err


def test_an_output_folder_in_use_by_another_run_is_refused(tmp_path, capsys):
    import time as _time

    out = tmp_path / "psa"
    # another process holds the folder: a child that only sleeps, holding its lock
    code = (
        "import sys, time; from pathlib import Path; from trdsim.runtime.locks import lock_folder; "
        f"lock_folder(Path({str(out)!r})); print('held', flush=True); time.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        rc = main(["psa", "--draws", "2", "--patients", "10", "--out", str(out), "--no-evppi"])
        err = capsys.readouterr().err
        assert rc == 2 and f"in use by another trdsim run (process {child.pid} on " in err, err
    finally:
        child.kill()
        child.wait()
    _time.sleep(0.05)
    assert not (out / "draws.parquet").exists()
    # once that process has ended its lock is stale and the folder is free
    assert main(["psa", "--draws", "2", "--patients", "10", "--out", str(out), "--no-evppi",
                 "--no-figures"]) == 0  # fmt: skip


def test_a_command_does_not_write_over_another_analysis_in_its_folder(tmp_path, capsys):
    out = tmp_path / "shared"
    assert main(["psa", "--draws", "2", "--patients", "10", "--out", str(out), "--no-evppi",
                 "--no-figures"]) == 0  # fmt: skip
    capsys.readouterr()
    rc = main(["compare", "--patients", "10", "--force", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "holds results of another kind, a psa run (" in err and "--overwrite" in err, err
    assert not (out / "summary.csv").exists()


def test_a_run_too_big_is_refused_with_its_estimate(tmp_path, capsys):
    out = tmp_path / "out"
    # a trillion patients cannot fit in memory: refused even with --force
    rc = main(["compare", "--patients", str(10**12), "--out", str(out), "--force"])
    err = capsys.readouterr().err
    assert rc == 2 and "GB of memory" in err and "more than this machine's" in err, err
    # a long run that fits needs --force
    rc = main(["psa", "--draws", "100000", "--patients", "20000", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "add --force" in err and " h and " in err, err
    assert not out.exists()


def test_the_size_estimate_scales_with_the_run():
    from trdsim.runtime.runsize import estimate

    one = estimate(1000, 3, 260)
    assert estimate(2000, 3, 260).seconds == 2 * one.seconds
    assert estimate(1000, 3, 260, draws=10).seconds == 10 * one.seconds
    assert estimate(1000, 3, 260, table=True).bytes > one.bytes


def _psa_table(folder):
    import pandas as pd

    folder.mkdir()
    rows = [{"draw": d, "arm": a, "cost": c + d, "qaly": 1.0 + d / 100, "p": d / 10}
            for d in range(10) for a, c in (("a", 0.0), ("b", 100.0))]  # fmt: skip
    pd.DataFrame(rows).to_csv(folder / "t.csv", index=False)
    return str(folder / "t.csv")


COBALT = str(Path(__file__).parents[1] / "experiments" / "replications" / "cobalt.toml")
OUT_COMMANDS = [
    ["compare", "--patients", "10", "--force"],
    ["trial", COBALT, "--patients", "10"],
    ["psa", "--draws", "2", "--patients", "10"],
    ["dsa", "--patients", "10"],
    ["threshold", "--param", "unit_costs.uk.cbt_session", "--threshold", "30000"],
    ["validate", "--patients", "10"],
    ["calibrate", "--param", "treatments.ssri.remission_share"],
    ["care", "--set", "care_system.years=1"],
    ["sweep", "--grid", "care_system.years=1"],
    ["analyse", "TABLE", "--threshold", "20000"],
    ["evsi", "TABLE", "--param", "p", "--study", "normal", "--sd", "1", "--n", "10",
     "--threshold", "20000"],
]  # fmt: skip


@pytest.mark.parametrize("argv", OUT_COMMANDS, ids=[a[0] for a in OUT_COMMANDS])
@pytest.mark.parametrize("given", ["file", "empty"])
def test_an_out_that_is_a_file_or_empty_is_one_line_exit_2(tmp_path, monkeypatch, capsys,
                                                           argv, given):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    if "TABLE" in argv:
        argv = [_psa_table(tmp_path / "in") if a == "TABLE" else a for a in argv]
    f = tmp_path / "taken.txt"
    f.write_text("x")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    out = str(f) if given == "file" else ""
    assert main([*argv, "--out", out]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    said = f"--out {f}: is a file; give a folder" if given == "file" else "--out '': give a folder"
    assert err.startswith(f"trdsim: {said}"), err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before and f.read_text() == "x"


# ----- leftovers of issue 33: a list where a name is expected, odd keys, huge sizes -----


def _capacity_raw() -> dict:
    import tomllib

    from trdsim.scenario import bundled_scenarios

    raw = tomllib.loads((bundled_scenarios() / "capacity_whatif.toml").read_text())
    raw["scenario"]["base"] = str(bundled_scenarios() / "uk_nhs.toml")
    return raw


NAME_AS_LIST = [
    ("maintenance option", lambda r: r.setdefault("pathways", {}).update(
        {"sequential": {"maintenance": {"default": [["none"]]}}}),
     "pathways.sequential.maintenance.default[0]"),
    ("arm", lambda r: r["scenario"].update(arms=[["sequential"]]), "scenario.arms[0]"),
    ("dist", lambda r: r.setdefault("treatments", {}).setdefault("ssri", {}).update(
        {"response": {"value": 0.5, "dist": ["beta"], "a": 1.0, "b": 1.0}}),
     "treatments.ssri.response.dist"),
    ("care arm", lambda r: r["care_system"].update(arm=["integrated"]), "care_system.arm"),
    ("waiting_cost", lambda r: r["care_system"].update(waiting_cost=["x"]),
     "care_system.waiting_cost"),
    ("service treatment", lambda r: r["care_system"]["services"]["cbt"].update(
        treatments=[["cbt_augmentation"]]), "care_system.services.cbt.treatments[0]"),
    ("service unit_cost", lambda r: r["care_system"]["services"]["cbt"].update(
        unit_cost=["therapist_week"]), "care_system.services.cbt.unit_cost"),
]  # fmt: skip


@pytest.mark.parametrize("desc,edit,key", NAME_AS_LIST, ids=[c[0] for c in NAME_AS_LIST])
def test_a_list_where_a_name_is_expected_is_one_line(tmp_path, capsys, desc, edit, key):
    raw = _capacity_raw()
    edit(raw)
    bad = tmp_path / "bad.toml"
    _write(bad, raw)
    out = tmp_path / "out"
    assert main(["compare", str(bad), "--patients", "10", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert str(bad) in err and key in err and "[" in err, err
    assert not out.exists()


@pytest.mark.parametrize("key", ["²", "٣", "007"])
def test_failed_trial_keys_that_are_not_plain_digits_are_one_line(tmp_path, capsys, key):
    from trdsim.scenario import bundled_scenarios

    text = (bundled_scenarios() / "uk_nhs.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(
        text.replace("failed_trials = 2", f'failed_trials = {{ 2 = 0.5, "{key}" = 0.5 }}')
    )
    out = tmp_path / "out"
    assert main(["compare", str(bad), "--patients", "10", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert f"cohort.failed_trials.{key}" in err and "from 0 to 20" in err, err
    assert not out.exists()


@pytest.mark.parametrize("units", [1e20, 10**12])
def test_a_service_with_more_units_than_the_maximum_is_refused(tmp_path, capsys, units):
    from trdsim.scenario import MAX_UNITS

    raw = _capacity_raw()
    raw["care_system"]["services"]["cbt"]["units"] = units
    bad = tmp_path / "bad.toml"
    _write(bad, raw)
    out = tmp_path / "out"
    assert main(["care", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "care_system.services.cbt.units" in err and f"0 to {MAX_UNITS}" in err, err
    assert not out.exists()


@pytest.mark.parametrize(
    "content,says",
    [
        ("[[target]]\nid = 'caf\xe9'\n".encode("latin-1"), "is not UTF-8 text (byte 0xe9"),
        (b"\x00\x01\x02", "is a binary file"),
    ],
    ids=["latin-1", "binary"],
)
def test_a_targets_file_that_is_not_utf8_is_one_line(tmp_path, capsys, content, says):
    bad = tmp_path / "targets.toml"
    bad.write_bytes(content)
    out = tmp_path / "out"
    argv = ["validate", "--targets", str(bad), "--patients", "10", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert str(bad) in err and says in err, err
    assert not out.exists()


BIG_RUNS = [
    ["validate", "--patients", "100000000"],
    ["calibrate", "--param", "treatments.ssri.remission_share", "--patients", "20000",
     "--seeds", "10"],
    ["dsa", "--patients", "10000000"],
    ["dsa", "--patients", "1000", "--pair", "utilities.depressed", "unit_costs.uk.cbt_session",
     "--steps", "3000"],
    ["threshold", "--param", "unit_costs.uk.cbt_session", "--threshold", "30000",
     "--patients", "100000000"],
    ["care", "--set", "care_system.referrals_per_year=100000000", "--set",
     "care_system.years=50"],
    ["sweep", "--grid", "care_system.referrals_per_year=1000,100000000", "--grid",
     "care_system.years=50"],
]  # fmt: skip


@pytest.mark.parametrize("argv", BIG_RUNS, ids=[" ".join(a[:1] + a[-2:-1]) for a in BIG_RUNS])
def test_every_command_that_simulates_refuses_a_run_too_long(tmp_path, monkeypatch, capsys,
                                                             argv):  # fmt: skip
    from trdsim.runtime import runsize

    # the time limit, whatever this machine's memory (a run that cannot fit says so instead)
    monkeypatch.setattr(runsize, "physical_memory", lambda: 1e18)
    out = tmp_path / "out"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "add --force" in err and "patient-weeks" in err, err
    assert not out.exists()


@pytest.mark.parametrize("command", ["validate", "calibrate", "dsa", "threshold", "care", "sweep"])
def test_every_command_that_simulates_takes_force(command):
    from trdsim.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    assert "--force" in sub._option_string_actions


@pytest.mark.parametrize("command", ["analyse", "evsi"])
@pytest.mark.parametrize("kind", ["csv", "parquet", "long header"])
def test_a_table_with_too_many_columns_is_refused_before_reading(tmp_path, capsys, command,
                                                                 kind):  # fmt: skip
    import pandas as pd

    from trdsim.cli import MAX_TABLE_COLUMNS

    path = tmp_path / ("t.parquet" if kind == "parquet" else "t.csv")
    if kind == "csv":
        header = ",".join(["draw", "arm", "cost", "qaly", *(f"p{i}" for i in range(200_000))])
        path.write_text(header + "\n" + ",".join(["0", "a", "1", "1", *["0"] * 200_000]) + "\n")
    elif kind == "parquet":
        n = MAX_TABLE_COLUMNS + 1
        pd.DataFrame([[0.0] * n], columns=[f"p{i}" for i in range(n)]).to_parquet(path)
    else:
        path.write_bytes(b"draw,arm,cost,qaly," + b"p" * (5 * 2**20) + b"\n")
    argv = [command, str(path), "--threshold", "20000"]
    if command == "evsi":
        argv += ["--param", "p1", "--study", "normal", "--sd", "1", "--n", "10"]
    out = tmp_path / "out"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert str(path) in err and f"at most {MAX_TABLE_COLUMNS:,} columns" in err, err
    assert not out.exists()
