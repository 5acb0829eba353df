"""A planner's question: how many CBT therapists, IV ketamine chairs and rTMS chairs
does integrated care need?

Run: .venv/bin/python experiments/capacity_whatif.py [--reps 3] [--workers 2] [--years 20]

scenarios/capacity_whatif.toml: 1,000 TRD referrals a year (an illustrative region)
follow integrated care, whose later steps give CBT with IV ketamine and CBT with rTMS.
The sweep varies the three services over `--years` (20: patients stay in the pathway
for years, relapse and are treated again, so the caseload, and the demand for places,
grows for about 15 years before it levels off; the steady-state test takes the years
before the last as warm-up); each combination runs `--reps` times (different referrals
and patients). A step needing two services starts when both have a place, and holds
each place while that component's course runs (an rTMS chair for the rTMS course, not
for the CBT given with it). The answer:

* the smallest capacity that meets the wait standard *in steady state*: in every
  replication every queue is stable over the last year (`trdsim care`'s steady-state
  test), and in the last year, averaged over replications, at least 92 % of starts at
  each service started within 18 weeks (`trdsim.care_result.within_target_share`:
  patients still waiting past 18 weeks at the end count as over). Shares pooled over
  the whole horizon are not used: they count the first, empty years and hide a queue
  that grows every year. The services' waits
  depend on each other (a combined step waits for both), so the answer is the fewest
  therapists, then the fewest ketamine chairs, then the fewest rTMS chairs.
* what each extra therapist buys at the answer's chairs: QALYs and costs for the
  region over the run (discounted), the costs with and without the therapists' own
  cost (library `therapist_week`, paid whether the caseload is full or not).

Writes results/capacity_whatif/: sweep.csv, needs.csv, steady_state.csv,
marginal_therapist.csv, within_target.png, sweep.png, and care_system/ (per-year
table, queues, waits, utilisation at the answer).
"""

import argparse
import shutil
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from tqdm import tqdm

import trdsim
from trdsim.care_plots import capacity_curves
from trdsim.care_result import within_target_label
from trdsim.plots.style import OKABE_ITO, finish, new_figure, styled, titled
from trdsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "capacity_whatif"
SCENARIO = "capacity_whatif"
# the grid of each service, in the order the answer minimises them (around the
# steady-state demand with unlimited capacity, measured again after the relapse model
# of issue 29: places in use in year 20 of about 69 therapists' caseloads, 17 ketamine
# chairs' and 14 rTMS chairs'; the model's demand fell with its relapses)
GRID = {
    "cbt": [68, 70, 72, 75, 80],
    "ketamine": [17, 18, 20, 22],
    "rtms": [14, 15, 16, 18],
}
COLOURS = {"cbt": OKABE_ITO[2], "ketamine": OKABE_ITO[5], "rtms": OKABE_ITO[4]}


def _key(service: str) -> str:
    return f"care_system.services.{service}.units"


def _labels() -> dict[str, str]:
    """Each service's label in the scenario ('CBT therapists', ...)."""
    services = load_scenario(SCENARIO).care_system["services"]
    return {s: services[s]["label"] for s in GRID}


def _at(mean: pd.DataFrame, service: str, answer: dict[str, int]) -> pd.DataFrame:
    """The grid points varying `service`, the other services at the answer's units."""
    keep = pd.Series(True, index=mean.index)
    for other in GRID:
        if other != service:
            keep &= mean[other] == answer[other]
    return mean[keep].set_index(service).sort_index()


