"""Issue 29: relapse figures with their own population, maintenance as a pathway's
policy, the enduring effect of a completed course, and their bad inputs."""

import dataclasses
import re

import numpy as np
import pytest
from helpers import default_raw, scenario_with
from test_bad_input import _write

from trdsim.cli import main
from trdsim.engine import layout as L
from trdsim.engine.kernel import relapse_table
from trdsim.inputs.arrays import compile_inputs
from trdsim.inputs.cohort import sample_cohort
from trdsim.inputs.effective import step_relapse
from trdsim.simulation.arm import ArmRun

# every patient modifier of relapse neutral but the failed-trial gradient
NEUTRAL = dict.fromkeys(
    (
        "relapse_hr_residual_symptoms",
        "relapse_hr_maltreatment",
        "relapse_hr_per_sd_flexibility",
        "relapse_hr_sudden_gain",
    ),
    1.0,
)


def _one_step(uk, steps, follow=None, durations=None, **over):
    pathway = {"steps": steps, "start": "first", "maintenance": follow or {"default": ["none"]}}
    if durations is not None:
        pathway["maintenance_duration"] = durations
    return scenario_with(
        pathways={"only": pathway},
        scenario={**uk.raw["scenario"], "arms": ["only"]},
        **over,
    )


def _curve(x, sc, arm="only", step=0):
    """The step's follow-up row of cumulative relapse hazard (remitters, partial)."""
    p = x.pathways[arm]
    tab = relapse_table(p.maint_hr, x.cum_h, sc.horizon_weeks)
    return tab[int(p.maint_row[step])]


def test_relapse_measured_at_zero_failures_rises_by_the_gradient_after(uk):
    """A relapse figure measured at 0 failed trials gives the published figure at 0 and
    1 - (1 - p)^(g^nf) at nf failed trials (closed form, neutral modifiers), whatever
    the acute effect's own population."""
    g, p = 1.34, 0.40
    sc = _one_step(
        uk,
        ["antidepressant_switch"],
        {"default": ["continuation_ad"]},
        {"continuation_ad": "horizon"},
        effects={**NEUTRAL, "relapse_hr_per_prior_failure": g},
        treatments={
            "antidepressant_switch": {
                "relapse_p1": p,
                "relapse_prior_failures": 0,
                "source_prior_failures": 1,
            }
        },
    )
    x = compile_inputs(sc)
    for nf in (0, 1, 2, 3):
        got = step_relapse(
            x,
            sc,
            "only",
            0,
            nf,
            relapse_table(x.pathways["only"].maint_hr, x.cum_h, sc.horizon_weeks),
        )["relapse_12m_remitters"]
        assert abs(got - (1.0 - (1.0 - p) ** (g**nf))) < 1e-9, (nf, got)


def test_discontinuation_contrast_on_a_naturalistic_baseline_keeps_its_ratio(uk):
    """Continued vs stopped: the relapse hazard with continuation_ad is its HR times the
    hazard without, every week (the contrast applied as such)."""
    on = compile_inputs(_one_step(uk, ["ssri"], {"default": ["continuation_ad"]},
                                  {"continuation_ad": "horizon"}))  # fmt: skip
    off = compile_inputs(_one_step(uk, ["ssri"]))
    hr = on.mx[on.maintenance.index("continuation_ad"), L.MX_HR]
    a, b = _curve(on, uk), _curve(off, uk)
    np.testing.assert_allclose(a[:, 1:], hr * b[:, 1:], rtol=1e-12)


def test_maintenance_until_the_horizon_equals_a_duration_beyond_it(uk):
    horizon = _one_step(uk, ["ssri"], {"default": ["continuation_ad"]},
                        {"continuation_ad": "horizon"})  # fmt: skip
    long = _one_step(
        uk,
        ["ssri"],
        {"default": ["continuation_ad"]},
        maintenance={"continuation_ad": {"duration_weeks": uk.horizon_weeks + 100}},
    )
    a, b = compile_inputs(horizon), compile_inputs(long)
    for f in ("maint_hr", "maint_cost", "maint_last"):
        np.testing.assert_array_equal(
            getattr(a.pathways["only"], f), getattr(b.pathways["only"], f)
        )


