"""`trdsim psa | analyse | dsa | threshold` end to end, and their bad input."""

import json

import numpy as np
import pandas as pd
import pytest

from trdsim.cli import main


def test_psa_writes_tables_figures_and_a_summary(tmp_path, capsys):
    out = tmp_path / "psa"
    code = main(
        ["psa", "--draws", "30", "--patients", "100", "--out", str(out), "--seed", "2",
         "--population", "5000", "--years", "5",
         "--group", "cbt=treatments.cbt_augmentation.response_effect,unit_costs.cbt_session"]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "EVPI at £20,000/QALY" in printed and "WARNING" in printed  # N = 100 is too few
    for name in ("draws.parquet", "psa_summary.csv", "psa_summary.json", "frontier.csv",
                 "ceac.csv", "evpi.csv", "evppi.csv", "ce_plane.png", "ceac.png", "evpi.png",
                 "evppi_20000.png", "manifest.json"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    assert not (out / "chunks").exists()
    draws = pd.read_parquet(out / "draws.parquet")
    assert len(draws) == 90 and {"draw", "arm", "cost", "qaly"} <= set(draws.columns)
    evppi = pd.read_csv(out / "evppi.csv")
    assert list(evppi.group.unique()) == ["cbt"]
    info = json.loads((out / "psa_summary.json").read_text())
    assert info["evpi_population"]["20000"] == pytest.approx(
        info["evpi_per_person"]["20000"] * 5000 * sum(1.035**-t for t in range(5))
    )


def test_analyse_accepts_a_table_from_another_model(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = []
    for d in range(300):
        p = rng.normal()
        rows.append({"draw": d, "arm": "usual care", "cost": 1000.0, "qaly": 1.0, "p": p})
        rows.append({"draw": d, "arm": "new", "cost": 3000.0, "qaly": 1.1 + 0.05 * p, "p": p})
    table = tmp_path / "other_model.csv"
    pd.DataFrame(rows).to_csv(table, index=False)
    out = tmp_path / "analysis"
    code = main(["analyse", str(table), "--thresholds", "10000,20000,30000", "--out", str(out),
                 "--currency", "EUR"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    ceac = pd.read_csv(out / "ceac.csv")
    assert np.allclose(ceac.groupby("threshold").p_cost_effective.sum(), 1.0)
    evppi = pd.read_csv(out / "evppi.csv")
    # the only parameter: its EVPPI is the EVPI (up to the regression's fit)
    assert np.allclose(evppi.evppi, evppi.evpi, rtol=1e-3)


def test_dsa_and_threshold_commands(tmp_path, capsys):
    out = tmp_path / "dsa"
    assert main(["dsa", "--patients", "200", "--out", str(out),
                 "--param", "unit_costs.cbt_session", "--param", "utilities.depressed"]) == 0  # fmt: skip
    t = pd.read_csv(out / "tornado.csv")
    assert set(t.key) == {"unit_costs.cbt_session", "utilities.depressed"}
    assert (out / "tornado.png").stat().st_size > 0
    assert main(["dsa", "--patients", "100", "--out", str(out), "--steps", "2",
                 "--pair", "unit_costs.cbt_session", "utilities.depressed"]) == 0  # fmt: skip
    assert len(list(out.glob("twoway_*.png"))) == 1
    res = tmp_path / "t.json"
    assert main(["threshold", "--param", "unit_costs.uk.cbt_session", "--target", "30000",
                 "--arm", "integrated", "--versus", "sequential", "--patients", "300",
                 "--high", "5000", "--out", str(res)]) == 0  # fmt: skip
    assert json.loads(res.read_text())["icer"] == pytest.approx(30000, rel=1e-6)


BAD = [
    (["psa", "--draws", "0"], "must be at least 1"),
    (["psa", "--patients", "0"], "must be at least 1"),
    (["psa", "--draws", "2", "--group", "g=treatments.nope.response_effect"], "unknown parameter"),
    (["psa", "--draws", "2", "--group", "g=cohort.age_mean"], "no distribution"),
    (["psa", "--draws", "2", "--scheduler", "tcp://127.0.0.1:9"], "cannot connect"),
    (["dsa", "--param", "treatments.ssri.respons"], "did you mean"),
    (["dsa", "--arm", "nope"], "not an arm"),
    (["threshold", "--param", "unit_costs.nope", "--target", "30000"], "unknown parameter"),
]


@pytest.mark.parametrize("argv, message", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_input_one_message_exit_2_nothing_written(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) if "0" in argv else _no_raise() as caught:
        code = main([*argv, "--out", str(out)])
    code = caught.value.code if caught else code
    err = capsys.readouterr().err.strip()
    assert code == 2
    last = err.splitlines()[-1]  # argparse prints its usage lines first
    assert last.startswith("trdsim") and message in last, err
    assert "Traceback" not in err
    assert not out.exists()


def test_analyse_refuses_thresholds_that_do_not_increase(tmp_path, capsys):
    table = tmp_path / "t.csv"
    pd.DataFrame(
        [(0, "a", 1.0, 1.0), (0, "b", 2.0, 1.1)], columns=["draw", "arm", "cost", "qaly"]
    ).to_csv(table, index=False)
    assert main(["analyse", str(table), "--thresholds", "30000,20000"]) == 2
    assert "strictly increasing" in capsys.readouterr().err
    assert main(["analyse", str(tmp_path / "missing.csv"), "--thresholds", "1"]) == 2


class _no_raise:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
