"""Sequential vs integrated care in the UK and US scenarios; writes results/<scenario>/
with its report.html (which includes any PSA, DSA and validation already there).
(uk_nhs_calibrated is compared by validate_and_calibrate.py; capacity_whatif is a care-
system scenario, run by capacity_whatif.py.)

Run: .venv/bin/python experiments/compare_pathways.py [--patients N]
The tables, manifests and figures it writes are kept in git (the parquet files are not).
"""

import argparse
from pathlib import Path

import trdsim
from trdsim.report import write_report

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("uk_nhs", "us_payer")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, help="patients per arm (default: each scenario's)")
    args = ap.parse_args()
    for name in SCENARIOS:
        r = trdsim.compare(name, patients=args.patients)
        out = ROOT / "results" / name
        r.write(out)
        write_report(out)
        print(r.summary())


if __name__ == "__main__":
    main()
