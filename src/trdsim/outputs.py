"""Writing a result to a folder: tables, manifest and figures."""

import json
import platform
from datetime import UTC, datetime
from pathlib import Path

import numba
import numpy as np

import trdsim
from trdsim.analysis.subgroups import SubgroupResult
from trdsim.effective import effective_table, effects_table
from trdsim.evidence import flatten, parameter_table
from trdsim.pathways import named_arms, rule_moderation
from trdsim.plots import (
    ever_remitted_figure,
    frontier_figure,
    relapse_free_figure,
    trace_figure,
)
from trdsim.scenario import Scenario
from trdsim.simulate import Result

__all__ = ["manifest", "scenario_manifest", "write_results"]


def manifest(result: Result) -> dict:
    """What produced the result: enough to repeat it exactly."""
    return scenario_manifest(result.scenario, result.seed, result.patients_n)


def _with_moderation(pathway: dict, params: dict) -> dict:
    """The pathway, each rule carrying what the library says its attribute does."""
    if "rules" not in pathway:
        return pathway
    rules = [
        r | {"moderation": rule_moderation(r, pathway["steps"], params)} for r in pathway["rules"]
    ]
    return pathway | {"rules": rules}


def scenario_manifest(sc: Scenario, seed: int, patients: int) -> dict:
    """The scenario, seed, patients and software versions behind a run."""
    return {
        "scenario": sc.name,
        "description": sc.description,
        "scenario_file": sc.source,
        "scenario_hash": sc.hash,
        "seed": seed,
        "patients": patients,
        "trdsim_version": trdsim.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "setting": sc.setting,
        "currency": sc.currency,
        "price_year": sc.price_year,
        "perspective": sc.perspective,
        "horizon_weeks": sc.horizon_weeks,
        "discount_costs": sc.discount_costs,
        "discount_qalys": sc.discount_qalys,
        "thresholds": sc.thresholds,
        "life_table": sc.life_table,
        "cohort_start": sc.start,
        "failed_trials_at_entry": sc.failed_trials,
        "arms": sc.arms,
        "pathways": {a: _with_moderation(sc.pathways[a], sc.params) for a in sc.arms},
        "parameters": {k: p["value"] for k, p in flatten(sc.params).items()},
        "text_parameters": {
            f"{section}.{name}.{k}": v
            for section in ("treatments", "maintenance")
            for name, entry in sc.params[section].items()
            for k, v in entry.items()
            if not isinstance(v, dict)
        },
    }


def write_results(
    result: Result, out: Path, figures: bool = True, subgroups: SubgroupResult | None = None
) -> list[Path]:
    """Write every output file of `result` into `out` (and `subgroups.csv` if given);
    returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def target(name: str) -> Path:
        p = out / name
        written.append(p)
        return p

    result.summary.to_csv(target("summary.csv"), index=False)
    result.incremental.to_csv(target("incremental.csv"), index=False)
    if result.costs is not None:
        result.costs.to_csv(target("costs.csv"), index=False)
    result.trace.to_parquet(target("trace.parquet"), index=False)
    result.patients.to_parquet(target("patients.parquet"), index=False)
    parameter_table(
        result.scenario.params, result.scenario.currency, result.scenario.raw.get("resources")
    ).to_csv(target("parameters.csv"), index=False)
    effective_table(result.scenario, result.inputs).to_csv(target("effective.csv"), index=False)
    effects_table(result.scenario).to_csv(target("effects.csv"), index=False)
    if subgroups is not None:
        subgroups.to_csv(target("subgroups.csv"))
    target("manifest.json").write_text(json.dumps(manifest(result), indent=2, default=str))
    if figures:
        sc = result.scenario
        about = {"scenario": sc.name, "price_year": sc.price_year}
        h = sc.horizon_weeks
        # figures name arms by their pathways' labels (the tables keep the ids)
        named = named_arms(sc.pathways, sc.arms)
        trace_figure(named(result.trace), target("trace.png"), **about)
        ever_remitted_figure(named(result.patients), h, target("ever_remitted.png"), **about)
        relapse_free_figure(named(result.patients), h, target("relapse_free.png"), **about)
        frontier_figure(named(result.incremental), sc.currency, target("frontier.png"), **about)
    return written
