"""The uncertainty analysis of a PSA table, written to a folder (tables, summary, figures)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from trdsim.analysis import plots
from trdsim.analysis.decision import (
    ceac,
    check_table,
    default_thresholds,
    evpi,
    frontier,
    population_factor,
)
from trdsim.analysis.evppi import evppi_tables
from trdsim.analysis.evsi import Study, enbs, evsi
from trdsim.analysis.psa import summarise

__all__ = ["Population", "write_analysis", "write_evsi"]


@dataclass(frozen=True)
class Population:
    """Who benefits from resolving the uncertainty: people per year, years, discount rate."""

    per_year: float
    years: int
    rate: float

    @property
    def factor(self) -> float:
        """Discounted number of people over the years the decision holds."""
        return population_factor(self.per_year, self.years, self.rate)


def write_analysis(
    draws: pd.DataFrame,
    out: Path,
    thresholds: list[float],
    currency: str,
    groups: dict[str, list[str]] | None = None,
    population: Population | None = None,
    patients: int | None = None,
    figures: bool = True,
    progress: Callable[[int], None] | None = None,
    evppi_method: str = "auto",
    scenario: str | None = None,
    price_year: int | None = None,
) -> tuple[list[Path], dict]:
    """Frontier, CEAC/CEAF, EVPI (+ population), EVPPI per group and the PSA summary.

    thresholds: the decision thresholds (EVPPI and the summary use these); the CEAC,
    EVPI and EVPPI curves use a grid from 0 to twice the largest. Returns (paths,
    summary dict). progress is called once per EVPPI group. scenario and price_year,
    when known, are named in the figures' titles.
    """
    df = check_table(draws)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def target(name: str) -> Path:
        written.append(out / name)
        return out / name

    grid = default_thresholds(thresholds)
    summary, warnings = summarise(df, thresholds, patients)
    summary.to_csv(target("psa_summary.csv"), index=False)
    front = frontier(df, thresholds)
    front.to_csv(target("frontier.csv"), index=False)
    curve = ceac(df, grid)
    curve.to_csv(target("ceac.csv"), index=False)
    value = evpi(df, grid)
    if population is not None:
        value["population_evpi"] = value.evpi * population.factor
    value.to_csv(target("evpi.csv"), index=False)
    partial = partial_curve = None
    if groups:
        partial, partial_curve = evppi_tables(
            df, groups, thresholds, grid, method=evppi_method, progress=progress
        )
        if population is not None:
            partial["population_evppi"] = partial.evppi * population.factor
            partial_curve["population_evppi"] = partial_curve.evppi * population.factor
        partial.to_csv(target("evppi.csv"), index=False)
        partial_curve.to_csv(target("evppi_curve.csv"), index=False)
    at = value[value.threshold.isin(thresholds)]
    info = {
        "draws": int(df.draw.nunique()),
        "arms": list(df.arm.cat.categories),
        "thresholds": thresholds,
        "currency": currency,
        "patients_per_draw": patients,
        "population": population.__dict__ if population else None,
        "evpi_per_person": dict(zip(at.threshold.map("{:g}".format), at.evpi, strict=True)),
        "optimal_arm": dict(zip(at.threshold.map("{:g}".format), at.optimal_arm, strict=True)),
        "warnings": warnings,
    }
    if partial is not None:
        info["evppi_method"] = sorted(set(partial.method))
        info["evppi_clipped"] = int(partial_curve.clipped.sum())
    if population is not None:
        info["evpi_population"] = {
            f"{t:g}": v * population.factor for t, v in zip(at.threshold, at.evpi, strict=True)
        }
    target("psa_summary.json").write_text(json.dumps(info, indent=2))
    if figures:
        about = {"scenario": scenario, "price_year": price_year}
        plots.ce_plane(df, thresholds, currency, target("ce_plane.png"), **about)
        plots.ceac_figure(curve, currency, target("ceac.png"), marks=thresholds, **about)
        plots.evpi_figure(
            value, currency, target("evpi.png"), population.factor if population else None,
            **about,
        )  # fmt: skip
        if partial is not None:
            for lam in thresholds:
                plots.evppi_figure(
                    partial[partial.threshold == lam], currency, target(f"evppi_{lam:g}.png"),
                    **about,
                )  # fmt: skip
            plots.evppi_curve_figure(
                partial_curve, partial, currency, target("evppi_curve.png"), **about
            )
    return written, info


def write_evsi(
    draws: pd.DataFrame,
    out: Path,
    study: Study,
    sizes: list[int],
    thresholds: list[float],
    currency: str,
    population: Population | None = None,
    fixed_cost: float = 0.0,
    cost_per_patient: float = 0.0,
    method: str = "auto",
    seed: int = 0,
    figures: bool = True,
    scenario: str | None = None,
    price_year: int | None = None,
) -> tuple[list[Path], pd.DataFrame]:
    """EVSI (and ENBS when a population is given) of a study over sizes and thresholds:
    evsi.csv, evsi.json (the design and the optimum) and evsi_<threshold>.png.

    Everything is computed before the folder is made, so bad input writes nothing.
    """
    df = check_table(draws)
    table = evsi(df, study, sizes, thresholds, method=method, seed=seed)
    if population is not None:
        table = enbs(table, study, population.factor, fixed_cost, cost_per_patient)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "evsi.csv", out / "evsi.json"]
    table.to_csv(written[0], index=False)
    info = {
        "study": study.__dict__ | {"arms": study.arms},
        "sizes_per_arm": sizes,
        "thresholds": thresholds,
        "currency": currency,
        "method": sorted(set(table.method)),
        "population": population.__dict__ if population else None,
        "fixed_cost": fixed_cost,
        "cost_per_patient": cost_per_patient,
        "clipped_to_evppi": int(table.clipped.sum()),
    }
    if population is not None:
        # 0: no study size in the grid has a positive ENBS
        best = table[table.optimal].set_index("threshold")
        info["optimal_n"] = {f"{t:g}": int(best.n.get(t, 0)) for t in thresholds}
        info["optimal_enbs"] = {f"{t:g}": float(best.enbs.get(t, 0.0)) for t in thresholds}
    written[1].write_text(json.dumps(info, indent=2))
    if figures:
        for lam in thresholds:
            path = out / f"evsi_{lam:g}.png"
            plots.evsi_figure(
                table[table.threshold == lam], currency, path,
                scenario=scenario, price_year=price_year,
            )  # fmt: skip
            written.append(path)
    return written, table