@styled
def within_target_figure(
    mean: pd.DataFrame,
    answer: dict[str, int],
    met: bool,
    standard: float,
    target: int,
    years: int,
    path: Path | None = None,
) -> Figure:
    """By units of each service, the others at the answer: the share of the last year's
    starts within the wait target and pooled over the run, the last year's utilisation,
    and the runs whose queue still grows in the last year (marked, with their count):
    what decides whether the standard is met in steady state."""
    sc = load_scenario(SCENARIO)
    labels = _labels()
    reps = int(mean.attrs.get("reps", 0)) or None
    fig, axes = new_figure((13, 4.4), 1, len(GRID))
    for ax, service in zip(axes, GRID, strict=True):
        table = _at(mean, service, answer)
        colour = COLOURS[service]
        x = table.index
        ax.plot(x, 100 * table[f"{service}_last_year_within_target"], "o-", color=colour,
                label=f"{within_target_label(target)}, last year")  # fmt: skip
        ax.plot(x, 100 * table[f"{service}_within_target"], "s--", color=colour, alpha=0.55,
                label=f"{within_target_label(target)}, over the whole run")  # fmt: skip
        ax.plot(x, 100 * table[f"{service}_last_year_utilisation"], "^:", color="black",
                label="utilisation, last year")  # fmt: skip
        growing = table[table.runs_growing > 0]
        ax.plot(growing.index, 100 * growing[f"{service}_last_year_utilisation"], "X",
                color=OKABE_ITO[1], ms=11, ls="none", label="a queue still growing")  # fmt: skip
        for k, r in growing.iterrows():
            runs = f"{int(r.runs_growing)}/{reps}" if reps else f"{int(r.runs_growing)}"
            ax.annotate(f"{runs} growing", (k, 100 * r[f"{service}_last_year_utilisation"]),
                        textcoords="offset points", xytext=(0, -16), ha="center",
                        fontsize=7, color=OKABE_ITO[1])  # fmt: skip
        ax.axhline(100 * standard, color="grey", ls="--", lw=1,
                   label=f"standard: {standard:.0%} {within_target_label(target)}")  # fmt: skip
        if met:
            ax.axvline(answer[service], color=OKABE_ITO[7], ls=":", lw=1,
                       label=f"smallest meeting it: {answer[service]}")  # fmt: skip
        others = ", ".join(f"{answer[o]} {labels[o]}" for o in GRID if o != service)
        ax.set_xlabel(f"{labels[service]}\n(with {others})", fontsize=8)
        ax.set_ylabel("%")
        ax.set_ylim(40, 104)
        ax.legend(frameon=False, fontsize=7, loc="lower left")
    fig.suptitle(
        titled(
            f"Integrated care, 1,000 referrals a year, year {years}: {within_target_label(target)}"
            ", utilisation and queues still growing, by capacity",
            sc.name,
            sc.price_year,
        ),
        fontsize=10,
    )
    return finish(fig, path)


def sweep_figure(t: pd.DataFrame, answer: dict[str, int]) -> None:
    """sweep.png: outcomes by therapists, a line per number of rTMS chairs (ketamine
    chairs at the answer's)."""
    sc = load_scenario(SCENARIO)
    labels = _labels()
    capacity_curves(
        t[t.ketamine == answer["ketamine"]],
        "cbt",
        [("share_started_within_target", within_target_label()),
         ("qaly_per_referral", "QALYs per referral"),
         ("cost_per_referral", f"cost per referral ({sc.currency})")],
        OUT / "sweep.png",
        by="rtms",
        currency=sc.currency,
        scenario=sc.name,
        price_year=sc.price_year,
        labels={"cbt": labels["cbt"], "rtms": labels["rtms"]},
    )  # fmt: skip


