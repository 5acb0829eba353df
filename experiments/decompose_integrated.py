"""Why does integrated care come out as it does? Swap one component at a time.

Starting from the default UK scenario, each variant changes one thing about a pathway
(CBT combined with the drug and ketamine steps, the relapse rule, maintenance, care after
the pathway) and all variants are simulated on the same patients (common random numbers).
Writes results/decomposition/decomposition.csv.

Run: .venv/bin/python experiments/decompose_integrated.py [--patients N]
"""

import argparse
import copy
from pathlib import Path

import trdsim
from trdsim.scenario import from_dict

ROOT = Path(__file__).resolve().parents[1]


def _plain(step: list[str]) -> list[str]:
    """A step without its CBT component (drug or device alone)."""
    rest = [c for c in step if c != "cbt_augmentation"]
    return rest or step


def variants(sc: trdsim.Scenario) -> dict[str, dict]:
    """Each variant changes one thing about one default pathway (same patients)."""
    seq, integ = sc.pathways["sequential"], sc.pathways["integrated"]
    no_cbt_steps = [_plain(st) for st in integ["steps"]]
    # the same maintenance after each step, now that its key has lost "+cbt_augmentation"
    no_cbt_maintenance = {
        ("+".join(_plain(k.split("+"))) if k not in ("default", "usual_care") else k): v
        for k, v in integ["maintenance"].items()
    }
    seq_with_cbt = [
        ["antipsychotic_augmentation", "cbt_augmentation"]
        if st == ["antipsychotic_augmentation"]
        else st
        for st in seq["steps"]
    ]
    return {
        "integrated, no CBT with the drug and ketamine steps": {
            **integ,
            "steps": no_cbt_steps,
            "maintenance": no_cbt_maintenance,
        },
        "integrated, relapse -> next step": {**integ, "on_relapse": "advance"},
        "integrated, sequential maintenance": {**integ, "maintenance": seq["maintenance"]},
        "integrated, no care after the pathway": {**integ, "on_exhausted": "none"},
        "sequential, CBT with aripiprazole": {**seq, "steps": seq_with_cbt},
        "sequential, relapse -> re-treat": {**seq, "on_relapse": "retreat"},
        "sequential, maintenance CBT after every response": {
            **seq,
            "maintenance": {"default": ["continuation_ad", "maintenance_cbt"]},
        },
        "sequential, no care after the pathway": {**seq, "on_exhausted": "none"},
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
