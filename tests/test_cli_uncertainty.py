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
         "--group", "cbt=treatments.cbt_augmentation.response_effect,unit_costs.uk.cbt_session"]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "EVPI at £20,000/QALY" in printed and "WARNING" in printed  # N = 100 is too few
    assert "EVPPI by gp regression" in printed
    for name in ("draws.parquet", "psa_summary.csv", "psa_summary.json", "frontier.csv",
                 "ceac.csv", "evpi.csv", "evppi.csv", "ce_plane.png", "ceac.png", "evpi.png",
                 "evppi_20000.png", "evppi_curve.csv", "evppi_curve.png",
                 "manifest.json"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    assert not (out / "chunks").exists()
    draws = pd.read_parquet(out / "draws.parquet")
    assert len(draws) == 90 and {"draw", "arm", "cost", "qaly"} <= set(draws.columns)
    evppi = pd.read_csv(out / "evppi.csv")
    assert list(evppi.group.unique()) == ["cbt"]
    assert list(evppi.method) == ["gp", "gp"]  # 30 draws: the exact GP
    assert np.allclose(
        evppi.population_evppi, evppi.evppi * 5000 * sum(1.035**-t for t in range(5))
    )
    curve = pd.read_csv(out / "evppi_curve.csv")
    assert {"group", "threshold", "evppi", "se", "evpi", "population_evppi"} <= set(curve.columns)
    assert len(curve) == len(pd.read_csv(out / "evpi.csv"))  # the CEAC/EVPI grid
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
    code = main(["analyse", str(table), "--threshold", "10000,20000,30000", "--out", str(out),
                 "--currency", "EUR"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    ceac = pd.read_csv(out / "ceac.csv")
    assert np.allclose(ceac.groupby("threshold").p_cost_effective.sum(), 1.0)
    evppi = pd.read_csv(out / "evppi.csv")
    # the only parameter: its EVPPI is the EVPI (up to the regression's fit)
    assert np.allclose(evppi.evppi, evppi.evpi, rtol=1e-3)
    assert set(evppi.method) == {"gam"}  # 300 draws
    assert main(["analyse", str(table), "--threshold", "20000", "--out", str(out),
                 "--evppi-method", "gp", "--no-figures"]) == 0  # fmt: skip
    assert set(pd.read_csv(out / "evppi.csv").method) == {"gp"}


def test_evsi_command_writes_evsi_and_enbs_with_the_optimum(tmp_path, capsys):
    rng = np.random.default_rng(1)
    rows = []
    for d in range(400):
        u = rng.normal(0.6, 0.05)  # a utility, known to within a normal SD
        rows.append({"draw": d, "arm": "old", "cost": 0.0, "qaly": 0.0, "u": u})
        rows.append(
            {"draw": d, "arm": "new", "cost": 1000.0, "qaly": 10 * (u - 0.6) + 0.05, "u": u}
        )
    table = tmp_path / "t.csv"
    pd.DataFrame(rows).to_csv(table, index=False)
    out = tmp_path / "evsi"
    code = main(["evsi", str(table), "--param", "u", "--study", "normal", "--sd", "0.2",
                 "--n", "10,50,200", "--threshold", "20000", "--per-patient-cost", "100",
                 "--fixed-cost", "5000", "--population", "1000", "--years", "5",
                 "--discount", "0.035", "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0 and "optimum at" in printed
    r = pd.read_csv(out / "evsi.csv")
    assert list(r.n) == [10, 50, 200] and (r.evsi <= r.evppi).all()
    assert np.allclose(r.study_cost, 5000 + 100 * r.n)
    info = json.loads((out / "evsi.json").read_text())
    assert info["optimal_n"]["20000"] in (0, 10, 50, 200)
    assert (out / "evsi_20000.png").stat().st_size > 0


def test_dsa_and_threshold_commands(tmp_path, capsys):
    out = tmp_path / "dsa"
    assert main(["dsa", "--patients", "200", "--out", str(out),
                 "--param", "unit_costs.uk.cbt_session", "--param", "utilities.depressed"]) == 0  # fmt: skip
    t = pd.read_csv(out / "tornado.csv")
    assert set(t.key) == {"unit_costs.uk.cbt_session", "utilities.depressed"}
    assert (out / "tornado.png").stat().st_size > 0
    assert main(["dsa", "--patients", "100", "--out", str(out), "--steps", "2",
                 "--pair", "unit_costs.uk.cbt_session", "utilities.depressed"]) == 0  # fmt: skip
    (pair,) = out.glob("twoway_*")
    assert pair.name == "twoway_unit_costs.uk.cbt_session_x_utilities.depressed"
    assert (pair / "twoway.png").stat().st_size > 0 and (pair / "manifest.json").is_file()
    res = tmp_path / "threshold" / "cbt"
    assert main(["threshold", "--param", "unit_costs.uk.cbt_session", "--threshold", "30000",
                 "--arm", "integrated", "--versus", "sequential", "--patients", "300",
                 "--high", "5000", "--out", str(res)]) == 0  # fmt: skip
    assert json.loads((res / "threshold.json").read_text())["icer"] == pytest.approx(
        30000, rel=1e-6
    )
    assert (res / "threshold.png").stat().st_size > 0


BAD = [
    (["psa", "--draws", "0"], "must be at least 1"),
    (["psa", "--patients", "0"], "must be at least 1"),
    (["psa", "--draws", "2", "--group", "g=treatments.nope.response_effect"], "unknown parameter"),
    (["psa", "--draws", "2", "--group", "g=cohort.age_mean"], "no distribution"),
    (["psa", "--draws", "2", "--scheduler", "tcp://127.0.0.1:9"], "cannot connect"),
    (["dsa", "--param", "treatments.ssri.respons"], "did you mean"),
    (["dsa", "--arm", "nope"], "not an arm"),
    (["threshold", "--param", "unit_costs.nope", "--threshold", "30000"], "unknown parameter"),
    (["psa", "--draws", "2", "--evppi-method", "loess"], "does not exist"),
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


def _small_table(path):
    rng = np.random.default_rng(3)
    rows = []
    for d in range(50):
        p = rng.uniform(0.1, 0.9)
        rows.append({"draw": d, "arm": "a", "cost": 0.0, "qaly": 1.0, "p": p})
        rows.append({"draw": d, "arm": "b", "cost": 100.0, "qaly": 1.0 + p / 100, "p": p})
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


EVSI = ["--param", "p", "--study", "proportion", "--threshold", "20000"]
BAD_TABLE = [
    (["analyse", "--threshold", "20000", "--group", "g=p,nope"], "nope is not a parameter"),
    (["analyse", "--threshold", "20000", "--evppi-method", "loess"], "does not exist"),
    (["evsi", *EVSI, "--n", "0,10"], "whole numbers >= 1"),
    (["evsi", *EVSI, "--n", "10,x"], "whole numbers per arm"),
    (
        ["evsi", "--param", "nope", "--study", "proportion", "--n", "10", "--threshold", "1"],
        "unknown parameter",
    ),  # fmt: skip
    (
        ["evsi", "--param", "p", "--study", "odds-ratio", "--n", "10", "--threshold", "1"],
        "control arm's event rate",
    ),  # fmt: skip
    (["evsi", *EVSI, "--n", "10", "--evppi-method", "loess"], "does not exist"),
    (["evsi", *EVSI, "--n", "10", "--fixed-cost", "100"], "needs --population"),
]


@pytest.mark.parametrize("argv, message", BAD_TABLE, ids=[" ".join(b[0]) for b in BAD_TABLE])
def test_bad_analyse_and_evsi_input_one_line_exit_2_nothing_written(
    tmp_path, capsys, argv, message
):
    table = _small_table(tmp_path / "t.csv")
    out = tmp_path / "out"
    code = main([argv[0], table, *argv[1:], "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("trdsim") and message in err, err
    assert not out.exists()


def test_analyse_refuses_thresholds_that_do_not_increase(tmp_path, capsys):
    table = tmp_path / "t.csv"
    pd.DataFrame(
        [(0, "a", 1.0, 1.0), (0, "b", 2.0, 1.1)], columns=["draw", "arm", "cost", "qaly"]
    ).to_csv(table, index=False)
    assert main(["analyse", str(table), "--threshold", "30000,20000"]) == 2
    assert "strictly increasing" in capsys.readouterr().err
    assert main(["analyse", str(tmp_path / "missing.csv"), "--threshold", "1"]) == 2


class _no_raise:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
