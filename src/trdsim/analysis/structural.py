"""Structural uncertainty: the scenario under a declared set of structural alternatives.

Each variant (evidence/structural.toml, or a file of the same form) is one named way the
model could be built differently: other scenario values (`Scenario.with_values`), other
or added pathways, another horizon. Every variant is run on the same patients and random
numbers as the scenario (same seed and cohort: common random numbers), so a variant's
numbers are exactly those of `trdsim compare` on the scenario written with that change,
and differences between variants come from the change, not from sampling. The whole file
is checked (every variant built as a scenario) before anything runs.

Optional weights per variant (summing to 1) give a model-averaged decision: each arm's
expected net monetary benefit averaged over the variants.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from trdsim.analysis.compare import DECISION_Z, simulate
from trdsim.currency import money, plus_minus
from trdsim.errors import TrdsimError
from trdsim.pathways import arm_labels
from trdsim.scenario import Scenario
from trdsim.store.manifest import json_ready, make_manifest
from trdsim.store.result import ResultBase
from trdsim.store.tables import Table

__all__ = [
    "ARMS_COLUMNS",
    "DECISION_COLUMNS",
    "StructuralResult",
    "Variant",
    "check_weights",
    "load_variants",
    "run_size",
    "structural",
    "variant_scenarios",
]

VARIANT_KEYS = ("label", "description", "source", "settings", "set", "arms",
                "horizon_weeks", "weight")  # fmt: skip
REQUIRED_KEYS = ("label", "description", "source")
ARMS_COLUMNS = ("variant", "arm", "cost", "cost_se", "qaly", "qaly_se", "inc_cost",
                "inc_cost_se", "inc_qaly", "inc_qaly_se", "status", "comparator", "icer")  # fmt: skip
DECISION_COLUMNS = ("variant", "threshold", "arm", "nmb", "inmb", "inmb_se", "optimal")
AVERAGED_COLUMNS = ("threshold", "arm", "nmb", "optimal")
WEIGHT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Variant:
    """One structural alternative as declared: what it changes and why."""

    name: str
    label: str
    description: str
    source: str
    settings: tuple[str, ...]
    values: dict[str, Any] = field(default_factory=dict)  # dotted key -> value
    weight: float | None = None

    def about(self) -> dict:
        """Its declaration as the result keeps it (JSON)."""
        return {"name": self.name, "label": self.label, "description": self.description,
                "source": self.source, "changes": self.values, "weight": self.weight}  # fmt: skip


def _default_file() -> str:
    return resources.files("trdsim.evidence").joinpath("structural.toml").read_text("utf-8")


def load_variants(path: str | Path | None = None) -> list[Variant]:
    """The variants of `path` (default: the bundled evidence/structural.toml), in file
    order; TrdsimError (one line) for a variant that is not well formed."""
    where = "structural.toml" if path is None else str(path)
    try:
        text = _default_file() if path is None else Path(path).read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise TrdsimError(f"{where}: cannot read the variants: {e}") from None
    table = raw.get("variants")
    if set(raw) - {"variants"} or not isinstance(table, dict) or not table:
        raise TrdsimError(f"{where}: needs one [variants.NAME] table per variant and nothing else")
    out = []
    for name, v in table.items():
        key = f"{where}: variants.{name}"
        if not isinstance(v, dict):
            raise TrdsimError(f"{key}: must be a table")
        unknown = sorted(set(v) - set(VARIANT_KEYS))
        if unknown:
            raise TrdsimError(
                f"{key}.{unknown[0]}: unknown field; allowed: {', '.join(VARIANT_KEYS)}"
            )
        for k in REQUIRED_KEYS:
            if not isinstance(v.get(k), str) or not v[k].strip():
                raise TrdsimError(f"{key}.{k}: missing; every variant says what it is and why")
        settings = v.get("settings", ["uk", "us"])
        if not isinstance(settings, list) or not all(isinstance(s, str) for s in settings):
            raise TrdsimError(f'{key}.settings: must be a list of settings, e.g. ["uk", "us"]')
        values = dict(v.get("set", {}))
        if not isinstance(v.get("set", {}), dict):
            raise TrdsimError(f"{key}.set: must be a table of dotted keys and values")
        if "horizon_weeks" in v:
            values["scenario.horizon_weeks"] = v["horizon_weeks"]
        if "arms" in v:
            values["scenario.arms"] = v["arms"]
        w = v.get("weight")
        if w is not None and not (isinstance(w, (int, float)) and not isinstance(w, bool)
                                  and math.isfinite(w) and w >= 0):  # fmt: skip
            raise TrdsimError(f"{key}.weight: {w!r} must be a number >= 0")
        out.append(Variant(name, v["label"], v["description"], v["source"], tuple(settings),
                           values, None if w is None else float(w)))  # fmt: skip
    return out


def check_weights(variants: list[Variant], weights: dict[str, float] | None) -> dict | None:
    """The weights of the variants run (None if no variant has one); TrdsimError when some
    are missing or they do not sum to 1."""
    names = [v.name for v in variants]
    if weights is not None:
        unknown = sorted(set(weights) - set(names))
        if unknown:
            raise TrdsimError(f"weights: {unknown[0]} is not a variant run; variants: {names}")
        w = {n: weights.get(n) for n in names}
    else:
        w = {v.name: v.weight for v in variants}
    if all(x is None for x in w.values()):
        return None
    missing = [n for n, x in w.items() if x is None]
    if missing:
        raise TrdsimError(
            f"weights: variant {missing[0]} has none; give every variant run a weight"
        )
    given = {n: float(x) for n, x in w.items() if x is not None}
    bad = [n for n, x in given.items() if not (math.isfinite(x) and x >= 0)]
    if bad:
        raise TrdsimError(f"weights: {bad[0]} = {given[bad[0]]}: must be a number >= 0")
    total = math.fsum(given.values())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise TrdsimError(f"weights: sum to {total:g}, not 1 ({len(given)} variants)")
    return given


def variant_scenarios(
    scenario: Scenario,
    variants: list[Variant],
    names: list[str] | None = None,
) -> list[tuple[Variant, Scenario]]:
    """Each variant that applies to the scenario's setting (and is among `names`, if
    given) with its scenario, all built and checked before anything runs. TrdsimError (one
    line, naming the variant) for an unknown key, arm or value."""
    known = [v.name for v in variants]
    if names is not None:
        for n in names:
            if n not in known:
                raise TrdsimError(f"--variants {n}: no such variant; variants: {', '.join(known)}")
        chosen = [v for v in variants if v.name in names]
    else:
        chosen = [v for v in variants if scenario.setting in v.settings]
    if not chosen:
        raise TrdsimError(f"no structural variant applies to setting {scenario.setting!r}")
    out = []
    for v in chosen:
        try:
            sc = scenario.with_values(v.values)
        except TrdsimError as e:
            raise TrdsimError(f"variant {v.name}: {e}") from None
        if sc.arms[0] != scenario.arms[0]:
            raise TrdsimError(
                f"variant {v.name}: its first arm must stay {scenario.arms[0]!r} (the comparator "
                "of every variant's differences)"
            )
        if sc.thresholds != scenario.thresholds:
            raise TrdsimError(f"variant {v.name}: may not change the thresholds")
        out.append((v, sc))
    return out


def _variant_tables(v: Variant, sc: Scenario, n: int, seed: int, thresholds, progress):
    """One variant's arm rows and decision rows, from `simulate` (so they are exactly
    `trdsim compare`'s numbers for that scenario)."""
    r = simulate(sc, n, seed, progress=progress)
    pa = r.per_arm.set_index("arm")
    inc = r.incremental.set_index("arm")
    p = r.patient_table()
    first = sc.arms[0]
    base = p[p.arm == first].reset_index(drop=True)
    arm_rows, dec_rows = [], []
    for a in sc.arms:
        x = pa.loc[a]
        i = inc.loc[a]
        arm_rows.append({
            "variant": v.name, "arm": a, "cost": x.cost, "cost_se": x.cost_se,
            "qaly": x.qaly, "qaly_se": x.qaly_se, "inc_cost": x.cost_diff,
            "inc_cost_se": x.cost_diff_se, "inc_qaly": x.qaly_diff, "inc_qaly_se": x.qaly_diff_se,
            "status": i.status, "comparator": i.comparator, "icer": i.icer,
        })  # fmt: skip
    for lam in thresholds:
        nmb = {a: lam * pa.loc[a].qaly - pa.loc[a].cost for a in sc.arms}
        best = max(sc.arms, key=lambda a: nmb[a])  # first arm on ties, as argmax
        for a in sc.arms:
            d = p[p.arm == a].reset_index(drop=True)
            diff = lam * (d.qaly - base.qaly) - (d.cost - base.cost)
            se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else np.nan
            dec_rows.append({
                "variant": v.name, "threshold": float(lam), "arm": a, "nmb": nmb[a],
                "inmb": nmb[a] - nmb[first], "inmb_se": se if a != first else 0.0,
                "optimal": a == best,
            })  # fmt: skip
    return arm_rows, dec_rows, r


