"""Decision uncertainty on the default scenarios; writes results/<scenario>/{psa,dsa,threshold}/
and rewrites results/<scenario>/report.html with them (uk_nhs and us_payer).

Run: .venv/bin/python experiments/uncertainty.py [--draws 1000] [--patients 2000]
     [--scenario uk_nhs]

* PSA: K draws x N patients, CEAC/CEAF, EVPI and EVPPI by parameter group;
* DSA: tornado of integrated vs sequential care's incremental NMB at the scenario's
  first threshold (the scenario's 20,000 patients, common random numbers), and a
  two-way map of the CBT session price and the utility of depression;
* threshold analyses (integrated vs sequential, ICER at the scenario's last threshold):
  the CBT session price, and in the UK the CBT augmentation odds ratio. (In the US
  integrated care dominates at every CBT odds ratio from 0.2 to 3.26, so that
  threshold does not exist.)
The tables, manifests and figures are kept in git (draws.parquet is not).
"""

import argparse
import shutil
from pathlib import Path

from _run import run

import trdsim

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("uk_nhs", "us_payer")
# (file name, parameter, search interval); the CBT effect only where the ICER crosses
THRESHOLDS = {
    "uk_nhs": [
        ("cbt_effect", "treatments.cbt_augmentation.response_effect", "0.2", "3.26"),
        ("cbt_session_price", "unit_costs.uk.cbt_session", "0", "5000"),
    ],
    "us_payer": [("cbt_session_price", "unit_costs.us.cbt_session", "0", "20000")],
}


def uncertainty(name: str, draws: int, patients: int) -> None:
    out = ROOT / "results" / name
    scenario = trdsim.load_scenario(name)
    target, setting = f"{scenario.thresholds[-1]:g}", scenario.setting
    for sub in ("psa", "dsa", "threshold"):
        shutil.rmtree(out / sub, ignore_errors=True)  # a fresh run, not a resume
    run(["psa", name, "--draws", str(draws), "--patients", str(patients),
         "--out", str(out / "psa")])  # fmt: skip
    run(["dsa", name, "--out", str(out / "dsa")])
    run(["dsa", name, "--out", str(out / "dsa"), "--patients", "5000",
         "--pair", f"unit_costs.{setting}.cbt_session", "utilities.depressed"])  # fmt: skip
    for file, param, low, high in THRESHOLDS[name]:
        run(["threshold", name, "--param", param, "--target", target, "--arm", "integrated",
             "--versus", "sequential", "--low", low, "--high", high,
             "--out", str(out / "threshold" / f"{file}.json")])  # fmt: skip
    run(["report", str(out)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--patients", type=int, default=2000)
    ap.add_argument("--scenario", choices=SCENARIOS, action="append")
    args = ap.parse_args()
    for name in args.scenario or SCENARIOS:
        uncertainty(name, args.draws, args.patients)


if __name__ == "__main__":
    main()
