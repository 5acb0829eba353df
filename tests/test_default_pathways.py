"""The default pathways per setting (issue 12, items 1-3): what each guideline or document
says they hold, a citation for every step, and the personalised arm in the care system."""

import numpy as np
import pytest

import trdsim
from trdsim import scenario as scenario_module
from trdsim.care_system import CareSystemModel
from trdsim.cli import main
from trdsim.pathways import rule_moderation

SCENARIOS = ("uk_nhs", "us_payer")


@pytest.fixture(scope="module", params=SCENARIOS)
def sc(request):
    return trdsim.load_scenario(request.param)


def _treatments(p: dict) -> set[str]:
    return {t for st in p["steps"] for t in st}


def test_three_default_arms_in_every_setting(sc):
    assert sc.arms == ["sequential", "integrated", "personalised"]


def test_integrated_combines_cbt_with_each_modality_from_the_first_trd_step(sc):
    p = sc.pathways["integrated"]
    entry = sc.failed_trials  # the cohort enters after its failed trials
    later = p["steps"][entry:]
    # the pharmacological step, ketamine and rTMS each with CBT, not after it fails
    for partner in ("antipsychotic_augmentation", "iv_ketamine", "rtms"):
        assert any({partner, "cbt_augmentation"} <= set(st) for st in later), partner
    assert "cbt_augmentation" in later[0]
    # planned maintenance includes psychotherapy after each combined step
    for st in later:
        if "cbt_augmentation" in st:
            assert "maintenance_cbt" in p["maintenance"]["+".join(st)]
    assert p["on_relapse"] == "retreat"
    # the same integrated pathway in every setting
    other = trdsim.load_scenario("us_payer" if sc.setting == "uk" else "uk_nhs")
    assert other.pathways["integrated"]["steps"] == p["steps"]


def test_sequential_follows_its_setting(sc):
    p = sc.pathways["sequential"]
    steps = p["steps"]
    drugs = [i for i, st in enumerate(steps) if st[0] != "cbt_augmentation"]
    cbt = [i for i, st in enumerate(steps) if "cbt_augmentation" in st]
    assert len(cbt) == 1 and all(len(st) == 1 for st in steps)  # one at a time
    assert steps[-1] == ["ect"]
    # psychotherapy late: after every pharmacological step
    pharmacological = [i for i in drugs if sc.params["treatments"][steps[i][0]]["monoaminergic"]]
    assert cbt[0] > max(pharmacological)
    if sc.setting == "uk":  # NICE NG222: lithium and an antipsychotic; no esketamine (TA854)
        assert {"lithium_augmentation", "antipsychotic_augmentation"} <= _treatments(p)
        assert "esketamine" not in _treatments(p)
    else:  # US: esketamine with its labelled maintenance
        assert "esketamine" in _treatments(p)
        assert "esketamine_maintenance" in p["maintenance"]["esketamine"]


def test_every_default_step_rule_and_policy_has_a_citation(sc):
    for name, p in sc.pathways.items():
        cites = p["citations"]
        wanted = {f"step{i + 1}" for i in range(len(p["steps"]))}
        wanted |= {f"maintenance.{k}" for k in p["maintenance"]}
        wanted |= {"on_relapse", "on_exhausted"}
        wanted |= {f"rule{j + 1}" for j in range(len(p.get("rules", [])))}
        assert wanted <= set(cites), (name, wanted - set(cites))
        assert all(len(v) > 20 for v in cites.values()), name


def test_personalised_rules_report_what_the_evidence_says(sc):
    p = sc.pathways["personalised"]
    said = {r["when"]: rule_moderation(r, p["steps"], sc.params) for r in p["rules"]}
    # raised CRP: the library's moderator is neutral (1.0), so nothing is invented
    assert said["inflammation == 1"].startswith("No sourced moderator")
    # severity moves ECT earlier; the sourced severity moderator acts on psychotherapy
    assert "psychotherapy treatments only" in said["severity >= 26"]
    assert said["maltreatment == 1"].startswith("No sourced moderator")
    # a scenario that sets a CRP moderator is reported as such
    crp = sc.with_value("effects.response_or_inflammation_monoaminergic", 0.5)
    rule = next(r for r in p["rules"] if r["attribute"] == "inflammation")
    assert rule_moderation(rule, p["steps"], crp.params).startswith("Sourced moderator")


def test_a_scenario_that_changes_a_pathway_drops_its_stale_citations_and_maintenance(uk):
    changed = trdsim.scenario.from_dict(
        uk.raw
        | {
            "pathways": {
                "sequential": {"steps": ["ssri", "antidepressant_switch", "lithium_augmentation"]}
            }
        },
        "changed.toml",
    )
    p = changed.pathways["sequential"]
    assert "citations" not in p
    assert set(p["maintenance"]) == {"default", "lithium_augmentation"}
    # untouched pathways keep theirs
    assert changed.pathways["integrated"]["citations"] == uk.pathways["integrated"]["citations"]


def test_a_guideline_step_naming_an_unknown_treatment_is_refused(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "default_pathways"
    folder.mkdir()
    real = scenario_module.default_pathway_files("uk")
    for f in real:
        (folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    bad = folder / "uk.toml"
    text = bad.read_text(encoding="utf-8")
    assert '"lithium_augmentation", "cbt_augmentation"' in text
    bad.write_text(text.replace('"lithium_augmentation", "cbt', '"lithium_augmentaton", "cbt', 1))
    monkeypatch.setattr(
        scenario_module, "default_pathway_files", lambda s: [folder / "common.toml", bad]
    )
    out = tmp_path / "out"
    assert main(["compare", "--patients", "10", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(bad) in err[0] and "pathways.sequential.steps[3]" in err[0]
    assert "'lithium_augmentaton'" in err[0] and "lithium_augmentation" in err[0]
    assert not out.exists()


def test_personalised_arm_in_the_care_system_waits_only_where_its_rules_need_cbt():
    """With no CBT place, patients whose rule gives them CBT at step 3 wait there;
    everyone else passes step 3 (augmentation without CBT) as sequential care would."""
    m = CareSystemModel(
        "capacity_whatif", cohort_size=3000, care_system__years=2,
        care_system__arm="personalised", care_system__services__cbt__units=0,
    )  # fmt: skip
    m.run_model()
    c = m.run.cohort
    cbt_rule = (c.inflammation == 1) | (c.maltreatment == 1)
    entry = m.scenario.failed_trials  # step 3, index 2
    assert (m.run.max_step[cbt_rule] <= entry).all()
    assert (m.run.max_step[~cbt_rule] > entry).mean() > 0.2
    # and with unlimited places it is the simulated personalised arm, bit for bit
    free = CareSystemModel(
        "capacity_whatif", cohort_size=2000, care_system__years=2,
        care_system__arm="personalised", care_system__services__cbt__units=10**6,
        care_system__services__rtms__units=10**6, care_system__services__ketamine__units=10**6,
    )  # fmt: skip
    free.run_model()
    sim = free.scenario.with_values({"scenario.arms": ["personalised"]})
    ref = trdsim.simulate(sim, patients=2000, seed=free.seed_value).patients
    assert np.array_equal(ref.cost.to_numpy(), free.run.cost)
    assert np.array_equal(ref.qaly.to_numpy(), free.run.qaly)
