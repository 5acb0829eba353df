"""Scenario sweeps of the care-system model: a grid x replications, serial or on dask.

Each run is one `CareSystemModel` over the whole horizon with one combination of grid
values and one replication (seed = the scenario's seed + replication). Each finished
run is written at once to OUT/runs/ (write, then rename): an interrupted sweep rerun
with the same arguments does only the missing runs, and the final table does not
depend on where or in which order runs were done.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

from trdsim._version import __version__
from trdsim.care_result import within_target_label
from trdsim.care_system import CareSystemModel
from trdsim.errors import ScenarioError, TrdsimError
from trdsim.runtime.distributed import claim_folder, dask_client, write_atomic
from trdsim.scenario import Scenario
from trdsim.store.manifest import make_manifest
from trdsim.store.result import ResultBase
from trdsim.store.tables import Table, as_written

__all__ = ["RUN_FILE", "SweepResult", "parse_grid", "run_one", "run_sweep", "runs", "sweep"]

RUN_FILE = "sweep_run.json"
RUN_DIR = "runs"
TABLE = "sweep.parquet"


def _value(text: str):
    t = text.strip()
    for cast in (int, float):
        try:
            return cast(t)
        except ValueError:
            pass
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    return t


def parse_grid(specs: list[str], scenario: Scenario) -> dict[str, list]:
    """--grid KEY=V1,V2,... into {key: [values]}, every key and value checked now."""
    grid: dict[str, list] = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise TrdsimError(f"--grid {spec!r}: write KEY=V1,V2,...")
        parts = key.split(".")
        if parts[:2] == ["care_system", "services"] and len(parts) >= 3:
            known = (scenario.care_system or {}).get("services", {})
            if parts[2] not in known:
                raise ScenarioError(
                    scenario.source, key, parts[2],
                    f"unknown service; known: {', '.join(sorted(known)) or 'none'}",
                )  # fmt: skip
        if key in grid:  # a second --grid of one key would silently replace the first
            raise TrdsimError(
                f"--grid {spec!r}: {key} is already given ({key}="
                f"{','.join(map(str, grid[key]))}); give each key once with all its values"
            )
        grid[key] = [_value(v) for v in values.split(",") if v.strip()]
        for v in grid[key]:  # each value must give a valid scenario
            scenario.with_values({key: v})
    return grid


def runs(grid: dict[str, list], reps: int, seed: int) -> list[dict]:
    """One entry per run: id, replication, seed and the grid's values."""
    out = []
    combos = list(itertools.product(*grid.values())) if grid else [()]
    for rep in range(reps):
        for combo in combos:
            out.append(
                {
                    "run": len(out),
                    "rep": rep,
                    "seed": seed + rep,
                    **dict(zip(grid, combo, strict=True)),
                }
            )
    return out


def run_one(scenario: Scenario, run: dict, grid_keys: list[str]) -> pd.DataFrame:
    """Simulate one run; a one-row table of its settings and outcomes."""
    settings = {k: run[k] for k in grid_keys}
    model = CareSystemModel(scenario.with_values(settings), rng=run["seed"])
    model.run_model()
    return pd.DataFrame([{**run, **model.summary()}])


