"""A planner's question: how many CBT therapists and rTMS chairs does integrated care need?

Run: .venv/bin/python experiments/capacity_whatif.py [--reps 3] [--workers 2]

scenarios/capacity_whatif.toml: 1,000 TRD referrals a year (an illustrative region)
follow integrated care for 5 years. The sweep varies CBT therapists and rTMS chairs;
each combination runs `--reps` times (different referrals and patients). The answer:

* the fewest therapists and chairs with >= 92 % of starts within 18 weeks at both
  services (rTMS is given with CBT, so each service's waits depend on the other's;
  mean over replications; patients still waiting past 18 weeks at the end count as
  missed);
* what each extra therapist buys: QALYs and NHS costs for the region over 5 years
  (discounted; the model's costs are the sessions and drugs delivered, so staff are
  paid through the session unit costs, not as salaries).

Writes results/capacity_whatif/: sweep.csv, needs.csv, marginal_therapist.csv,
sweep.png, within_target.png, and care_system/ (queues, waits, utilisation at the
answer).
"""

import argparse
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from _run import run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "capacity_whatif"
THERAPISTS = [28, 32, 36, 40, 44]
CHAIRS = [8, 12, 16, 20, 24]
TARGET = 0.92


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workers", type=int)
    args = ap.parse_args()
    sweep_dir = OUT / "sweep"
    shutil.rmtree(sweep_dir, ignore_errors=True)  # a fresh sweep, not a resume
    argv = ["sweep", "capacity_whatif", "--reps", str(args.reps), "--out", str(sweep_dir),
            "--grid", "care_system.services.cbt.units=" + ",".join(map(str, THERAPISTS)),
            "--grid", "care_system.services.rtms.units=" + ",".join(map(str, CHAIRS))]  # fmt: skip
    if args.workers:
        argv += ["--workers", str(args.workers)]
    run(argv)
    t = pd.read_parquet(sweep_dir / "sweep.parquet")
    t = t.rename(columns={"care_system.services.cbt.units": "therapists",
                          "care_system.services.rtms.units": "chairs"})  # fmt: skip
    t.to_csv(OUT / "sweep.csv", index=False)
    mean = t.groupby(["therapists", "chairs"]).mean(numeric_only=True).reset_index()
    # a combined step (rTMS with CBT) needs a place in both services, so each service's
    # waits depend on the other's capacity: the answer is the smallest combination at
    # which both meet the target (fewest therapists, then fewest chairs)
    ok = mean[(mean.cbt_within_target >= TARGET) & (mean.rtms_within_target >= TARGET)]
    best = ok.sort_values(["therapists", "chairs"]).head(1)
    need_t = int(best.therapists.iloc[0]) if len(best) else None
    need_c = int(best.chairs.iloc[0]) if len(best) else None
    at_c = mean[mean.chairs == (need_c or max(CHAIRS))].set_index("therapists")
    at_t = mean[mean.therapists == (need_t or max(THERAPISTS))].set_index("chairs")
    cbt, rtms = at_c.cbt_within_target, at_t.rtms_within_target
    pd.DataFrame(
        [{"service": "CBT therapists", "needed": need_t, "other_service_at": need_c or max(CHAIRS),
          **{f"within_18w_at_{k}": v for k, v in cbt.items()}},
         {"service": "rTMS chairs", "needed": need_c, "other_service_at": need_t or max(THERAPISTS),
          **{f"within_18w_at_{k}": v for k, v in rtms.items()}}]
    ).to_csv(OUT / "needs.csv", index=False)  # fmt: skip
    chairs = need_c or max(CHAIRS)
    m = mean[mean.chairs == chairs].sort_values("therapists")
    marginal = pd.DataFrame(
        {
            "therapists": m.therapists.to_numpy()[1:],
            "extra_therapists": m.therapists.diff().to_numpy()[1:],
            "qaly_gain_per_extra_therapist": (m.qaly.diff() / m.therapists.diff()).to_numpy()[1:],
            "cost_per_extra_therapist": (m.cost.diff() / m.therapists.diff()).to_numpy()[1:],
            "cbt_within_target": m.cbt_within_target.to_numpy()[1:],
        }
    )
    marginal["icer"] = marginal.cost_per_extra_therapist / marginal.qaly_gain_per_extra_therapist
    marginal.to_csv(OUT / "marginal_therapist.csv", index=False)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].plot(cbt.index, 100 * cbt.values, "o-", color="#1b9e77")
    axes[0].set_xlabel("CBT therapists (caseload 20 each)")
    axes[1].plot(rtms.index, 100 * rtms.values, "o-", color="#d95f02")
    axes[1].set_xlabel("rTMS chairs (8 patients each)")
    for ax in axes:
        ax.axhline(100 * TARGET, color="black", ls="--", lw=1)
        ax.set_ylabel("% of starts within 18 weeks")
        ax.set_ylim(0, 102)
    fig.suptitle("Integrated care, 1,000 referrals a year: capacity for the 18-week standard")
    fig.tight_layout()
    fig.savefig(OUT / "within_target.png", dpi=200)
    plt.close(fig)
    (sweep_dir / "sweep.png").replace(OUT / "sweep.png")
    run(["care", "capacity_whatif", "--out", str(OUT / "care_system"),
         "--set", f"care_system.services.cbt.units={need_t or max(THERAPISTS)}",
         "--set", f"care_system.services.rtms.units={chairs}"])  # fmt: skip
    print(f"\nNeeded for {TARGET:.0%} within 18 weeks: {need_t} therapists, {need_c} chairs")
    print(marginal.to_string(index=False, float_format="{:,.3f}".format))


if __name__ == "__main__":
    main()
