"""Costs, QALYs and the incremental analysis within subgroups of the cohort (CHEERS 18).

A subgroup is a set of patients defined by an attribute they had at entry, so every arm
holds the same patients of the subgroup (common random numbers) and the arms' paired
differences stay paired. Continuous attributes are split into thirds of the cohort
unless the user gives cut-offs (`severity:17,24`); flags and counts are grouped by value.
Subgroups recombine to the whole cohort: their patient-weighted means are the overall
means.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trdsim.economics import incremental_analysis
from trdsim.pathways import RULE_ATTRIBUTES
from trdsim.survival import with_coded_weeks

__all__ = ["GroupSpec", "SubgroupResult", "arm_summary", "parse_by", "subgroup_analysis"]

CONTINUOUS = ("age", "severity", "flexibility")
OUTCOMES = ("sudden_gain",)  # carried in patients.parquet, but not an entry attribute


@dataclass(frozen=True)
class GroupSpec:
    """A subgroup split: the attribute and, for continuous ones, the cut-offs (or None)."""

    attribute: str
    cuts: tuple[float, ...] | None = None


def parse_by(spec: str) -> GroupSpec:
    """'severity' or 'severity:17,24' -> GroupSpec; ValueError naming what is allowed."""
    attr, _, cuts = spec.partition(":")
    if attr in OUTCOMES:
        raise ValueError(
            f"'{attr}' is an outcome of treatment, not an attribute at entry: its groups "
            "would hold different patients in each arm; allowed: " + ", ".join(RULE_ATTRIBUTES)
        )
    if attr not in RULE_ATTRIBUTES:
        raise ValueError(f"unknown attribute '{attr}'; allowed: {', '.join(RULE_ATTRIBUTES)}")
    if not cuts:
        return GroupSpec(attr)
    if attr not in CONTINUOUS:
        raise ValueError(f"cut-offs apply to {', '.join(CONTINUOUS)} only")
    try:
        values = tuple(float(x) for x in cuts.split(","))
    except ValueError:
        raise ValueError(f"cut-offs '{cuts}' must be numbers separated by commas") from None
    if not all(np.isfinite(values)):
        raise ValueError(f"cut-offs '{cuts}' must be finite numbers (not nan or inf)")
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise ValueError(f"cut-offs '{cuts}' must increase")
    return GroupSpec(attr, values)


def _labels(values: np.ndarray, spec: GroupSpec) -> tuple[np.ndarray, list[str]]:
    """The subgroup label of each patient, and the labels in their natural order."""
    if spec.attribute not in CONTINUOUS:
        levels = np.unique(values.astype(float))
        names = [f"{spec.attribute} = {v:g}" for v in levels]
        return np.array(names)[np.searchsorted(levels, values.astype(float))], names
    cuts = spec.cuts
    if cuts is None:  # thirds of the cohort
        cuts = tuple(np.unique(np.quantile(values, [1 / 3, 2 / 3])))
    bins = np.digitize(values, cuts, right=False)
    edges = [-np.inf, *cuts, np.inf]
    names = []
    for k in range(len(edges) - 1):
        lo, hi = edges[k], edges[k + 1]
        if np.isinf(lo):
            names.append(f"{spec.attribute} < {hi:.3g}")
        elif np.isinf(hi):
            names.append(f"{spec.attribute} >= {lo:.3g}")
        else:
            names.append(f"{lo:.3g} <= {spec.attribute} < {hi:.3g}")
    present = sorted(set(bins))
    return np.array(names)[bins], [names[k] for k in present]


@dataclass(frozen=True)
class SubgroupResult:
    """One row per attribute x subgroup x arm: patients, means with standard errors,
    paired differences from the first arm, and the subgroup's own incremental analysis."""

    specs: list[GroupSpec]
    table: pd.DataFrame

    def to_csv(self, path: Path) -> Path:
        self.table.to_csv(path, index=False)
        return path


def arm_summary(pat: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """Per-arm means and standard errors, and paired differences (cost_diff, qaly_diff and
    their SEs) from the first arm, which the paired_with column names."""
    rows = []
    pat = with_coded_weeks(pat)
    base = pat[pat.arm == arms[0]].reset_index(drop=True)
    n = len(base)

    def se(x: pd.Series) -> float:
        return x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan

    for a in arms:
        d = pat[pat.arm == a].reset_index(drop=True)
        # paired differences: every arm meets the same patients and random numbers
        dc = d.cost - base.cost
        dq = d.qaly - base.qaly
        rows.append(
            {
                "arm": a,
                "patients": n,
                "cost": d.cost.mean(),
                "cost_se": se(d.cost),
                "qaly": d.qaly.mean(),
                "qaly_se": se(d.qaly),
                "life_years": d.life_years.mean(),
                "weeks_in_remission": d.weeks_in_remission.mean(),
                "ever_remitted": d.ever_remitted.mean(),
                "relapses": d.relapses.mean(),
                "steps_used": d.steps_used.mean(),
                "died": (d.death_week >= 0).mean(),
                "suicides": d.suicide.mean() if "suicide" in d else np.nan,
                "paired_with": arms[0],
                "cost_diff": dc.mean(),
                "cost_diff_se": se(dc),
                "qaly_diff": dq.mean(),
                "qaly_diff_se": se(dq),
            }
        )
    return pd.DataFrame(rows)


def subgroup_analysis(
    patients: pd.DataFrame, arms: list[str], specs: list[GroupSpec]
) -> SubgroupResult:
    """The analysis of `patients` (one row per arm x patient, with attribute columns)
    within each subgroup of each spec."""
    base = patients[patients.arm == arms[0]]
    n = len(base)
    frames = []
    for spec in specs:
        labels, order = _labels(base[spec.attribute].to_numpy(), spec)
        by_patient = pd.Series(labels, index=base.patient.to_numpy())
        group = by_patient.reindex(patients.patient.to_numpy()).to_numpy()
        for g in order:
            sub = patients[group == g]
            summary = arm_summary(sub, arms)
            inc = incremental_analysis(summary).drop(columns=["cost", "qaly"])
            t = summary.merge(inc, on="arm")
            t.insert(0, "share", (labels == g).sum() / n)
            t.insert(0, "subgroup", g)
            t.insert(0, "attribute", spec.attribute)
            frames.append(t)
    return SubgroupResult(list(specs), pd.concat(frames, ignore_index=True))
