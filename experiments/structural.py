"""Structural uncertainty on the default scenarios; writes results/<scenario>/structural/
and rewrites results/<scenario>/report.html with it (uk_nhs and us_payer).

Run: .venv/bin/python experiments/structural.py [--patients 20000] [--scenario uk_nhs]

Every variant of src/trdsim/evidence/structural.toml that applies to the scenario's
setting, on the scenario's own patients and seed (common random numbers: each variant
is the scenario written by hand with that change). No weights: the file declares none,
as no source ranks the alternatives. The tables, manifest and figure are kept in git.
"""

import argparse
import shutil
from pathlib import Path

from tqdm import tqdm

import trdsim
from trdsim.analysis.structural import run_size
from trdsim.report import write_report

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("uk_nhs", "us_payer")


def structural(name: str, patients: int | None) -> None:
    out = ROOT / "results" / name
    scenario = trdsim.load_scenario(name)
    n = patients or scenario.patients
    shutil.rmtree(out / "structural", ignore_errors=True)
    _, runs = run_size(scenario)
    with tqdm(total=runs * n, desc=f"{name} structural", unit=" patients") as bar:
        r = trdsim.structural(scenario, patients=n, progress=bar.update)
    r.write(out / "structural")
    print(r.summary())
    write_report(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, default=None, help="default: the scenario's")
    ap.add_argument("--scenario", choices=SCENARIOS, action="append")
    args = ap.parse_args()
    for name in args.scenario or SCENARIOS:
        structural(name, args.patients)


if __name__ == "__main__":
    main()
