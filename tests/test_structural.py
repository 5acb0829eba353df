"""Structural uncertainty (`trdsim structural`): each variant is the scenario written by
hand with that change, on the same patients (common random numbers)."""

import json
from pathlib import Path

import pandas as pd
import pytest

import trdsim
from trdsim.analysis.structural import StructuralResult, load_variants, structural
from trdsim.cli import main
from trdsim.economics import STATUSES
from trdsim.errors import TrdsimError

N = 400


@pytest.fixture(scope="module")
def uk_structural(uk):
    return structural(uk, patients=N)


def _per_arm(r, variant):
    t = r.arms_table
    return t[t.variant == variant].set_index(t[t.variant == variant].arm.astype(str))


def test_every_declared_variant_is_the_scenario_written_by_hand(uk, uk_structural):
    """Bit for bit: same seed and patients, so each variant's per-arm costs and QALYs are
    those of `trdsim.compare` on the scenario with the variant's values."""
    declared = {v.name: v for v in load_variants()}
    for name in uk_structural.variants:
        by_hand = trdsim.compare(uk.with_values(declared[name].values), patients=N)
        want = by_hand.per_arm.set_index(by_hand.per_arm.arm.astype(str))
        got = _per_arm(uk_structural, name)
        assert list(got.index) == list(want.index), name
        for col in ("cost", "qaly", "cost_se", "qaly_se"):
            assert got[col].tolist() == want[col].tolist(), (name, col)
        assert got.inc_cost.tolist() == want.cost_diff.tolist(), name
        assert got.inc_qaly_se.tolist() == want.qaly_diff_se.tolist(), name


def test_a_variant_identical_to_the_default_gives_the_default(uk, uk_structural):
    base = trdsim.compare(uk, patients=N)
    got = _per_arm(uk_structural, "base")
    assert got.cost.tolist() == base.per_arm.cost.tolist()
    assert got.qaly.tolist() == base.per_arm.qaly.tolist()


def test_changes_move_the_numbers_and_added_arms_appear(uk_structural):
    t = uk_structural.arms_table
    base = _per_arm(uk_structural, "base")
    h2 = _per_arm(uk_structural, "horizon_2y")
    assert (h2.qaly < base.qaly).all()
    ng = _per_arm(uk_structural, "sequential_ng222_as_written")
    assert "sequential_ng222" in ng.index
    assert set(t.status.dropna()) <= set(STATUSES)
    d = uk_structural.decisions
    # one optimal arm per variant x threshold
    assert (d.groupby(["variant", "threshold"]).optimal.sum() == 1).all()


def test_the_variants_of_a_setting_only(uk, uk_structural):
    us = trdsim.load_scenario("us_payer")
    names_uk = set(uk_structural.variants)
    assert "discount_1_5" in names_uk and "discount_0" not in names_uk
    r = structural(us, variants=["base", "discount_0"], patients=50)
    assert r.variants == ["base", "discount_0"]


def _write_variants(variants: dict, folder: Path) -> Path:
    lines = []
    for name, v in variants.items():
        lines.append(f"[variants.{name}]")
        v = {"label": name, "description": "test", "source": "test"} | v
        for k, x in v.items():
            lines.append(f"{k} = {_toml(x)}")
    p = folder / "variants.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


def _toml(x) -> str:
    if isinstance(x, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in x.items()) + " }"
    if isinstance(x, list):
        return "[" + ", ".join(_toml(v) for v in x) + "]"
    return json.dumps(x)


def test_a_hand_written_no_op_variant_is_the_default(uk, tmp_path):
    f = _write_variants({"base": {}, "same": {"set": {
        "maintenance.continuation_ad.relapse_hr": 0.376}}}, tmp_path)  # fmt: skip
    r = structural(uk, file=f, patients=N)
    a, b = _per_arm(r, "base"), _per_arm(r, "same")
    assert a.cost.tolist() == b.cost.tolist() and a.qaly.tolist() == b.qaly.tolist()


