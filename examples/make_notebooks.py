"""Writes the example notebooks (their sources; tests/test_examples.py executes them in CI).

Run: .venv/bin/python examples/make_notebooks.py (after editing the cells below).
"""

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent


# trdsim never picks a matplotlib backend for you (it returns figures); the notebook does
SETUP = "# figures returned by trdsim are shown inline; trdsim itself never sets a backend\n%matplotlib inline"


def nb(cells):
    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cells = [cells[0], SETUP, *cells[1:]]
    book.cells = [
        nbf.v4.new_markdown_cell(c[3:]) if c.startswith("md:") else nbf.v4.new_code_cell(c)
        for c in cells
    ]
    # numbered cell ids: writing the notebooks again changes only what changed
    for k, cell in enumerate(book.cells):
        cell["id"] = f"cell-{k}"
    return book


compare = nb(
    [
        "md:# Compare the pathways and read the frontier\n\nSequential vs integrated (and personalised) care on the default UK scenario. "
        "Every arm meets the same patients (common random numbers), so differences are paired. "
        "The cohort here is small so the notebook runs in seconds; use the scenario's 20,000 patients for results you report.",
        'import trdsim\n\nresult = trdsim.compare("uk_nhs", patients=2000, seed=1)\nresult',
        "md:`summary()` gives the answer per threshold; `.table` is the per-arm table (means with Monte Carlo SEs and paired differences).",
        'print(result.summary())\nresult.table[["arm", "cost", "cost_se", "qaly", "qaly_se", "cost_diff", "qaly_diff"]]',
        "md:## The efficiency frontier\n\n`incremental` has one row per arm: its status (a fixed vocabulary: reference, frontier, dominated, extendedly_dominated, equivalent), "
        "the arm it is compared with, and the ICER of frontier arms. Net monetary benefit is in `net_benefit`, one row per threshold and arm.",
        "result.incremental",
        "result.net_benefit[result.net_benefit.optimal]",
        "md:The figure is returned, not shown by trdsim: the notebook displays it.",
        "fig = result.plot()\nfig",
        "md:## Subgroups and the tidy patient table\n\nEvent weeks that never happened are nulls.",
        'groups = result.subgroups("severity")\ngroups.table[["subgroup", "arm", "share", "cost", "qaly", "status", "icer"]]',
        'result.patients[["arm", "patient", "cost", "qaly", "first_remission_week", "death_week"]].head()',
        "md:## Write, read back, report\n\n`write` gives the folder `trdsim compare` writes; `read` gives the same result back; the report reads the folder.",
        'import tempfile\nfrom pathlib import Path\n\nfolder = Path(tempfile.mkdtemp()) / "uk_nhs"\nresult.write(folder)\nassert trdsim.Result.read(folder) == result\nreport = trdsim.report.write_report(folder)\nprint(report.html, report.sections[:4])',
    ]
)

psa = nb(
    [
        "md:# Decision uncertainty: PSA, CEAC and EVPPI\n\nA probabilistic sensitivity analysis of the default UK scenario, made from Python and reported. "
        "Draws and patients are kept small so the notebook runs in CI; the warnings it prints say when they are too few for conclusions.",
        'import trdsim\n\npsa = trdsim.psa(\n    "uk_nhs", draws=60, patients=200, seed=3,\n    groups={\n        "CBT augmentation": ["treatments.cbt_augmentation.response_effect"],\n        "CBT price": ["unit_costs.uk.cbt_session"],\n    },\n)\npsa',
        "print(psa.summary())",
        "md:`.table` holds the incremental cost, QALYs and net monetary benefit of each arm against the first, with 95 % intervals, in long form (the threshold is a column).",
        "psa.table",
        "md:## Acceptability curves and the frontier",
        "psa.plot()",
        "psa.ceac[psa.ceac.threshold.isin(psa.thresholds)]",
        "md:## Value of information\n\nEVPI per person at the decision thresholds, and EVPPI of each group (never above the EVPI).",
        "psa.evpi[psa.evpi.threshold.isin(psa.thresholds)]",
        'psa.evppi[["group", "threshold", "evppi", "se", "evpi", "method"]]',
        'from trdsim.plots import analysis as plots\n\nplots.evppi_curve_figure(psa.evppi_curve, psa.evppi, "GBP", scenario="uk_nhs")',
        "md:## A PSA made in Python is reported like one from the command line",
        'import tempfile\nfrom pathlib import Path\n\nfolder = Path(tempfile.mkdtemp()) / "uk_nhs"\ntrdsim.compare("uk_nhs", patients=1000, seed=3).write(folder)\npsa.write(folder / "psa")\nreport = trdsim.report.write_report(folder)\nassert report.results.psa is not None\nprint(report.html)',
    ]
)

care = nb(
    [
        "md:# A planner's capacity what-if\n\nReferrals arrive at random; CBT therapists and rTMS chairs have a capacity; patients wait in a queue. "
        "Is the wait standard met *in steady state* (after the warm-up, is each queue stable or growing)? "
        "Here two capacity plans are compared over a short horizon with few referrals so the notebook runs in CI.",
        'import trdsim\n\nscenario = trdsim.load_scenario("capacity_whatif").with_values(\n    {"care_system.years": 3, "care_system.referrals_per_year": 600}\n)\nplans = {\n    "lean": {"care_system.services.cbt.units": 10, "care_system.services.ketamine.units": 2,\n             "care_system.services.rtms.units": 2},\n    "generous": {"care_system.services.cbt.units": 40, "care_system.services.ketamine.units": 8,\n                 "care_system.services.rtms.units": 8},\n}\nruns = {name: trdsim.care(scenario, seed=1, settings=plan) for name, plan in plans.items()}\nfor name, r in runs.items():\n    print(name, "->", r.summary())',
        "md:Waits, queues and utilisation per service and year (`.table`):",
        'runs["lean"].table',
        'runs["generous"].table',
        "md:The steady-state verdict per service:",
        '{name: {s: t["verdict"] for s, t in r.steady["services"].items()} for name, r in runs.items()}',
        'runs["lean"].plot()',
        "md:## A sweep over therapists\n\nOne run per value and replication (`care_sweep` keeps finished runs in a folder and resumes).",
        'sweep = trdsim.care_sweep(scenario, {"care_system.services.cbt.units": [10, 20, 40]}, reps=1)\nprint(sweep.summary())\nsweep.plot()',
    ]
)

for name, book in (
    ("compare_and_frontier", compare),
    ("psa_ceac_evppi", psa),
    ("capacity_whatif", care),
):
    nbf.write(book, HERE / f"{name}.ipynb")
print("ok")
