"""Decision uncertainty on the default UK scenario; writes results/uk_nhs/{psa,dsa,threshold}/
and rewrites results/uk_nhs/report.html with them.

Run: .venv/bin/python experiments/uncertainty_uk.py [--draws 1000] [--patients 2000]

* PSA: K draws x N patients, CEAC/CEAF, EVPI and EVPPI by parameter group;
* DSA: tornado of integrated vs sequential care's incremental NMB at £20,000/QALY
  (the scenario's 20,000 patients, common random numbers), and a two-way map of the
  two inputs at the top of the tornado;
* threshold analyses: the CBT augmentation odds ratio and the CBT session price at
  which integrated care's ICER against sequential care reaches £30,000/QALY. (No
  natural-history response between 5 % and 95 % over 5 years does it: INMB at £20,000
  stays between £4,622 and £7,947.)
The tables, manifests and figures are kept in git (draws.parquet is not).
"""

import argparse
import shutil
from pathlib import Path

from _run import run

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "uk_nhs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--patients", type=int, default=2000)
    args = ap.parse_args()
    shutil.rmtree(OUT / "psa", ignore_errors=True)  # a fresh run, not a resume
    run(["psa", "uk_nhs", "--draws", str(args.draws), "--patients", str(args.patients),
         "--out", str(OUT / "psa")])  # fmt: skip
    run(["dsa", "uk_nhs", "--out", str(OUT / "dsa")])
    run(["dsa", "uk_nhs", "--out", str(OUT / "dsa"), "--patients", "5000",
         "--pair", "unit_costs.cbt_session", "utilities.depressed"])  # fmt: skip
    for name, param, extra in (
        ("cbt_effect", "treatments.cbt_augmentation.response_effect",
         ["--arm", "integrated", "--versus", "sequential", "--low", "0.2", "--high", "3.26"]),
        ("cbt_session_price", "unit_costs.cbt_session",
         ["--arm", "integrated", "--versus", "sequential", "--low", "0", "--high", "5000"]),
    ):  # fmt: skip
        run(["threshold", "uk_nhs", "--param", param, "--target", "30000", *extra,
             "--out", str(OUT / "threshold" / f"{name}.json")])  # fmt: skip
    run(["report", str(OUT)])


if __name__ == "__main__":
    main()
