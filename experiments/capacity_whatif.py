"""A planner's question: how many CBT therapists and rTMS chairs does integrated care need?

Run: .venv/bin/python experiments/capacity_whatif.py [--reps 3] [--workers 2] [--years 20]

scenarios/capacity_whatif.toml: 1,000 TRD referrals a year (an illustrative region)
follow integrated care. The sweep varies CBT therapists and rTMS chairs over `--years`
(20: patients stay in the pathway for years, relapse and take later steps, so the
caseload, and the demand for places, grows for about 15 years before it levels off:
with unlimited capacity CBT starts rise from 1,490 in year 1 to 4,765 in year 8 and
6,760 in year 20; the steady-state test takes the years before the last as warm-up);
each combination runs `--reps` times (different referrals and patients). The answer:

* the smallest capacity that meets the wait standard *in steady state*: in every
  replication both queues are stable over the last year (`trdsim care`'s steady-state
  test), and in the last year, averaged over replications, at least 92 % of starts at
  each service were within 18 weeks (patients still waiting past 18 weeks at the end
  count as missed). Shares pooled over the whole horizon are not used: they count the
  first, empty years and hide a queue that grows every year. rTMS is given with CBT,
  so each service's waits depend on the other's; the answer is the fewest therapists,
  then the fewest chairs.
* what each extra therapist buys at the answer's chairs: QALYs and costs for the
  region over the run (discounted), the costs with and without the therapists' own
  cost (library `therapist_week`, paid whether the caseload is full or not).

Writes results/capacity_whatif/: sweep.csv, needs.csv, steady_state.csv,
marginal_therapist.csv, within_target.png, and care_system/ (per-year table, queues,
waits, utilisation at the answer).
"""

import argparse
import shutil
from pathlib import Path

import pandas as pd
from _run import run
from matplotlib.figure import Figure

from trdsim.care_plots import capacity_curves
from trdsim.figure_style import OKABE_ITO, finish, new_figure, styled, titled
from trdsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "capacity_whatif"
THERAPISTS = [80, 90, 100, 110, 120]
CHAIRS = [60, 70, 80, 90]
KEYS = {"care_system.services.cbt.units": "therapists",
        "care_system.services.rtms.units": "chairs"}  # fmt: skip


@styled
def within_target_figure(
    mean: pd.DataFrame,
    need_t: int | None,
    need_c: int | None,
    standard: float,
    target: int,
    years: int,
    path: Path | None = None,
) -> Figure:
    """Share of starts within the wait target by CBT therapists (at the answer's chairs)
    and by rTMS chairs (at the answer's therapists): in the last year (steady state) and
    pooled over the run; the standard dashed, the answer dotted."""
    chairs = need_c or max(CHAIRS)
    therapists = need_t or max(THERAPISTS)
    at_c = mean[mean.chairs == chairs].set_index("therapists").sort_index()
    at_t = mean[mean.therapists == therapists].set_index("chairs").sort_index()
    sc = load_scenario("capacity_whatif")
    fig, axes = new_figure((10, 4), 1, 2)
    for ax, table, col, colour, label, need in [
        (axes[0], at_c, "cbt", OKABE_ITO[2], f"CBT therapists (caseload 20; {chairs} chairs)",
         need_t),
        (axes[1], at_t, "rtms", OKABE_ITO[4],
         f"rTMS chairs (8 patients each; {therapists} therapists)", need_c),
    ]:  # fmt: skip
        ax.plot(table.index, 100 * table[f"{col}_last_year_within_target"], "o-", color=colour,
                label="last year (steady state)")  # fmt: skip
        ax.plot(table.index, 100 * table[f"{col}_within_target"], "s--", color=colour,
                alpha=0.55, label="pooled over the run (misleading)")  # fmt: skip
        ax.axhline(100 * standard, color="black", ls="--", lw=1,
                   label=f"standard: {standard:.0%} within {target} weeks")  # fmt: skip
        if need is not None:
            ax.axvline(need, color=OKABE_ITO[7], ls=":", lw=1, label=f"smallest meeting it: {need}")
        ax.set_xlabel(label)
        ax.set_ylabel(f"% of starts within {target} weeks")
        ax.set_ylim(0, 102)
        ax.legend(frameon=False, fontsize=8, loc="lower left")
    fig.suptitle(
        titled(
            f"Integrated care, 1,000 referrals a year, year {years}: capacity for the "
            f"{target}-week standard",
            sc.name,
            sc.price_year,
        )
    )
    return finish(fig, path)


def sweep_figure(t: pd.DataFrame) -> None:
    """sweep.png: outcomes by therapists, a line per number of chairs."""
    sc = load_scenario("capacity_whatif")
    capacity_curves(
        t,
        "therapists",
        [("share_started_within_target", "share of starts within target"),
         ("qaly_per_referral", "QALYs per referral"),
         ("cost_per_referral", f"cost per referral ({sc.currency})")],
        OUT / "sweep.png",
        by="chairs",
        currency=sc.currency,
        scenario=sc.name,
        price_year=sc.price_year,
        labels={"therapists": "CBT therapists", "chairs": "rTMS chairs"},
    )  # fmt: skip


