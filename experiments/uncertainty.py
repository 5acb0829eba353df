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

from tqdm import tqdm

import trdsim
from trdsim.errors import TrdsimError
from trdsim.report import write_report

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("uk_nhs", "us_payer")
THRESHOLDS = {
    "uk_nhs": [
        ("cbt_effect", "treatments.cbt_augmentation.response_effect", 0.2, 3.26),
        ("cbt_session_price", "unit_costs.uk.cbt_session", 0.0, 5000.0),
    ],
    "us_payer": [("cbt_session_price", "unit_costs.us.cbt_session", 0.0, 20000.0)],
}


def uncertainty(name: str, draws: int, patients: int) -> None:
    out = ROOT / "results" / name
    scenario = trdsim.load_scenario(name)
    target, setting = scenario.thresholds[-1], scenario.setting
    for sub in ("psa", "dsa", "threshold"):
        shutil.rmtree(out / sub, ignore_errors=True)  # a fresh run, not a resume
    with tqdm(total=draws, desc=f"{name} PSA", unit=" draws") as bar:
        p = trdsim.psa(scenario, draws, patients, folder=out / "psa", progress=bar.update)
    p.write(out / "psa")
    print(p.summary())
    d = trdsim.dsa(scenario)
    d.write(out / "dsa")
    print(d.summary())
    w = trdsim.two_way(scenario, f"unit_costs.{setting}.cbt_session", "utilities.depressed",
                       patients=5000)  # fmt: skip
    w.write(out / "dsa" / w.name)
    for folder, param, low, high in THRESHOLDS[name]:
        try:
            t = trdsim.threshold(scenario, param, target, arm="integrated", versus="sequential",
                                 low=low, high=high)  # fmt: skip
        except TrdsimError as e:
            # no threshold inside the plausible range is itself the answer: say so, keep going
            note = out / "threshold" / f"{folder}.txt"
            note.parent.mkdir(parents=True, exist_ok=True)
            note.write_text(f"{e}\n")
            print(f"{name} threshold {folder}: {e}")
            continue
        t.write(out / "threshold" / folder)
        print(t.summary())
    write_report(out)


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
