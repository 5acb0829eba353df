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
    assert main(["compare", "--patients", "400", "--seed", "3", "--out", str(out)]) == 0
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
        main(["compare", "us_payer", "--patients", "300", "--out", str(tmp_path), "--no-figures"])
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