def redraw() -> None:
    """Draw within_target.png and sweep.png again from the CSV files a run wrote (no
    simulation)."""
    t = pd.read_csv(OUT / "sweep.csv")
    sweep_figure(t)
    mean = pd.read_csv(OUT / "steady_state.csv")
    needs = pd.read_csv(OUT / "needs.csv").set_index("service").needed
    within_target_figure(
        mean,
        None if pd.isna(needs["CBT therapists"]) else int(needs["CBT therapists"]),
        None if pd.isna(needs["rTMS chairs"]) else int(needs["rTMS chairs"]),
        float(t.wait_standard_share.iloc[0]),
        int(t.wait_target_weeks.iloc[0]),
        int(t["care_system.years"].iloc[0]),
        OUT / "within_target.png",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--redraw", action="store_true", help="only redraw the figure from the CSVs")
    args = ap.parse_args()
    if args.redraw:
        redraw()
        return
    sweep_dir = OUT / "sweep"
    shutil.rmtree(sweep_dir, ignore_errors=True)  # a fresh sweep, not a resume
    argv = ["sweep", "capacity_whatif", "--reps", str(args.reps), "--out", str(sweep_dir),
            "--grid", "care_system.services.cbt.units=" + ",".join(map(str, THERAPISTS)),
            "--grid", "care_system.services.rtms.units=" + ",".join(map(str, CHAIRS)),
            "--grid", f"care_system.years={args.years}"]  # fmt: skip
    if args.workers:
        argv += ["--workers", str(args.workers)]
    run(argv)
    t = pd.read_parquet(sweep_dir / "sweep.parquet").rename(columns=KEYS)
    t.to_csv(OUT / "sweep.csv", index=False)
    t["growing"] = t.steady_state != "stable"
    by = t.groupby(["therapists", "chairs"])
    mean = by.mean(numeric_only=True).reset_index()
    mean["runs_growing"] = by.growing.sum().to_numpy()
    standard = float(t.wait_standard_share.iloc[0])
    target = int(t.wait_target_weeks.iloc[0])
    mean["meets"] = (
        (mean.runs_growing == 0)
        & (mean.cbt_last_year_within_target >= standard)
        & (mean.rtms_last_year_within_target >= standard)
    )
    cols = ["therapists", "chairs", "runs_growing", "cbt_last_year_within_target",
            "rtms_last_year_within_target", "cbt_last_year_utilisation",
            "rtms_last_year_utilisation", "cbt_last_year_mean_wait", "rtms_last_year_mean_wait",
            "cbt_last_year_queue_end", "rtms_last_year_queue_end", "cbt_within_target",
            "rtms_within_target", "meets"]  # fmt: skip
    mean[cols].to_csv(OUT / "steady_state.csv", index=False)
    best = mean[mean.meets].sort_values(["therapists", "chairs"]).head(1)
    need_t = int(best.therapists.iloc[0]) if len(best) else None
    need_c = int(best.chairs.iloc[0]) if len(best) else None
    at_c = mean[mean.chairs == (need_c or max(CHAIRS))].set_index("therapists")
    at_t = mean[mean.therapists == (need_t or max(THERAPISTS))].set_index("chairs")
    needs = []
    for service, n, other, table, col in [
        ("CBT therapists", need_t, need_c or max(CHAIRS), at_c, "cbt"),
        ("rTMS chairs", need_c, need_t or max(THERAPISTS), at_t, "rtms"),
    ]:
        row = {"service": service, "needed": n, "other_service_at": other}
        for k, r in table.iterrows():
            row[f"last_year_within_{target}w_at_{k}"] = r[f"{col}_last_year_within_target"]
            row[f"runs_growing_at_{k}"] = r.runs_growing
            row[f"pooled_within_{target}w_at_{k}"] = r[f"{col}_within_target"]
        needs.append(row)
    pd.DataFrame(needs).to_csv(OUT / "needs.csv", index=False)
    chairs = need_c or max(CHAIRS)
    m = mean[mean.chairs == chairs].sort_values("therapists")
    d = m[["therapists", "qaly", "cost", "cost_total", "cost_capacity"]].diff().iloc[1:]
    marginal = pd.DataFrame(
        {
            "therapists": m.therapists.to_numpy()[1:],
            "qaly_gain_per_extra_therapist": (d.qaly / d.therapists).to_numpy(),
            "care_cost_per_extra_therapist": (d.cost / d.therapists).to_numpy(),
            "total_cost_per_extra_therapist": (d.cost_total / d.therapists).to_numpy(),
            "runs_growing": m.runs_growing.to_numpy()[1:],
            "cbt_last_year_within_target": m.cbt_last_year_within_target.to_numpy()[1:],
        }
    )
    marginal["icer_care_costs"] = (
        marginal.care_cost_per_extra_therapist / marginal.qaly_gain_per_extra_therapist
    )
    marginal["icer_with_staff_and_waiting"] = (
        marginal.total_cost_per_extra_therapist / marginal.qaly_gain_per_extra_therapist
    )
    marginal.to_csv(OUT / "marginal_therapist.csv", index=False)
    within_target_figure(
        mean, need_t, need_c, standard, target, args.years, OUT / "within_target.png"
    )
    sweep_figure(t)
    shutil.rmtree(OUT / "care_system", ignore_errors=True)
    run(["care", "capacity_whatif", "--out", str(OUT / "care_system"),
         "--set", f"care_system.years={args.years}",
         "--set", f"care_system.services.cbt.units={need_t or max(THERAPISTS)}",
         "--set", f"care_system.services.rtms.units={chairs}"])  # fmt: skip
    print(f"\nSteady state, last of {args.years} years (mean of {args.reps} replications):")
    print(mean[cols].to_string(index=False, float_format="{:,.3f}".format))
    print(f"\nSmallest capacity meeting {standard:.0%} within {target} weeks in steady state: "
          f"{need_t} therapists, {need_c} chairs")  # fmt: skip
    print(marginal.to_string(index=False, float_format="{:,.3f}".format))


if __name__ == "__main__":
    main()