def _averaged(decisions: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Per threshold: each arm's expected NMB averaged over the variants with their
    weights (arms that every weighted variant runs), and the optimal one."""
    rows = []
    d = decisions[decisions.variant.isin(list(weights))]
    arms = [str(a) for a in pd.unique(d.arm.astype(str))]
    common = [a for a in arms if all(((d.variant == v) & (d.arm == a)).any() for v in weights)]
    for lam in pd.unique(d.threshold):
        at = d[d.threshold == lam]
        nmb = {
            a: math.fsum(
                weights[v] * float(at[(at.variant == v) & (at.arm == a)].nmb.iloc[0])
                for v in weights
            )  # fmt: skip
            for a in common
        }
        best = max(common, key=lambda a: nmb[a])
        rows += [{"threshold": float(lam), "arm": a, "nmb": nmb[a], "optimal": a == best}
                 for a in common]  # fmt: skip
    return pd.DataFrame(rows, columns=list(AVERAGED_COLUMNS))


@dataclass(eq=False, repr=False)
class StructuralResult(ResultBase):
    """The scenario under structural alternatives: per variant x arm, costs, QALYs and
    paired differences from the first arm with their Monte Carlo SEs, and the frontier
    (`arms`); per variant x threshold x arm, NMB, INMB against the first arm with its
    paired SE, and the optimal arm (`decisions`); with weights, the model-averaged NMB
    (`averaged`). `info` keeps each variant's declaration (label, description, source,
    changes, weight)."""

    ANALYSIS: ClassVar[str] = "structural"
    MAIN: ClassVar[str] = "arms_table"
    TABLES: ClassVar[dict[str, Table]] = {
        "arms_table": Table("structural.csv", ARMS_COLUMNS),
        "decisions": Table("structural_decisions.csv", DECISION_COLUMNS),
        "averaged": Table("structural_averaged.csv", AVERAGED_COLUMNS, optional=True),
    }
    JSON: ClassVar[dict[str, str]] = {"info": "structural.json"}
    FIGURE: ClassVar[str] = "structural.png"

    manifest: dict
    arms_table: pd.DataFrame
    decisions: pd.DataFrame
    info: dict
    averaged: pd.DataFrame | None = None

    @property
    def variants(self) -> list[str]:
        """The variants' names, in the order run."""
        return [v["name"] for v in self.info["variants"]]

    def label(self, variant: str) -> str:
        """A variant's label."""
        return next(v["label"] for v in self.info["variants"] if v["name"] == variant)

    def optimal(self) -> pd.DataFrame:
        """One row per variant x threshold: the optimal arm, and its INMB against the
        first arm with the paired Monte Carlo SE."""
        rows = []
        d = self.decisions
        for v in self.variants:
            for lam in self.info["thresholds"]:
                at = d[(d.variant == v) & (d.threshold == lam)]
                best = at[at.optimal.astype(bool)].iloc[0]
                rows.append({"variant": v, "threshold": float(lam), "optimal_arm": str(best.arm),
                             "inmb": float(best.inmb), "inmb_se": float(best.inmb_se)})  # fmt: skip
        return pd.DataFrame(rows)

    def holds(self) -> dict[float, dict]:
        """Per threshold: the base case's optimal arm, the variants where it stays optimal
        and those where another arm is (variant -> arm)."""
        opt = self.optimal()
        base = self.info["base"]
        out = {}
        for lam in self.info["thresholds"]:
            at = opt[opt.threshold == float(lam)].set_index("variant").optimal_arm
            b = str(at.get(base, at.iloc[0]))
            out[float(lam)] = {
                "base": b,
                "same": [v for v in at.index if at[v] == b],
                "other": {v: str(at[v]) for v in at.index if at[v] != b},
            }
        return out

    def summary(self) -> str:
        """What holds across the variants and what does not, per threshold: the base
        case's optimal arm and the variants under which another arm is; how often each
        arm's INMB against the first arm is positive, and its range; and the
        model-averaged decision when the variants have weights."""
        m, cur = self.manifest, self.manifest["currency"]
        names = arm_labels(m.get("pathways") or {}, list(self.arms or []))
        first = self.info["first_arm"]
        d = self.decisions.assign(arm=self.decisions.arm.astype(str))
        lines = [
            f"{m['scenario']}: {len(self.variants)} structural variants, {m['patients']:,} "
            f"patients per arm, seed {m['seed']} (the same patients in every variant)"
        ]
        for lam, h in self.holds().items():
            at = f"at {money(lam, cur)}/QALY"
            b = names.get(h["base"], h["base"])
            n = len(h["same"]) + len(h["other"])
            if not h["other"]:
                lines.append(f"  {at}: {b} optimal under all {n} variants")
            else:
                lines.append(f"  {at}: {b} optimal under {len(h['same'])} of {n}; not under:")
            for v, a in h["other"].items():
                # the INMB against the first arm of whichever of the two is not the first
                shown = a if a != first else h["base"]
                row = d[(d.variant == v) & (d.threshold == lam) & (d.arm == shown)].iloc[0]
                whose = "its" if shown == a else f"{names.get(shown, shown)}'s"
                lines.append(
                    f"    {self.label(v)}: {names.get(a, a)} ({whose} INMB vs "
                    f"{names.get(first, first)} {money(row.inmb, cur, sign=True)} "
                    f"{plus_minus(row.inmb_se, cur)})"
                )
            at_l = d[(d.threshold == lam) & (d.arm != first)]
            for a, g in at_l.groupby("arm", sort=False):
                pos = int((g.inmb > 0).sum())
                lo, hi = money(g.inmb.min(), cur, sign=True), money(g.inmb.max(), cur, sign=True)
                lines.append(
                    f"    {names.get(a, a)} vs {names.get(first, first)}: INMB > 0 under {pos} "
                    f"of {len(g)} ({lo if len(g) == 1 else f'{lo} to {hi}'})"
                )
        if self.averaged is not None:
            for lam in pd.unique(self.averaged.threshold):
                at = self.averaged[self.averaged.threshold == lam]
                best = at[at.optimal.astype(bool)].iloc[0]
                lines.append(
                    f"  model-averaged at {money(lam, cur)}/QALY: {names.get(best.arm, best.arm)}"
                    f" (expected NMB {money(best.nmb, cur)} per patient)"
                )
        return "\n".join(lines)

    def plot(self):
        """Per threshold, each variant's INMB of every arm against the first arm with
        DECISION_Z Monte Carlo SE bars, the optimal arm marked."""
        from trdsim.plots import analysis as plots

        named = self.named()
        labels = {v: self.label(v) for v in self.variants}
        return plots.structural_figure(
            named(self.decisions), labels, named({"arm": self.info["first_arm"]})["arm"],
            self.manifest["currency"],
            DECISION_Z, scenario=self.manifest.get("scenario"),
            price_year=self.manifest.get("price_year"),
        )  # fmt: skip