def test_maintenance_duration_policy_stops_the_option(uk):
    sc = _one_step(uk, ["ssri"], {"default": ["continuation_ad"]}, {"continuation_ad": 26})
    p = compile_inputs(sc).pathways["only"]
    row = int(p.maint_row[0])
    assert p.maint_last[row, 0] == 26
    assert (p.maint_hr[row, 27:, 0] == 1.0).all() and (p.maint_hr[row, :27, 0] < 1.0).all()


def _arm_results(sc, arm="only", n=3000, seed=5):
    x = compile_inputs(sc)
    run = ArmRun(sample_cohort(sc, n, seed), x.pathways[arm], x, seed)
    run.advance(0, sc.horizon_weeks)
    return run


def test_enduring_hr_of_one_is_todays_relapse_bit_for_bit(uk):
    """A completed CBT course with enduring HR 1 relapses exactly as one without the
    field (the previous model): same arrays' curves, same simulated patients."""
    with_one = _one_step(uk, ["cbt_augmentation"], treatments={
        "cbt_augmentation": {"enduring_relapse_hr": 1.0}})  # fmt: skip
    raw = default_raw()
    cbt = dict(raw.get("treatments", {}).get("cbt_augmentation", {}))
    assert "enduring_relapse_hr" not in cbt
    x1 = compile_inputs(with_one)
    # the same scenario compiled as before issue 29: no treatment has an enduring effect
    par = {**with_one.params, "treatments": {
        k: {f: v for f, v in t.items() if f != "enduring_relapse_hr"}
        for k, t in with_one.params["treatments"].items()}}  # fmt: skip
    without = dataclasses.replace(with_one, params=par)
    x0 = compile_inputs(without)
    np.testing.assert_array_equal(_curve(x1, with_one), _curve(x0, without))
    r1, r0 = _arm_results(with_one), _arm_results(without)
    for f in ("cost", "qaly", "first_relapse", "relapses"):
        np.testing.assert_array_equal(getattr(r1, f), getattr(r0, f))


def test_enduring_effect_lowers_relapse_and_wanes_with_its_half_life(uk):
    hr, half = 0.6, 52.0
    sc = _one_step(uk, ["cbt_augmentation"], treatments={"cbt_augmentation": {
        "enduring_relapse_hr": hr, "enduring_half_life_weeks": half}})  # fmt: skip
    p = compile_inputs(sc).pathways["only"]
    row = int(p.maint_row[0])
    weeks = np.arange(sc.horizon_weeks + 1)
    np.testing.assert_allclose(p.maint_hr[row, :, 0], hr ** (0.5 ** (weeks / half)), rtol=1e-12)
    # the natural-history row (usual care) carries no enduring effect
    assert (p.maint_hr[int(p.maint_row[1])] == 1.0).all()


# --- bad input: one line naming file, key, value and what is allowed; exit 2 ---------


