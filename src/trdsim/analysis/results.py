"""The uncertainty analysis of a PSA table (`PsaResult`), and EVSI written to a folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

from trdsim.analysis.decision import (
    ceac,
    check_table,
    default_thresholds,
    evpi,
    means,
    population_factor,
)
from trdsim.analysis.evppi import evppi_tables
from trdsim.analysis.evsi import Study, enbs, evsi
from trdsim.analysis.psa import summarise
from trdsim.currency import money, number
from trdsim.economics import (
    INCREMENTAL_COLUMNS,
    NET_BENEFIT_COLUMNS,
    incremental_analysis,
    net_benefit,
)
from trdsim.plots import analysis as plots
from trdsim.store.manifest import FORMAT_VERSION, json_ready
from trdsim.store.result import ResultBase, write_folder
from trdsim.store.tables import Table, with_arm_order

__all__ = ["PSA_COLUMNS", "Population", "PsaResult", "analyse", "write_evsi"]

PSA_COLUMNS = ("arm", "comparator", "quantity", "threshold", "mean", "low_95", "high_95",
               "mcse", "p_positive")  # fmt: skip
CEAC_COLUMNS = ("threshold", "arm", "p_cost_effective", "expected_nmb", "expected_loss",
                "on_ceaf")  # fmt: skip
EVPI_COLUMNS = ("threshold", "optimal_arm", "evpi")


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


@dataclass(eq=False, repr=False)
class PsaResult(ResultBase):
    """A probabilistic sensitivity analysis: the draws and what is made of them.

    Tables (long form): `draws` (one row per draw x arm: cost, QALYs, the patient-level
    variances and every sampled parameter), `intervals` (incremental cost, QALYs and NMB
    against the first arm with 95 % intervals; `.table`), `frontier` and `net_benefit`
    of the mean costs and QALYs, `ceac` (probability cost-effective, expected NMB and
    loss per threshold x arm, CEAF), `evpi`, `evppi` and `evppi_curve` (when groups were
    given), `parameters`; `info` holds the headline numbers and warnings.
    """

    ANALYSIS: ClassVar[str] = "psa"
    MAIN: ClassVar[str] = "intervals"
    TABLES: ClassVar[dict[str, Table]] = {
        "draws": Table("draws.parquet", ("draw", "arm", "cost", "qaly")),
        "intervals": Table("psa_summary.csv", PSA_COLUMNS),
        "frontier": Table("frontier.csv", INCREMENTAL_COLUMNS),
        "net_benefit": Table("net_benefit.csv", NET_BENEFIT_COLUMNS),
        "ceac": Table("ceac.csv", CEAC_COLUMNS),
        "evpi": Table("evpi.csv", EVPI_COLUMNS),
        "evppi": Table("evppi.csv", ("group", "threshold", "evppi", "se"), optional=True),
        "evppi_curve": Table("evppi_curve.csv", ("group", "threshold", "evppi"), optional=True),
        "parameters": Table("parameters.csv", ("key", "value"), optional=True),
    }
    JSON: ClassVar[dict[str, str]] = {"info": "psa_summary.json"}

    manifest: dict
    draws: pd.DataFrame
    intervals: pd.DataFrame
    frontier: pd.DataFrame
    net_benefit: pd.DataFrame
    ceac: pd.DataFrame
    evpi: pd.DataFrame
    info: dict
    evppi: pd.DataFrame | None = None
    evppi_curve: pd.DataFrame | None = None
    parameters: pd.DataFrame | None = None

    @property
    def thresholds(self) -> list[float]:
        """The decision thresholds."""
        return [float(t) for t in self.info["thresholds"]]

    def _about(self) -> dict:
        return {"scenario": self.manifest.get("scenario"),
                "price_year": self.manifest.get("price_year")}  # fmt: skip

    def summary(self) -> str:
        """Per decision threshold: the optimal arm, its probability of being cost-effective
        and the EVPI per person (and for the population, when given)."""
        cur = self.info["currency"]
        lines = [
            f"{self.manifest.get('scenario', 'PSA')}: {self.info['draws']:,} draws"
            + (f" × {self.info['patients_per_draw']:,} patients" if self.info.get(
                "patients_per_draw") else "")
        ]  # fmt: skip
        for lam in self.thresholds:
            key = f"{lam:g}"
            best = self.info["optimal_arm"][key]
            c = self.ceac[(self.ceac.threshold == lam) & (self.ceac.arm == best)]
            line = (
                f"  at {money(lam, cur)}/QALY: {self.named()({'arm': best})['arm']}, "
                "P(cost-effective) "
                f"{number(float(c.p_cost_effective.iloc[0]), 2)}, EVPI "
                f"{money(self.info['evpi_per_person'][key], cur)} per person"
            )
            if self.info.get("evpi_population"):
                line += f" ({money(self.info['evpi_population'][key], cur)} population)"
            lines.append(line)
        lines += [f"  warning: {w}" for w in self.info.get("warnings", [])]
        return "\n".join(lines)

    def plot(self):
        """The cost-effectiveness acceptability curves and frontier."""
        return plots.ceac_figure(self.named()(self.ceac), self.info["currency"],
                                 marks=self.thresholds, **self._about())  # fmt: skip

    def _figures(self, folder: Path) -> list[Path]:
        cur = self.info["currency"]
        about = self._about()
        lams = self.thresholds
        pop = self.info.get("population")
        factor = Population(**pop).factor if pop else None
        named = self.named()  # arms by their labels
        made = {
            "ce_plane.png": lambda p: plots.ce_plane(named(self.draws), lams, cur, p, **about),
            "ceac.png": lambda p: plots.ceac_figure(named(self.ceac), cur, p, marks=lams, **about),
            "evpi.png": lambda p: plots.evpi_figure(self.evpi, cur, p, factor, **about),
        }
        if self.evppi is not None:
            for lam in lams:
                made[f"evppi_{lam:g}.png"] = lambda p, lam=lam: plots.evppi_figure(
                    self.evppi[self.evppi.threshold == lam], cur, p, **about
                )
            made["evppi_curve.png"] = lambda p: plots.evppi_curve_figure(
                self.evppi_curve, self.evppi, cur, p, **about
            )
        for name, draw in made.items():
            draw(folder / name)
        return [folder / n for n in made]


def analyse(
    draws: pd.DataFrame,
    thresholds: list[float],
    currency: str,
    manifest: dict | None = None,
    groups: dict[str, list[str]] | None = None,
    population: Population | None = None,
    patients: int | None = None,
    progress: Callable[[int], None] | None = None,
    evppi_method: str = "auto",
    parameters: pd.DataFrame | None = None,
) -> PsaResult:
    """Frontier, CEAC/CEAF, EVPI (+ population), EVPPI per group and the PSA summary.

    thresholds: the decision thresholds (EVPPI and the summary use these); the CEAC,
    EVPI and EVPPI curves use a grid from 0 to twice the largest. manifest: what made
    the draws (a minimal one is made for a table from elsewhere). progress is called
    once per EVPPI group.
    """
    df = check_table(draws)
    arms = [str(a) for a in df.arm.cat.categories]
    if manifest is None:
        manifest = {"format_version": FORMAT_VERSION, "analysis": "psa", "arms": arms,
                    "thresholds": thresholds, "currency": currency}  # fmt: skip
    else:
        manifest = {**manifest, "format_version": FORMAT_VERSION, "analysis": "psa"}
    grid = default_thresholds(thresholds)
    intervals, warnings = summarise(df, thresholds, patients)
    value = evpi(df, grid)
    if population is not None:
        value["population_evpi"] = value.evpi * population.factor
    partial = partial_curve = None
    if groups:
        partial, partial_curve = evppi_tables(
            df, groups, thresholds, grid, method=evppi_method, progress=progress
        )
        if population is not None:
            partial["population_evppi"] = partial.evppi * population.factor
            partial_curve["population_evppi"] = partial_curve.evppi * population.factor
    at = value[value.threshold.isin(thresholds)]
    info = {
        "draws": int(df.draw.nunique()),
        "arms": arms,
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
    # as they read back from files: JSON numbers, arm columns in the arms' order
    info = json_ready(info)
    order = manifest.get("arms") or arms

    def tidy(t: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if t is None else with_arm_order(t.reset_index(drop=True), order)

    m = means(df)
    return PsaResult(
        manifest=manifest,
        draws=tidy(df),
        intervals=tidy(intervals),
        frontier=tidy(incremental_analysis(m)),
        net_benefit=tidy(net_benefit(m, thresholds)),
        ceac=tidy(ceac(df, grid)),
        evpi=tidy(value),
        info=info,
        evppi=tidy(partial),
        evppi_curve=tidy(partial_curve),
        parameters=parameters,
    )


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

    def files(stage: Path) -> list[str]:
        table.to_csv(stage / "evsi.csv", index=False)
        (stage / "evsi.json").write_text(json.dumps(info, indent=2))
        names = ["evsi.csv", "evsi.json"]
        for lam in thresholds if figures else []:
            names.append(f"evsi_{lam:g}.png")
            plots.evsi_figure(
                table[table.threshold == lam], currency, stage / names[-1],
                scenario=scenario, price_year=price_year,
            )  # fmt: skip
        return names

    from trdsim._version import __version__

    # whole or not at all, with its files' digests (store.result.write_folder)
    manifest = {"format_version": FORMAT_VERSION, "analysis": "evsi", "scenario": scenario,
                "trdsim_version": __version__}  # fmt: skip
    written = [p for p in write_folder(out, files, manifest) if p.name != "manifest.json"]
    return written, table