def structural(
    scenario: Scenario,
    variants: list[str] | None = None,
    file: str | Path | None = None,
    patients: int | None = None,
    seed: int | None = None,
    weights: dict[str, float] | None = None,
    progress: Callable[[int], None] | None = None,
) -> StructuralResult:
    """Run `scenario` under each structural variant of `file` (default: the bundled
    evidence/structural.toml) that applies to its setting (or the `variants` named), on
    the same patients and random numbers. patients: per arm and variant (default the
    scenario's); weights: name -> weight (summing to 1) instead of the file's.
    Everything is checked before the first run."""
    declared = load_variants(file)
    pairs = variant_scenarios(scenario, declared, variants)
    w = check_weights([v for v, _ in pairs], weights)
    n = scenario.patients if patients is None else int(patients)
    if n < 2:
        raise TrdsimError(f"--patients {n}: needs at least 2 patients per arm for paired SEs")
    s = scenario.seed if seed is None else int(seed)
    arm_rows: list[dict] = []
    dec_rows: list[dict] = []
    arms: list[str] = []
    pathways: dict = {}
    for v, sc in pairs:
        a, d, _ = _variant_tables(v, sc, n, s, scenario.thresholds, progress)
        arm_rows += a
        dec_rows += d
        for name in sc.arms:
            if name not in arms:
                arms.append(name)
                pathways[name] = sc.pathways[name]
    base = next((v.name for v, _ in pairs if not v.values), pairs[0][0].name)
    m = make_manifest(scenario, StructuralResult.ANALYSIS, s, n)
    m["arms"] = arms
    m["pathways"] = json_ready(pathways | m["pathways"])
    info = {
        "variants": [
            v.about() | {"arms": list(sc.arms), "horizon_weeks": sc.horizon_weeks}
            for v, sc in pairs
        ],  # fmt: skip
        "base": base,
        "thresholds": [float(x) for x in scenario.thresholds],
        "first_arm": scenario.arms[0],
        "weights": w,
        "file": "structural.toml (bundled)" if file is None else str(file),
        "patients": n,
        "seed": s,
    }
    decisions = pd.DataFrame(dec_rows, columns=list(DECISION_COLUMNS))
    averaged = None if w is None else _averaged(decisions, w)
    return StructuralResult(
        json_ready(m),
        pd.DataFrame(arm_rows, columns=list(ARMS_COLUMNS)),
        decisions,
        json_ready(info),
        averaged,
    )


def run_size(scenario: Scenario, variants: list[str] | None = None, file=None) -> tuple[int, int]:
    """(variants, variant x arm runs) of a structural run, after checking the file."""
    pairs = variant_scenarios(scenario, load_variants(file), variants)
    return len(pairs), sum(len(sc.arms) for _, sc in pairs)
