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
from trdsim.analysis.evppi import evppi_table
from trdsim.analysis.psa import summarise


@dataclass(frozen=True)
class Population:
    """Who benefits from resolving the uncertainty: people per year, years, discount rate."""

    per_year: float
    years: int
    rate: float

    @property
    def factor(self) -> float:
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
) -> tuple[list[Path], dict]:
    """Frontier, CEAC/CEAF, EVPI (+ population), EVPPI per group and the PSA summary.

    thresholds: the decision thresholds (EVPPI and the summary use these); the CEAC and
    EVPI curves use a grid from 0 to twice the largest. Returns (paths, summary dict).
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
    partial = None
    if groups:
        partial = pd.concat(
            [evppi_table(df, groups, lam, progress=progress) for lam in thresholds],
            ignore_index=True,
        )
        if population is not None:
            partial["population_evppi"] = partial.evppi * population.factor
        partial.to_csv(target("evppi.csv"), index=False)
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
    if population is not None:
        info["evpi_population"] = {
            f"{t:g}": v * population.factor for t, v in zip(at.threshold, at.evpi, strict=True)
        }
    target("psa_summary.json").write_text(json.dumps(info, indent=2))
    if figures:
        plots.ce_plane(df, thresholds, currency, target("ce_plane.png"))
        plots.ceac_figure(curve, currency, target("ceac.png"), marks=thresholds)
        plots.evpi_figure(
            value, currency, target("evpi.png"), population.factor if population else None
        )
        if partial is not None:
            for lam in thresholds:
                plots.evppi_figure(
                    partial[partial.threshold == lam], currency, target(f"evppi_{lam:g}.png")
                )
    return written, info