def _refused(tmp_path, capsys, edit, key, value, allowed):
    raw = default_raw()
    edit(raw)
    f = tmp_path / "bad.toml"
    _write(f, raw)
    out = tmp_path / "out"
    code = main(["compare", str(f), "--patients", "100", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert "bad.toml" in err[0] and key in err[0] and value in err[0], err[0]
    assert re.search(allowed, err[0]), err[0]
    assert not out.exists()


def _treatment(raw, name, **fields):
    raw.setdefault("treatments", {}).setdefault(name, {}).update(fields)


NEW = {  # a new treatment, complete but for what a case leaves out
    "label": "New",
    "monoaminergic": False,
    "psychotherapy": True,
    "counts_as_trial": True,
    "resource": "cbt_session",
    "effect": "absolute",
    "outcome": "madrs_response",
    "response": 0.3,
    "remission_share": 0.6,
    "trial_weeks": 12,
    "onset_first_week": 1,
    "onset_last_week": 12,
    "dropout": 0.05,
    "relapse_t1": 52,
    "relapse_p1": 0.4,
    "relapse_reference": "none",
    "source_prior_failures": 2,
    "relapse_prior_failures": 2,
    "relapse_entry": "response",
    "relapse_design": "naturalistic",
    "relapse_setting": "routine care",
    "sessions": 12,
    "disutility": 0.0,
}


@pytest.mark.parametrize(
    ("edit", "key", "value", "allowed"),
    [
        (
            lambda r: r.setdefault("treatments", {}).update(
                {"newtx": {k: v for k, v in NEW.items() if k != "relapse_prior_failures"}}
            ),
            "treatments.newtx.relapse_prior_failures",
            "(missing)",
            "required",
        ),
        (
            lambda r: r.setdefault("treatments", {}).update(
                {"newtx": {k: v for k, v in NEW.items() if k != "relapse_entry"}}
            ),
            "treatments.newtx.relapse_entry",
            "(missing)",
            "required",
        ),
        (
            lambda r: _treatment(r, "ssri", relapse_design="anecdote"),
            "treatments.ssri.relapse_design",
            "'anecdote'",
            "naturalistic",
        ),
        (
            lambda r: _treatment(r, "cbt_augmentation", enduring_relapse_hr=0.0),
            "treatments.cbt_augmentation.enduring_relapse_hr",
            "0.0",
            "greater than 0",
        ),
        (
            lambda r: _treatment(r, "cbt_augmentation", enduring_relapse_hr=-0.5),
            "treatments.cbt_augmentation.enduring_relapse_hr",
            "-0.5",
            "greater than 0",
        ),
        (
            lambda r: r.setdefault("pathways", {}).update(
                {"sequential": {"maintenance_duration": {"continuation_ad": -4}}}
            ),
            "pathways.sequential.maintenance_duration.continuation_ad",
            "-4",
            "horizon",
        ),
        (
            lambda r: r.setdefault("pathways", {}).update(
                {"sequential": {"maintenance_duration": {"continuation_ad": "forever"}}}
            ),
            "pathways.sequential.maintenance_duration.continuation_ad",
            "'forever'",
            "number of weeks",
        ),
    ],
    ids=[
        "relapse without population",
        "relapse without entry state",
        "unknown relapse design",
        "enduring HR zero",
        "enduring HR negative",
        "negative maintenance duration",
        "maintenance duration not a number",
    ],
)
def test_bad_durable_input_is_refused(tmp_path, capsys, edit, key, value, allowed):
    _refused(tmp_path, capsys, edit, key, value, allowed)


def test_a_treatment_with_its_own_curve_shape_passes_through_both_its_points(uk):
    """rTMS alone (relapse_shape 0.46 from Senova's 13- and 52-week points): with neutral
    modifiers its responders relapse 33.5 % by 13 weeks and 53.7 % by 52 (the baseline's
    shape alone would give only the last)."""
    sc = _one_step(
        uk,
        ["rtms"],
        effects={**NEUTRAL, "relapse_hr_per_prior_failure": 1.0},
        treatments={"rtms": {"relapse_shape": 0.4580448}},
    )
    x = compile_inputs(sc)
    hr = x.tx[x.treatments.index("rtms"), L.TX_RELAPSE_HR]
    curve = _curve(x, sc)[0]
    for week, p in ((13, 0.335), (52, 0.537)):
        assert abs(1.0 - np.exp(-hr * curve[week]) - p) < 2e-4, (week, p)
    # a combination step keeps the baseline's shape: its row multiplier is constant
    # (CBT's enduring effect, which does not wane)
    both = compile_inputs(_one_step(uk, [["rtms", "cbt_augmentation"]]))
    p = both.pathways["only"]
    assert np.ptp(p.maint_hr[int(p.maint_row[0])]) == 0.0
