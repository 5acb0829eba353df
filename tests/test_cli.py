"""The command line end to end: files written, manifest complete, parameter table with sources."""

import json

import pandas as pd

from trdsim.cli import main

SUMMARY_COLUMNS = {
    "arm",
    "patients",
    "cost",
    "qaly",
    "life_years",
    "weeks_in_remission",
    "ever_remitted",
    "relapses",
    "steps_used",
}


def test_compare_writes_every_output(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["compare", "--patients", "400", "--force", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Incremental analysis" in printed and "sequential" in printed
    for name in (
        "summary.csv",
        "incremental.csv",
        "trace.parquet",
        "patients.parquet",
        "manifest.json",
        "parameters.csv",
        "trace.png",
        "ever_remitted.png",
        "relapse_free.png",
        "frontier.png",
    ):
        assert (out / name).stat().st_size > 0, name
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.columns) >= SUMMARY_COLUMNS
    assert list(summary.arm) == ["sequential", "integrated", "personalised"]
    inc = pd.read_csv(out / "incremental.csv")
    assert {"arm", "status", "comparator", "inc_cost", "inc_qaly", "icer"} <= set(inc.columns)
    assert set(inc.status) <= {"reference", "frontier", "dominated", "extendedly_dominated",
                               "equivalent"}  # fmt: skip
    # long form: no threshold or comparator in a column's name, nulls where nothing applies
    nb = pd.read_csv(out / "net_benefit.csv")
    assert list(nb.columns) == ["arm", "threshold", "comparator", "nmb", "inc_nmb", "optimal"]
    assert sorted(set(nb.threshold)) == [20000, 30000] and set(nb.comparator) == {"sequential"}
    assert inc.comparator[inc.status == "reference"].isna().all()
    assert not any(c.startswith(("inc_nmb_", "optimal_at_", "cost_vs_")) for c in
                   [*inc.columns, *summary.columns])  # fmt: skip
    trace = pd.read_parquet(out / "trace.parquet")
    assert set(trace.columns) == {"week", "arm", "state", "count"}
    patients = pd.read_parquet(out / "patients.parquet")
    assert len(patients) == 1200
    # an event that never happened has no week (null), not a code
    assert patients.death_week.isna().any() and (patients.death_week.dropna() >= 0).all()
    m = json.loads((out / "manifest.json").read_text())
    assert m["seed"] == 3 and m["patients"] == 400 and len(m["scenario_hash"]) == 64
    assert m["parameters"]["treatments.ssri.response_effect"] == 1.37
    assert m["currency"] == "GBP" and m["discount_costs"] == 0.035
    assert m["format_version"] == 2 and m["analysis"] == "compare"


def test_us_scenario_runs_in_dollars(tmp_path, capsys):
    assert (
        main(
            [
                "compare",
                "us_payer",
                "--patients",
                "300",
                "--force",
                "--out",
                str(tmp_path),
                "--no-figures",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "$100,000" in printed and "USD 2019" in printed


def test_params_lists_sources_and_flags_unverified(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    assert "treatments.ssri.response_effect" in out and "Arroll 2005" in out
    assert main(["params", "--unverified"]) == 0
    out = capsys.readouterr().out
    assert "from memory, unverified" in out and "Arroll 2005" not in out


def test_a_slow_compile_is_announced_and_a_fast_one_is_not():
    import io
    import time as _time

    from trdsim.simulation.warmup import compile_notice

    slow, fast = io.StringIO(), io.StringIO()
    with compile_notice(stream=slow, after=0.05):
        _time.sleep(0.3)
    with compile_notice(stream=fast, after=5.0):
        pass
    assert "compiling the model (first run only" in slow.getvalue()
    assert "compiled in" in slow.getvalue()
    assert fast.getvalue() == ""


# ---------------------------------------------------------------- issue 27: a first hour

import math  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

from trdsim import cli  # noqa: E402

SMALL = ["--patients", "300", "--force", "--no-figures"]


def _subparsers():
    parser = cli.build_parser()
    (action,) = [a for a in parser._actions if a.dest == "command"]
    return parser, action.choices


def test_commands_write_under_runs_by_default_never_into_results(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", *SMALL]) == 0
    assert (tmp_path / "runs" / "uk_nhs" / "summary.csv").is_file()
    assert not (tmp_path / "results").exists()
    m = json.loads((tmp_path / "runs" / "uk_nhs" / "manifest.json").read_text())
    assert m["scenario_file"] == "uk_nhs"  # the bundled scenario by name, no path of this machine


def test_the_repository_ignores_runs():
    from pathlib import Path

    ignored = (Path(__file__).parents[1] / ".gitignore").read_text().split()
    assert "runs/" in ignored


def test_a_scenario_file_is_kept_relative_to_the_working_folder(tmp_path, monkeypatch):
    from trdsim.scenario import resolve_path
    from trdsim.store.manifest import portable_source

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    f = tmp_path / "mine" / "s.toml"
    f.write_text("")
    assert portable_source(str(f)) == "mine/s.toml"
    assert portable_source(str(resolve_path("us_payer"))) == "us_payer"


def test_a_folder_of_another_run_says_what_it_holds_and_the_ways_out(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["compare", *SMALL, "--out", str(out)]) == 0
    first = (out / "summary.csv").read_text()
    capsys.readouterr()
    # the same arguments again: replaced, as before
    assert main(["compare", *SMALL, "--out", str(out)]) == 0
    capsys.readouterr()
    # other arguments: one line naming what is there, nothing written
    rc = main(["compare", "--patients", "200", "--force", "--no-figures", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "a compare run (scenario uk_nhs, patients 300, seed 20261122)" in err, err
    assert "this run: scenario uk_nhs, patients 200" in err and "--overwrite" in err, err
    assert (out / "summary.csv").read_text() == first
    # --overwrite replaces it
    assert main(["compare", "--patients", "200", "--force", "--no-figures", "--out", str(out),
                 "--overwrite"]) == 0  # fmt: skip
    assert json.loads((out / "manifest.json").read_text())["patients"] == 200


def test_a_psa_folder_of_other_arguments_offers_resume_and_overwrite(tmp_path, capsys):
    out = tmp_path / "psa"
    base = ["psa", "--patients", "20", "--no-evppi", "--no-figures", "--out", str(out)]
    assert main([*base, "--draws", "3"]) == 0
    capsys.readouterr()
    rc = main([*base, "--draws", "4"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "a psa run (scenario uk_nhs, draws 3, patients 20" in err, err
    assert "add --resume to resume it (with its arguments), add --overwrite" in err, err
    # --resume takes the run's own arguments (3 draws, already finished: reused)
    assert main([*base, "--draws", "4", "--resume"]) == 0
    assert pd.read_parquet(out / "draws.parquet").draw.nunique() == 3
    assert main([*base, "--draws", "4", "--overwrite"]) == 0
    assert pd.read_parquet(out / "draws.parquet").draw.nunique() == 4
    # a compare folder is not a PSA's, even with --overwrite when it holds other analyses
    capsys.readouterr()
    rc = main(["compare", *SMALL, "--out", str(out)])
    assert rc == 2 and "another kind, a psa run" in capsys.readouterr().err
    # nothing to resume is one line too
    rc = main([*base[:-1], str(tmp_path / "none"), "--draws", "4", "--resume"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.endswith("holds no psa run to resume; run without --resume"), err


def test_an_empty_out_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", *SMALL, "--out", ""]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "trdsim: --out '': give a folder (default runs/uk_nhs)"
    assert not any(tmp_path.iterdir())


def test_options_are_never_abbreviated(capsys):
    parser, subs = _subparsers()
    assert parser.allow_abbrev is False
    assert all(p.allow_abbrev is False for p in subs.values())
    with pytest.raises(SystemExit) as e:
        main(["compare", "--patient", "100"])
    assert e.value.code == 2 and "unrecognized arguments: --patient" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # an old spelling is named with the new one
        main(["analyse", "t.csv", "--thresholds", "20000"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert e.value.code == 2 and err.endswith(
        "--thresholds is now --threshold (one spelling on every command)"
    ), err
    with pytest.raises(SystemExit):
        main(["threshold", "--param", "unit_costs.uk.cbt_session", "--target", "30000"])
    assert "--target is now --threshold" in capsys.readouterr().err


def test_one_spelling_per_concept_across_commands():
    _, subs = _subparsers()
    options = {name: {s for a in p._actions for s in a.option_strings} for name, p in subs.items()}
    every = set().union(*options.values())
    assert not every & {"--thresholds", "--parameter", "--target-icer"}
    assert "--target" not in options["threshold"]  # the ICER to reach is --threshold
    for name in ("analyse", "evsi", "dsa", "threshold"):
        assert "--threshold" in options[name], name
    for name in ("dsa", "threshold", "evsi", "calibrate"):
        assert "--param" in options[name], name
    for name, p in subs.items():  # --out is a folder everywhere
        for a in p._actions:
            if "--out" in a.option_strings:
                assert a.metavar == "FOLDER" and "folder" in a.help, name


ANALYSES = ["compare", "trial", "psa", "analyse", "evsi", "dsa", "threshold", "validate",
            "calibrate", "care", "sweep"]  # fmt: skip


def test_every_analysis_has_quiet_and_json_and_the_report_where_it_renders():
    _, subs = _subparsers()
    for name in ANALYSES:
        opts = {s for a in subs[name]._actions for s in a.option_strings}
        assert {"--quiet", "--json"} <= opts, name
    for name in ("compare", "psa", "care"):  # the folders report/folder.py reads
        assert "--report" in {s for a in subs[name]._actions for s in a.option_strings}, name
    for name, p in subs.items():
        scen = [a for a in p._actions if a.dest == "scenario"]
        if scen and name != "trial":  # no bundled scenario has a [trial] section
            assert scen[0].nargs == "?", name


def test_quiet_prints_nothing_and_json_only_json(tmp_path, capsys):
    assert main(["compare", *SMALL, "--out", str(tmp_path / "q"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert main(["compare", *SMALL, "--out", str(tmp_path / "j"), "--json"]) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    summary = json.loads(printed.out)
    assert summary["command"] == "compare" and summary["patients"] == 300
    written = pd.read_csv(tmp_path / "j" / "summary.csv")
    assert [a["cost"] for a in summary["arms"]] == pytest.approx(list(written.cost))
    assert {d["threshold"] for d in summary["decision"]} == {20000, 30000}


def test_help_and_version_import_nothing_heavy_and_answer_at_once():
    code = ("import sys, trdsim.cli; trdsim.cli.build_parser(); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'numpy', 'pandas', 'numba', 'matplotlib', 'scipy', 'tqdm'}))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "trdsim.cli", "--help"], capture_output=True, check=True)
    assert time.perf_counter() - t0 < 1.5


def test_cli_copies_of_scenario_constants_agree():
    from trdsim import scenario

    assert cli.DEFAULT_SCENARIO == scenario.DEFAULT_SCENARIO
    assert cli.MAX_SEED == scenario.MAX_SEED


def test_the_progress_bar_shows_no_time_left_until_it_has_a_rate():
    import io

    bar = cli.tqdm_bar(10, "x", " things", file=io.StringIO(), disable=False)
    assert "<?" in str(bar)
    bar.update(1)  # the first step includes start-up work: no estimate from it
    assert "<?" in str(bar) and "measuring" in str(bar)
    bar.update(1)
    assert "<?" not in str(bar) and re.search(r"<\d\d:\d\d", str(bar)), str(bar)
    bar.close()


def test_numbers_are_formatted_one_way():
    from trdsim.currency import money, number, plus_minus, share

    assert money(-1234.4, "GBP") == "−£1,234" and money(50, "USD", sign=True) == "+$50"
    assert money(-0.3, "GBP", sign=True) == "£0"  # no sign on what rounds to nothing
    assert number(-12345.678, 1) == "−12,345.7" and number(0.1234, 3, sign=True) == "+0.123"
    assert number(-0.0001, 3) == "0.000"
    assert share(-0.025, sign=True) == "−2.5 %" and share(0.719) == "71.9 %"
    assert plus_minus(49.4, "GBP") == "± £49" and plus_minus(float("nan")) == "± n/a"
    assert money(float("nan"), "GBP") == "" and number(None) == ""


COBALT = str(
    __import__("pathlib").Path(__file__).parents[1] / "experiments/replications/cobalt.toml"
)
WIDE = [
    ["compare", *SMALL],
    ["params"],
    ["params", "--effective"],
    ["params", "--unverified"],
    ["psa", "--draws", "6", "--patients", "30", "--no-evppi", "--no-figures"],
    ["dsa", "--patients", "100", "--param", "utilities.depressed", "--no-figures"],
    ["threshold", "--param", "unit_costs.uk.cbt_session", "--threshold", "30000", "--high",
     "5000", "--arm", "integrated", "--versus", "sequential", "--patients", "200"],
    ["validate", "--patients", "200", "--no-figures"],
    ["trial", COBALT, "--patients", "100"],
    ["care", "--set", "care_system.years=1", "--set", "care_system.referrals_per_year=200",
     "--no-figures"],
]  # fmt: skip


@pytest.mark.parametrize("argv", WIDE, ids=[" ".join(a[:2]) for a in WIDE])
def test_terminal_output_fits_100_columns_with_true_minus_signs(tmp_path, monkeypatch, capsys,
                                                                argv):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines and max(map(len, lines)) <= 100, max(lines, key=len)
    # money and numbers: a true minus sign, never a hyphen before a digit
    assert not re.search(r"(^|[\s(£$])-\d", out), re.search(r".*(^|[\s(£$])-\d.*", out)[0]
    assert not re.search(r"\d{5}/QALY", out)  # thousands separators and the currency


def test_params_wide_prints_cells_in_full(capsys):
    assert main(["params", "--wide"]) == 0
    assert max(map(len, capsys.readouterr().out.splitlines())) > 100


def test_compare_below_the_decision_minimum_is_refused_unless_forced(tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(["compare", "--patients", str(cli.MIN_DECISION_PATIENTS - 1), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert f"--patients {cli.MIN_DECISION_PATIENTS - 1:,}" in err and "--force" in err
    assert not out.exists()


def test_the_bottom_line_says_when_monte_carlo_noise_hides_the_optimal_arm(tmp_path, capsys):
    from trdsim.analysis.compare import Result

    out = tmp_path / "o"
    assert main(["compare", *SMALL, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    r = Result.read(out)
    # independent of Result.adequacy: the paired INMB of the two best arms, patient by patient
    p = pd.read_parquet(out / "patients.parquet")
    nb = pd.read_csv(out / "net_benefit.csv")
    verdicts = []
    for lam in (20000.0, 30000.0):
        best, second = nb[nb.threshold == lam].sort_values("nmb", ascending=False).arm[:2]
        a = p[p.arm == best].set_index("patient")
        b = p[p.arm == second].set_index("patient")
        d = lam * (a.qaly - b.qaly) - (a.cost - b.cost)
        se = d.std() / math.sqrt(len(d))
        verdicts.append(abs(d.mean()) > 1.96 * se)
        row = r.adequacy().set_index("threshold").loc[lam]
        assert row.se == pytest.approx(se) and row.adequate == verdicts[-1]
        if not verdicts[-1]:
            assert row.patients_needed >= 300 * (1.96 * se / abs(d.mean())) ** 2
    assert not all(verdicts)  # 300 patients cannot decide at £20,000 on uk_nhs
    assert "no optimal arm can be named" in printed and "patients per arm would" in printed
    assert "no optimal arm can be named" in r.summary()


JSON = [
    ["psa", "--draws", "6", "--patients", "30", "--no-evppi", "--no-figures"],
    ["dsa", "--patients", "100", "--param", "utilities.depressed", "--no-figures"],
    ["validate", "--patients", "200", "--no-figures"],
    ["threshold", "--param", "unit_costs.uk.cbt_session", "--threshold", "30000", "--high",
     "5000", "--arm", "integrated", "--versus", "sequential", "--patients", "200"],
]  # fmt: skip


@pytest.mark.parametrize("argv", JSON, ids=[a[0] for a in JSON])
def test_json_is_the_only_thing_on_stdout(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--json"]) == 0
    printed = capsys.readouterr()
    summary = json.loads(printed.out)  # valid JSON and nothing else
    assert summary["command"] == argv[0] and printed.err == ""
    assert (tmp_path / summary["out"] / "manifest.json").is_file()


def test_table_commands_fit_100_columns_too(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runs = [
        ["psa", "--draws", "8", "--patients", "30", "--no-evppi", "--no-figures", "--out", "p"],
        ["analyse", "p/draws.parquet", "--no-evppi", "--no-figures", "--out", "a"],
        ["evsi", "p", "--param", "utilities.depressed", "--study", "normal", "--sd", "0.2",
         "--n", "10,50", "--no-figures", "--population", "1000", "--per-patient-cost", "100"],
        ["dsa", "--patients", "60", "--steps", "2", "--no-figures",
         "--pair", "unit_costs.uk.cbt_session", "utilities.depressed"],
        ["sweep", "--grid", "care_system.years=1", "--grid",
         "care_system.referrals_per_year=50,80", "--no-figures"],
    ]  # fmt: skip
    for argv in runs:
        assert main(argv) == 0, argv
        out = capsys.readouterr().out
        assert max(map(len, out.splitlines())) <= 100, (argv[0], max(out.splitlines(), key=len))
        assert not re.search(r"(^|[\s(£$])-\d", out), argv[0]


def test_a_sweep_folder_of_another_grid_resumes_with_its_own(tmp_path, capsys):
    out = tmp_path / "s"
    base = ["sweep", "--grid", "care_system.referrals_per_year=50", "--no-figures"]
    assert main([*base, "--grid", "care_system.years=1", "--out", str(out)]) == 0
    capsys.readouterr()
    rc = main([*base, "--grid", "care_system.years=1,2", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "grid care_system.referrals_per_year=50 care_system.years=1)" in err, err
    assert "--resume" in err and "--overwrite" in err
    assert main([*base, "--grid", "care_system.years=1,2", "--out", str(out), "--json",
                 "--resume"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["runs"] == 1  # the folder's own grid


def test_overwrite_removes_nothing_from_a_folder_that_is_not_a_trdsim_result(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "manifest.json").write_text('{"name": "a web app"}')  # another program's
    (out / "notes.txt").write_text("keep")
    rc = main(["psa", "--draws", "2", "--patients", "10", "--no-evppi", "--out", str(out),
               "--overwrite"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "holds manifest.json, notes.txt (not a psa run's)" in err, err
    assert (out / "notes.txt").read_text() == "keep" and (out / "manifest.json").exists()