def steady_state(t: pd.DataFrame) -> pd.DataFrame:
    """Per grid point, the means over replications, how many runs have a growing queue,
    and whether the point meets the standard in steady state."""
    t = t.assign(growing=t.steady_state != "stable")
    by = t.groupby(list(GRID))
    mean = by.mean(numeric_only=True).reset_index()
    mean["runs_growing"] = by.growing.sum().to_numpy()
    standard = float(t.wait_standard_share.iloc[0])
    mean["meets"] = mean.runs_growing == 0
    for s in GRID:
        mean["meets"] &= mean[f"{s}_last_year_within_target"] >= standard
    return mean


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--years", type=int, default=20)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sweep_dir = OUT / "sweep"
    shutil.rmtree(sweep_dir, ignore_errors=True)  # a fresh sweep, not a resume
    grid = {_key(s): units for s, units in GRID.items()}
    grid["care_system.years"] = [args.years]
    runs = args.reps
    for units in GRID.values():
        runs *= len(units)
    with tqdm(total=runs, desc="capacity sweep", unit=" runs") as bar:
        result = trdsim.care_sweep(SCENARIO, grid, args.reps, folder=sweep_dir,
                                   workers=args.workers, progress=bar.update)  # fmt: skip
    result.write(sweep_dir)
    t = result.runs.rename(columns={_key(s): s for s in GRID})
    t.to_csv(OUT / "sweep.csv", index=False)
    standard = float(t.wait_standard_share.iloc[0])
    target = int(t.wait_target_weeks.iloc[0])
    mean = steady_state(t)
    mean.attrs["reps"] = args.reps
    cols = [*GRID, "runs_growing"]
    for what in ("last_year_within_target", "last_year_utilisation", "last_year_mean_wait",
                 "last_year_queue_end", "within_target", "binding"):  # fmt: skip
        cols += [f"{s}_{what}" for s in GRID]
    mean[[*cols, "meets"]].to_csv(OUT / "steady_state.csv", index=False)
    best = mean[mean.meets].sort_values(list(GRID)).head(1)
    met = len(best) > 0
    # no point meets it: the largest of each service is shown, and the answer is empty
    answer = {s: int(best[s].iloc[0]) if met else max(GRID[s]) for s in GRID}
    labels = _labels()
    needs = []
    for s in GRID:
        row = {"service": labels[s], "needed": answer[s] if met else None,
               **{f"{o}_at": answer[o] for o in GRID if o != s}}  # fmt: skip
        for k, r in _at(mean, s, answer).iterrows():
            row[f"last_year_within_{target}w_at_{k}"] = r[f"{s}_last_year_within_target"]
            row[f"runs_growing_at_{k}"] = r.runs_growing
            row[f"pooled_within_{target}w_at_{k}"] = r[f"{s}_within_target"]
        needs.append(row)
    pd.DataFrame(needs).to_csv(OUT / "needs.csv", index=False)
    m = _at(mean, "cbt", answer).reset_index()
    d = m[["cbt", "qaly", "cost", "cost_total", "cost_capacity"]].diff().iloc[1:]
    marginal = pd.DataFrame(
        {
            "therapists": m.cbt.to_numpy()[1:],
            "qaly_gain_per_extra_therapist": (d.qaly / d.cbt).to_numpy(),
            "care_cost_per_extra_therapist": (d.cost / d.cbt).to_numpy(),
            "total_cost_per_extra_therapist": (d.cost_total / d.cbt).to_numpy(),
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
    within_target_figure(mean, answer, met, standard, target, args.years,
                         OUT / "within_target.png")  # fmt: skip
    sweep_figure(t, answer)
    settings = {"care_system.years": args.years, **{_key(s): n for s, n in answer.items()}}
    weeks = 52 * args.years
    with tqdm(total=weeks, desc="care system at the answer", unit=" weeks") as bar:
        care = trdsim.care(SCENARIO, settings=settings, progress=bar.update)
    shutil.rmtree(OUT / "care_system", ignore_errors=True)
    care.write(OUT / "care_system")
    print(f"\nSteady state, last of {args.years} years (mean of {args.reps} replications):")
    print(mean[cols].to_string(index=False, float_format="{:,.3f}".format))
    if met:
        print(f"\nSmallest capacity meeting {standard:.0%} within {target} weeks in steady "
              "state: " + ", ".join(f"{answer[s]} {labels[s]}" for s in GRID))  # fmt: skip
    else:
        print(f"\nNo capacity in the grid meets {standard:.0%} within {target} weeks in "
              "steady state: widen GRID.")  # fmt: skip
    print(marginal.to_string(index=False, float_format="{:,.3f}".format))
    print(care.summary())


if __name__ == "__main__":
    main()
