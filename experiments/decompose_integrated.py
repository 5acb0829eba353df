"""What drives the comparison? Walk from sequential care to integrated care one change at a
time, and from sequential to personalised care one rule at a time.

For each scenario (uk_nhs, us_payer), every variant is simulated on the same patients
(common random numbers), so each link of the chain is a paired difference and the links
add up exactly to integrated care's difference from sequential care:

1. treatments: integrated care's treatments, in its order, one at a time (no CBT
   combined, the sequential arm's maintenance): what access to ketamine and rTMS, and
   leaving out lithium, esketamine and late CBT, does;
2. + CBT combined with each step (same maintenance);
3. + planned maintenance (maintenance CBT / MBCT, maintenance rTMS) = integrated care.

The order of the links is a choice: a link's size depends on the links before it.
Personalised care: sequential care plus one rule at a time (each rule alone; rules on
the same condition, such as the pair that swaps ECT forward, together), and all rules
(= personalised care; rules interact, so these need not add up).

Writes results/decomposition/<scenario>.csv.
Run: .venv/bin/python experiments/decompose_integrated.py [--patients N]
"""

import argparse
import copy
from pathlib import Path

import pandas as pd

import trdsim
from trdsim.pathways import step_key
from trdsim.scenario import from_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("uk_nhs", "us_payer")
CBT = "cbt_augmentation"


def _plain(step: list[str]) -> list[str]:
    """A step without its CBT component (drug or device alone)."""
    return [c for c in step if c != CBT] or step


def _maintenance_like(seq: dict, steps: list[list[str]]) -> dict:
    """Sequential care's maintenance policy, for steps keyed as `steps` are: a step gets
    what sequential care gives after the same step without CBT, else its default."""
    out = {"default": seq["maintenance"]["default"]}
    for st in steps:
        plain = step_key(_plain(st))
        if plain in seq["maintenance"]:
            out[step_key(st)] = seq["maintenance"][plain]
    return out


def chain(sc: trdsim.Scenario) -> dict[str, dict]:
    """Pathways from sequential to integrated care, one change per link."""
    seq, integ = sc.pathways["sequential"], sc.pathways["integrated"]
    plain_steps = [_plain(st) for st in integ["steps"]]
    base = {k: integ[k] for k in ("on_exhausted", "start")} | {"on_relapse": seq["on_relapse"]}

    def link(steps: list) -> dict:
        maintenance = _maintenance_like(seq, steps)
        given = {m for opts in maintenance.values() for m in opts}
        # sequential care's durations for the options this link gives (a pathway may not
        # time an option it does not give)
        durations = {k: v for k, v in seq.get("maintenance_duration", {}).items() if k in given}
        return (
            base
            | {"steps": steps, "maintenance": maintenance}
            | ({"maintenance_duration": durations} if durations else {})
        )

    return {
        "1. integrated's treatments, one at a time": link(plain_steps),
        "2. + CBT combined with each step": link(integ["steps"]),
    }


def rules_one_at_a_time(sc: trdsim.Scenario) -> dict[str, dict]:
    """Sequential care with each of personalised care's rules alone (rules on the same
    condition together: a pair that swaps two steps is one choice)."""
    pers = sc.pathways["personalised"]
    groups: dict[str, list[int]] = {}
    for j, r in enumerate(pers["rules"]):
        groups.setdefault(r["when"], []).append(j)
    out = {}
    for when, idx in groups.items():
        rules = [pers["rules"][j] for j in idx]
        keys = {"default", "usual_care"} | {step_key(st) for st in pers["steps"]}
        keys |= {step_key(r["components"]) for r in rules}
        maintenance = {k: v for k, v in pers["maintenance"].items() if k in keys}
        swaps = ", ".join(f"step {r['step'] + 1} -> {step_key(r['components'])}" for r in rules)
        label = f"rule{'s' if len(idx) > 1 else ''} {'+'.join(str(j + 1) for j in idx)}"
        # every pathway-level key but the rules and maintenance rebuilt here (a key left out,
        # such as maintenance_duration, would fall back to the library's and move the rule)
        rebuilt = ("rules", "maintenance", "label", "citations")
        kept = {k: v for k, v in pers.items() if k not in rebuilt}
        out[f"{label}: {when}: {swaps}"] = kept | {
            "rules": [
                {"step": r["step"] + 1, "when": r["when"], "components": r["components"]}
                for r in rules
            ],
            "maintenance": maintenance,
        }
    return out


def decompose(name: str, patients: int) -> pd.DataFrame:
    sc = trdsim.load_scenario(name)
    links, rules = chain(sc), rules_one_at_a_time(sc)
    raw = copy.deepcopy(sc.raw)
    raw["pathways"] = {**raw.get("pathways", {}), **links, **rules}
    raw["scenario"]["arms"] = ["sequential", *links, "integrated", *rules, "personalised"]
    res = trdsim.simulate(from_dict(raw, f"decomposition of {name}"), patients=patients)
    s = res.per_arm.set_index("arm")
    rows = []
    path = ["sequential", *links, "integrated"]
    labels = dict(zip(path[1:], [*links, "3. + planned maintenance (= integrated)"], strict=True))
    for prev, arm in zip(path, path[1:], strict=False):
        rows.append(_row(res, s, "integrated: chain", labels[arm], arm, prev))
    rows.append(_row(res, s, "integrated: total", "integrated vs sequential", "integrated"))
    for arm in rules:
        rows.append(_row(res, s, "personalised: each rule alone", arm, arm))
    rows.append(
        _row(res, s, "personalised: all rules", "personalised vs sequential", "personalised")
    )
    table = pd.DataFrame(rows)
    table.insert(0, "scenario", name)
    return table


def _row(res, s, part: str, label: str, arm: str, versus: str = "sequential") -> dict:
    """A paired difference of `arm` from `versus`, with its Monte Carlo SE."""
    p = res.patients
    a = p[p.arm == arm].reset_index(drop=True)
    b = p[p.arm == versus].reset_index(drop=True)
    dc, dq = a.cost - b.cost, a.qaly - b.qaly
    n = len(a)
    return {
        "part": part,
        "change": label,
        "arm": arm,
        "versus": versus,
        "d_cost": dc.mean(),
        "d_cost_se": dc.std(ddof=1) / n**0.5,
        "d_qaly": dq.mean(),
        "d_qaly_se": dq.std(ddof=1) / n**0.5,
        "d_weeks_in_remission": s.loc[arm, "weeks_in_remission"] - s.loc[versus, "weeks_in_remission"],
        "d_relapses": s.loc[arm, "relapses"] - s.loc[versus, "relapses"],
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, default=20_000)
    args = ap.parse_args()
    out = ROOT / "results" / "decomposition"
    out.mkdir(parents=True, exist_ok=True)
    (out / "decomposition.csv").unlink(missing_ok=True)  # the one-at-a-time table it replaces
    for name in SCENARIOS:
        t = decompose(name, args.patients)
        t.to_csv(out / f"{name}.csv", index=False)
        shown = t.drop(columns=["scenario", "arm", "versus"]).round(3)
        print(f"\n{name}\n{shown.to_string(index=False)}")
    print(f"\nwrote {out}/<scenario>.csv")


if __name__ == "__main__":
    main()