@pytest.mark.parametrize(
    "variants, message",
    [
        ({"a": {"weight": 0.5}, "b": {"weight": 0.4}}, "sum to 0.9"),
        ({"a": {"weight": 0.5}, "b": {}}, "has none"),
        ({"a": {"set": {"maintenance.continuation_ad.relapse_hx": 1.0}}}, "variant a"),
        ({"a": {"set": {"nonsense.key": 1.0}}}, "variant a"),
        ({"a": {"arms": ["sequential", "no_such_arm"]}}, "variant a"),
        ({"a": {"sets": {}}}, "unknown field"),
        ({"a": {"label": ""}}, "missing"),
    ],
)
def test_a_bad_file_is_one_error_before_any_run(uk, tmp_path, variants, message, capsys):
    # a good variant first: nothing of it may run or be written
    f = _write_variants({"good": {"weight": 0.0}} | variants if "weight" in json.dumps(variants)
                        else {"good": {}} | variants, tmp_path)  # fmt: skip
    with pytest.raises(TrdsimError, match=message):
        structural(uk, file=f, patients=20)
    out = tmp_path / "out"
    assert main(["structural", "--file", str(f), "--patients", "20", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message.split()[0] in err[0]
    assert not out.exists()


def test_unknown_variant_name_and_weights_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["structural", "--variants", "base,nope", "--out", str(out)]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["structural", "--variants", "base,horizon_2y", "--weight", "base=0.5",
                 "--weight", "horizon_2y=0.6", "--out", str(out)]) == 2  # fmt: skip
    assert "sum to 1.1" in capsys.readouterr().err
    assert not out.exists()


def test_weights_give_a_model_averaged_decision(uk, tmp_path):
    r = structural(uk, variants=["base", "horizon_2y"], patients=N,
                   weights={"base": 0.25, "horizon_2y": 0.75})  # fmt: skip
    av = r.averaged
    d = r.decisions
    for row in av.itertuples():
        nmb = [d[(d.variant == v) & (d.threshold == row.threshold) & (d.arm == row.arm)].nmb.iloc[0]
               for v in ("base", "horizon_2y")]  # fmt: skip
        assert row.nmb == pytest.approx(0.25 * nmb[0] + 0.75 * nmb[1], rel=1e-12)
    assert (av.groupby("threshold").optimal.sum() == 1).all()
    assert "model-averaged" in r.summary()
    r.write(tmp_path / "w", figures=False)
    assert StructuralResult.read(tmp_path / "w") == r


def test_read_write_round_trip(uk_structural, tmp_path):
    written = uk_structural.write(tmp_path / "s")
    assert (tmp_path / "s" / "structural.png") in written
    back = StructuralResult.read(tmp_path / "s")
    assert back == uk_structural
    assert trdsim.read(tmp_path / "s") == uk_structural
    assert isinstance(uk_structural.table, pd.DataFrame)


def test_command_fits_100_columns_and_json(tmp_path, capsys):
    out = tmp_path / "uk_nhs" / "structural"
    assert main(["structural", "--patients", "200", "--out", str(out), "--no-figures"]) == 0
    printed = capsys.readouterr().out
    assert "structural variants" in printed and "Base case" in printed
    assert max(map(len, printed.splitlines())) <= 100
    assert main(["structural", "--patients", "200", "--out", str(out), "--no-figures",
                 "--json"]) == 0  # fmt: skip
    s = json.loads(capsys.readouterr().out)
    assert s["command"] == "structural" and s["patients"] == 200
    assert {r["variant"] for r in s["optimal"]} >= {"base", "horizon_2y"}


def test_report_shows_the_structural_subfolder(tmp_path, capsys):
    from trdsim.report import write_report

    out = tmp_path / "uk_nhs"
    assert main(["compare", "--patients", "300", "--force", "--out", str(out), "--no-figures"]) == 0
    assert main(["structural", "--patients", "300", "--out", str(out / "structural"),
                 "--variants", "base,horizon_2y,integrated_no_rtms"]) == 0  # fmt: skip
    r = write_report(out)
    html = r.html.read_text()
    assert "Structural uncertainty" in html and "Horizon 2 years" in html
