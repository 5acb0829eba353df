"""Sequential vs integrated care on every bundled scenario; writes results/<scenario>/
with its report.html (which includes any PSA, DSA and validation already there).

Run: .venv/bin/python experiments/compare_pathways.py [--patients N]
The tables, manifests and figures it writes are kept in git (the parquet files are not).
"""

import argparse
from pathlib import Path

from trdsim.cli import main as trdsim_main
from trdsim.scenario import bundled_scenarios

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, help="patients per arm (default: each scenario's)")
    args = ap.parse_args()
    for path in sorted(bundled_scenarios().glob("*.toml")):
        argv = ["compare", str(path), "--out", str(ROOT / "results" / path.stem), "--report"]
        if args.patients:
            argv += ["--patients", str(args.patients)]
        if trdsim_main(argv) != 0:
            raise SystemExit(f"{path.name} failed")


if __name__ == "__main__":
    main()