def run_sweep(
    scenario: Scenario,
    grid: dict[str, list],
    reps: int,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
    on_run: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Run (or resume) the sweep into `out`; returns one row per run."""
    if scenario.care_system is None:
        raise ScenarioError(
            scenario.source, "care_system", "(missing)", "a sweep needs a [care_system] section"
        )
    if reps < 1:
        raise TrdsimError(f"--reps {reps}: must be at least 1")
    todo_all = runs(grid, reps, scenario.seed)
    out = Path(out)
    identity = {
        "scenario_hash": scenario.hash,
        "grid": {k: [str(v) for v in vs] for k, vs in grid.items()},
        "reps": reps,
        "version": __version__,
    }
    client, cluster = (
        (None, None) if workers is None and scheduler is None else dask_client(workers, scheduler)
    )
    try:
        claim_folder(out, RUN_FILE, identity, "sweep")
        if (out / TABLE).exists():
            if progress is not None:
                progress(len(todo_all))
            return pd.read_parquet(out / TABLE)
        (out / RUN_DIR).mkdir(exist_ok=True)

        def path(r: dict) -> Path:
            return out / RUN_DIR / f"run_{r['run']:06d}.parquet"

        todo = [r for r in todo_all if not path(r).exists()]
        done = len(todo_all) - len(todo)
        if progress is not None and done:
            progress(done)

        def save(r: dict, df: pd.DataFrame) -> None:
            nonlocal done
            write_atomic(df, path(r))
            done += 1
            if progress is not None:
                progress(1)
            if on_run is not None:
                on_run(done)

        keys = list(grid)
        if client is None:
            for r in todo:
                save(r, run_one(scenario, r, keys))
        else:
            from dask.distributed import as_completed

            sc = client.scatter(scenario, broadcast=True)
            futures = {client.submit(run_one, sc, r, keys, pure=False): r for r in todo}
            for fut in as_completed(futures):
                save(futures[fut], fut.result())
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    table = pd.concat([pd.read_parquet(path(r)) for r in todo_all], ignore_index=True)
    table = table.sort_values("run").reset_index(drop=True)
    write_atomic(table, out / TABLE)
    shutil.rmtree(out / RUN_DIR)
    return table


# the outcomes a sweep's figure and summary show, with their labels (the share within the
# target is care_result.within_target_share, pooled over the services and the run)
OUTCOMES = (
    ("share_started_within_target", within_target_label()),
    ("qaly_per_referral", "QALYs per referral"),
    ("cost_per_referral", "cost per referral"),
)


@dataclass(eq=False, repr=False)
class SweepResult(ResultBase):
    """A sweep: one row per run (grid values, replication, seed and the run's summary,
    steady-state verdict included). The manifest holds the grid and replications."""

    ANALYSIS: ClassVar[str] = "sweep"
    MAIN: ClassVar[str] = "runs"
    TABLES: ClassVar[dict[str, Table]] = {"runs": Table("sweep.csv", ("run", "rep", "seed"))}
    FIGURE: ClassVar[str] = "sweep.png"

    manifest: dict
    runs: pd.DataFrame

    @property
    def grid_keys(self) -> list[str]:
        """The swept settings, in the order given."""
        return list(self.manifest["grid"])

    def means(self) -> pd.DataFrame:
        """The outcomes' means over replications, per grid point."""
        keys = self.grid_keys or ["rep"]
        return self.runs.groupby(keys)[[k for k, _ in OUTCOMES]].mean()

    def summary(self) -> str:
        """The means per grid point (the share within the target labelled as everywhere),
        how many runs have a growing queue, and which services bind in them."""
        means = self.means().rename(columns=dict(OUTCOMES))
        text = means.to_string(float_format="{:.4g}".format)
        if "steady_state" in self.runs:
            growing = int((self.runs.steady_state == "growing").sum())
            text += f"\n{growing} of {len(self.runs)} runs have a growing queue in their last year"
            if "binding_services" in self.runs:
                # a run with none binding has "" (read back from a table as "" or nan)
                names = [n for x in self.runs.binding_services if isinstance(x, str)
                         for n in x.split(",") if n]  # fmt: skip
                counts = pd.Series(names, dtype=object).value_counts()
                if len(counts):
                    text += "; binding service: " + ", ".join(
                        f"{k} in {v}" for k, v in counts.items()
                    )
        return text

    def plot(self):
        """Outcomes against the first swept setting (a line per value of the second)."""
        from trdsim import care_plots

        keys = self.grid_keys
        if not keys:
            raise ValueError("a sweep without a grid has nothing to plot against")
        cur = self.manifest["currency"]
        outcomes = [(k, f"{lab} ({cur})" if k.startswith("cost") else lab) for k, lab in OUTCOMES]
        return care_plots.capacity_curves(
            self.runs, keys[0], outcomes, by=keys[1] if len(keys) > 1 else None, currency=cur,
            scenario=self.manifest["scenario"], price_year=self.manifest["price_year"],
            labels=care_plots.grid_labels(self.manifest.get("care_system") or {}, keys),
        )  # fmt: skip

    def _figures(self, folder: Path) -> list[Path]:
        # a sweep without a grid has no outcome curve to draw
        return super()._figures(folder) if self.grid_keys else []


def sweep(
    scenario: Scenario,
    grid: dict[str, list],
    reps: int,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """`run_sweep` (resumable in `out`) as a result object."""
    table = run_sweep(scenario, grid, reps, out, workers, scheduler, progress)
    m = make_manifest(scenario, SweepResult.ANALYSIS, scenario.seed, reps=reps,
                      grid={k: list(v) for k, v in grid.items()},
                      seeds=sorted({int(x) for x in table.seed}))  # fmt: skip
    m.pop("patients")  # referrals arrive at random: there is no fixed number
    m["care_system"] = scenario.care_system
    return SweepResult(m, as_written(table))
