"""Sequential vs integrated care in the UK and US scenarios; writes results/<scenario>/
with its report.html (which includes any PSA, DSA and validation already there).
(uk_nhs_calibrated is compared by validate_and_calibrate.py; capacity_whatif is a care-
system scenario, run by capacity_whatif.py.)

Run: .venv/bin/python experiments/compare_pathways.py [--patients N]
The tables, manifests and figures it writes are kept in git (the parquet files are not).
"""

import argparse
from pathlib import Path

from trdsim.cli import main as trdsim_main
from trdsim.scenario import bundled_scenarios

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("uk_nhs", "us_payer")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, help="patients per arm (default: each scenario's)")
    args = ap.parse_args()
    for path in (bundled_scenarios() / f"{name}.toml" for name in SCENARIOS):
        argv = ["compare", str(path), "--out", str(ROOT / "results" / path.stem), "--report"]
        if args.patients:
            argv += ["--patients", str(args.patients)]
        if trdsim_main(argv) != 0:
            raise SystemExit(f"{path.name} failed")


if __name__ == "__main__":
    main()
