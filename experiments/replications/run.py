"""Published TRD trials and economic evaluations reproduced from their designs.

Run: .venv/bin/python experiments/replications/run.py (--redraw: only the figure, from
the table a run wrote)

Each study is a scenario in this folder written from the publication's design only
(population and eligibility, arms, follow-up, perspective, currency and price year,
discounting); `targets.toml` lists the published figures to compare, each with its
interval of agreement and `dependent = true` where the same study also supplies an
input of the evidence library. No input is changed to approach a published figure.

Writes results/replications/: replications.csv (one row per compared figure: study,
measure, published, low, high, model, agrees, dependent, and what it is), the figure
replications.png, each design's trial table (trial/<study>/) and the validation files
behind the table (validation/).
"""

import shutil
import sys
import tomllib
from pathlib import Path

import pandas as pd

import trdsim
from trdsim.plots.analysis import replication_figure
from trdsim.scenario import load_scenario
from trdsim.store.manifest import make_manifest, write_manifest
from trdsim.validation.trial import run_trial

HERE = Path(__file__).resolve().parent

ROOT = HERE.parents[1]
OUT = ROOT / "results" / "replications"
COLUMNS = ["study", "measure", "published", "low", "high", "model", "agrees", "dependent"]


def draw(table: pd.DataFrame) -> None:
    """replications.png: each figure's money in its own design's currency and price
    year, the designs named in the caption."""
    targets = tomllib.loads((HERE / "targets.toml").read_text())["target"]
    design = {t["id"]: load_scenario(HERE / t["scenario"]) for t in targets}
    shown = table.assign(
        currency=[design[i].currency for i in table.id],
        price_year=[design[i].price_year for i in table.id],
    )
    replication_figure(
        shown,
        OUT / "replications.png",
        scenario=", ".join(sorted({d.name for d in design.values()})),
    )


def main() -> None:
    if "--redraw" in sys.argv[1:]:  # only the figure, from replications.csv
        draw(pd.read_csv(OUT / "replications.csv"))
        return
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    for design in sorted(HERE.glob("*.toml")):
        if design.name == "targets.toml":
            continue
        scenario = trdsim.load_scenario(str(design))
        if scenario.trial is not None:
            trial = run_trial(scenario)
            folder = OUT / "trial" / design.stem
            trial.write(folder)
            write_manifest(folder, make_manifest(scenario, "trial"))
    validation = trdsim.validate(targets=HERE / "targets.toml")
    validation.write(OUT / "validation", figures=False)
    v = validation.targets
    table = v.rename(columns={"target": "published"})[
        [*COLUMNS, "id", "description", "setting", "quadrant", "source", "verified"]
    ]
    table.to_csv(OUT / "replications.csv", index=False)
    draw(table)
    agree = int(table.agrees.sum())
    print(f"\n{agree} of {len(table)} published figures reproduced; wrote {OUT}/replications.csv")


if __name__ == "__main__":
    main()
