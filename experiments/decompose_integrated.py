"""Why does integrated care come out as it does? Swap one component at a time.

Starting from the default UK scenario, each variant changes one thing about a pathway
(relapse rule, maintenance, the first TRD step, what happens when the pathway is
exhausted) and all variants are simulated on the same patients (common random numbers).
Writes results/decomposition/decomposition.csv.

Run: .venv/bin/python experiments/decompose_integrated.py [--patients N]
"""

import argparse
import copy
from pathlib import Path

import trdsim
from trdsim.scenario import from_dict

ROOT = Path(__file__).resolve().parents[1]


def variants(sc: trdsim.Scenario) -> dict[str, dict]:
    seq, integ = sc.pathways["sequential"], sc.pathways["integrated"]
    integ_maintenance_on_seq_steps = {
        k: v for k, v in integ["maintenance"].items() if k == "default" or k in seq["steps"]
    }
    aripiprazole_first = [
        "ssri",
        "antidepressant_switch",
        "antipsychotic_augmentation",
        "ketamine_cbt",
        "rtms",
        "cbt_augmentation",
        "ect",
    ]
    return {
        "integrated, relapse -> next step": {**integ, "on_relapse": "advance"},
        "integrated, sequential maintenance": {**integ, "maintenance": seq["maintenance"]},
        "integrated, aripiprazole before CBT": {**integ, "steps": aripiprazole_first},
        "sequential, relapse -> re-treat": {**seq, "on_relapse": "retreat"},
        "sequential, integrated maintenance": {
            **seq,
            "maintenance": integ_maintenance_on_seq_steps,
        },
        "sequential, restart when exhausted": {**seq, "on_exhausted": "restart"},
        "integrated, restart when exhausted": {**integ, "on_exhausted": "restart"},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, default=20_000)
    args = ap.parse_args()
    sc = trdsim.load_scenario("uk_nhs")
    raw = copy.deepcopy(sc.raw)
    extra = variants(sc)
    raw["pathways"] = {**raw.get("pathways", {}), **extra}
    raw["scenario"]["arms"] = ["sequential", "integrated", *extra]
    result = trdsim.simulate(from_dict(raw, "decomposition of uk_nhs"), patients=args.patients)
    cols = ["arm", "cost", "qaly", "ever_remitted", "weeks_in_remission", "relapses",
            "cost_vs_sequential", "cost_vs_sequential_se", "qaly_vs_sequential", "qaly_vs_sequential_se"]  # fmt: skip
    table = result.summary[cols]
    out = ROOT / "results" / "decomposition"
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "decomposition.csv", index=False)
    print(table.round(3).to_string(index=False))
    print(f"\nwrote {out / 'decomposition.csv'}")


if __name__ == "__main__":
    main()
