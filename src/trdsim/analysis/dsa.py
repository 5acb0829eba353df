"""Deterministic sensitivity: one-way (tornado), two-way, and threshold analysis.

Every evaluation uses the scenario's patients and seed, so all runs meet the same
patients and random numbers (common random numbers): differences between runs come
from the parameter change, not from sampling. Results are on incremental NMB of one
arm against another at a chosen threshold (the ICER's sign flips between quadrants;
the NMB's does not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from trdsim.analysis.sampling import ParameterSpace
from trdsim.currency import money, number, plus_minus
from trdsim.currency import share as pct
from trdsim.errors import TrdsimError
from trdsim.scenario import KINDS, Scenario
from trdsim.simulation.means import ArmMeans
from trdsim.simulation.run import arm_means
from trdsim.store.manifest import json_ready, make_manifest
from trdsim.store.result import ResultBase
from trdsim.store.tables import Table

__all__ = [
    "Contrast",
    "DsaResult",
    "ThresholdResult",
    "TwoWayResult",
    "dsa",
    "one_way",
    "threshold",
    "threshold_value",
    "two_way",
    "two_way_map",
]

TORNADO_COLUMNS = ("key", "base_value", "low_value", "high_value", "inmb_low", "inmb_high",
                   "optimal_low", "optimal_high", "swing")  # fmt: skip
TWO_WAY_COLUMNS = ("x_parameter", "x", "y_parameter", "y", "inmb", "optimal", "adjusted")
THRESHOLD_COLUMNS = ("parameter", "value", "base_value", "arm", "comparator", "target_icer",
                     "icer", "inc_cost", "inc_qaly", "quadrant")  # fmt: skip


@dataclass(frozen=True)
class Contrast:
    """Which arm is compared with which, at which threshold."""

    arm: str
    versus: str
    threshold: float

    @classmethod
    def of(
        cls, scenario: Scenario, arm: str | None, versus: str | None, threshold: float | None
    ) -> Contrast:
        arms = scenario.arms
        if len(arms) < 2:
            raise TrdsimError(f"{scenario.source}: needs two arms to compare, has {arms}")
        a = arm or arms[1]
        v = versus or (arms[0] if a != arms[0] else arms[1])
        for flag, name in (("--arm", a), ("--versus", v)):
            if name not in arms:
                raise TrdsimError(f"{flag} {name}: not an arm of the scenario; arms: {arms}")
        if a == v:
            raise TrdsimError(f"--arm and --versus are both {a!r}; choose two different arms")
        lam = scenario.thresholds[0] if threshold is None else float(threshold)
        if not np.isfinite(lam) or lam < 0:
            raise TrdsimError(f"--threshold {lam}: must be a number >= 0 per QALY")
        return cls(a, v, lam)

    def inmb(self, m: ArmMeans) -> float:
        i, j = m.arms.index(self.arm), m.arms.index(self.versus)
        return float(self.threshold * (m.qaly[i] - m.qaly[j]) - (m.cost[i] - m.cost[j]))

    def inmb_se(self, m: ArmMeans) -> float:
        """Patient-level Monte Carlo SE of the paired incremental NMB."""
        i, j = m.arms.index(self.arm), m.arms.index(self.versus)
        k = i if j == 0 else j if i == 0 else None
        if k is None:
            return float("nan")  # paired statistics are kept against the first arm only
        lam = self.threshold
        var = lam**2 * m.dqaly_var[k] + m.dcost_var[k] - 2 * lam * m.dcov[k]
        return float(np.sqrt(max(var, 0.0) / m.patients))


def _optimal(m: ArmMeans, lam: float) -> str:
    return m.arms[int(np.argmax(lam * m.qaly - m.cost))]


def _evaluate(space: ParameterSpace, values: dict, patients: int, seed: int):
    sc, clipped = space.scenario_at(values)
    return arm_means(sc, patients, seed), {k: v for k, v in clipped.items() if v}


def one_way(
    scenario: Scenario,
    contrast: Contrast,
    keys: list[str] | None = None,
    patients: int | None = None,
    seed: int | None = None,
    level: float = 0.95,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Each parameter at the ends of its central `level` interval, the others at base.

    Parameters the PSA draws together move together here too (a treatment's remission
    and dropout with its response, a relapse curve's second point with its first), at
    the same quantile: varying one point of a two-point relapse curve alone would make
    a curve no evidence supports. Returns (tornado table sorted by swing, base: INMB,
    its SE, optimal arm).
    """
    space = ParameterSpace(scenario)
    keys = space.drivers() if keys is None else [space.resolve(k) for k in keys]
    n = patients or scenario.patients
    s = scenario.seed if seed is None else seed
    base = arm_means(scenario, n, s)
    q_lo, q_hi = (1 - level) / 2, (1 + level) / 2
    rows = []
    for key in keys:
        lo, hi = space.interval(key, level)
        row = {"key": key, "base_value": float(space.entries[key]["value"])}
        row.update(low_value=lo, high_value=hi, moves_with=" ".join(space.followers(key)))
        for end, q in (("low", q_lo), ("high", q_hi)):
            m, clipped = _evaluate(space, space.at_quantile(key, q), n, s)
            row[f"inmb_{end}"] = contrast.inmb(m)
            row[f"optimal_{end}"] = _optimal(m, contrast.threshold)
            row[f"adjusted_{end}"] = "; ".join(clipped)
        row["swing"] = abs(row["inmb_high"] - row["inmb_low"])
        rows.append(row)
        if progress is not None:
            progress(1)
    table = pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable")
    info = {
        "arm": contrast.arm,
        "versus": contrast.versus,
        "threshold": contrast.threshold,
        "level": level,
        "patients": n,
        "seed": s,
        "base_inmb": contrast.inmb(base),
        "base_inmb_se": contrast.inmb_se(base),
        "base_optimal": _optimal(base, contrast.threshold),
    }
    return table.reset_index(drop=True), info


def two_way(
    scenario: Scenario,
    contrast: Contrast,
    key_x: str,
    key_y: str,
    steps: int = 7,
    patients: int | None = None,
    seed: int | None = None,
    level: float = 0.95,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """A grid over two parameters' intervals: INMB of the contrast and the optimal arm,
    one row per grid point (x_parameter, x, y_parameter, y, inmb, optimal, adjusted)."""
    if steps < 2:
        raise TrdsimError(f"--steps {steps}: needs at least 2 values per parameter")
    space = ParameterSpace(scenario)
    kx, ky = space.resolve(key_x), space.resolve(key_y)
    if kx == ky:
        raise TrdsimError(f"--pair {key_x} {key_y}: name two different parameters")
    n = patients or scenario.patients
    s = scenario.seed if seed is None else seed
    xs = np.linspace(*space.interval(kx, level), steps)
    ys = np.linspace(*space.interval(ky, level), steps)
    rows = []
    for x in xs:
        for y in ys:
            m, clipped = _evaluate(space, {kx: x, ky: y}, n, s)
            row = {"x_parameter": kx, "x": x, "y_parameter": ky, "y": y,
                   "inmb": contrast.inmb(m)}  # fmt: skip
            row["optimal"] = _optimal(m, contrast.threshold)
            row["adjusted"] = "; ".join(clipped)
            rows.append(row)
            if progress is not None:
                progress(1)
    return pd.DataFrame(rows)


def _default_bracket(space: ParameterSpace, key: str) -> tuple[float, float]:
    e = space.entries[key]
    v = float(e["value"])
    kind = e["kind"]
    if kind in ("prob", "prob_open", "decrement"):
        return 1e-6, 1 - 1e-6
    if kind == "utility":
        return -0.5, 1.0
    if kind in ("cost", "nonneg"):
        return 0.0, max(10.0 * v, 1.0)
    if kind in ("positive", "ratio"):
        return v / 20.0, 20.0 * v
    if e.get("dist", "fixed") != "fixed":
        lo, hi = space.interval(key, 0.999)
        return lo, hi
    raise TrdsimError(f"{key}: give --low and --high to bracket the search")


def threshold_value(
    scenario: Scenario,
    key: str,
    target: float,
    arm: str | None = None,
    versus: str | None = None,
    low: float | None = None,
    high: float | None = None,
    patients: int | None = None,
    seed: int | None = None,
) -> dict:
    """The value of `key` at which the ICER of arm vs versus equals `target`.

    Solves target * dQALY - dCost = 0 (incremental NMB at the target) by Brent's method
    under common random numbers; costs and QALYs then give ICER = target exactly where
    dQALY != 0. The result says in which quadrant the ICER is met.
    """
    space = ParameterSpace(scenario)
    key = space.resolve(key)
    kind = space.entries[key]["kind"]
    if kind in ("weeks", "count"):
        raise TrdsimError(f"{key}: a whole number; threshold analysis needs a continuous input")
    contrast = Contrast.of(scenario, arm, versus, target)
    a, b = _default_bracket(space, key)
    a = a if low is None else float(low)
    b = b if high is None else float(high)
    desc, ok = KINDS[kind]
    for flag, v in (("--low", a), ("--high", b)):
        if not ok(v):
            raise TrdsimError(f"{flag} {v:g}: {key} must be {desc}")
    if not a < b:
        raise TrdsimError(f"--low {a:g} must be below --high {b:g}")
    n = patients or scenario.patients
    s = scenario.seed if seed is None else seed
    evaluations = []

    def f(x: float) -> float:
        m, _ = _evaluate(space, {key: x}, n, s)
        evaluations.append((x, m))
        return contrast.inmb(m)

    fa, fb = f(a), f(b)
    if np.sign(fa) == np.sign(fb):
        side = "cost-effective" if fa > 0 else "not cost-effective"
        where = (
            "widen --low/--high if values outside them are plausible"
            if low is not None or high is not None
            else "no value in the default search range reaches it (a probability's whole "
            "range, a cost from 0 to 10x its value, a ratio from 1/20 to 20x); give --low and "
            "--high only to search values you consider plausible"
        )
        raise TrdsimError(
            f"{key}: the ICER of {contrast.arm} vs {contrast.versus} does not cross "
            f"{target:g} between {a:g} (INMB {fa:,.0f}) and {b:g} (INMB {fb:,.0f}): "
            f"{contrast.arm} stays {side} at {target:g} over it; {where}"
        )
    root = brentq(f, a, b, xtol=1e-9 * max(abs(a), abs(b), 1.0), rtol=1e-12)
    m, _ = _evaluate(space, {key: root}, n, s)
    i, j = m.arms.index(contrast.arm), m.arms.index(contrast.versus)
    dc, dq = m.cost[i] - m.cost[j], m.qaly[i] - m.qaly[j]
    quadrant = (
        "more costly, more effective"
        if dq > 0 and dc >= 0
        else "less costly, less effective"
        if dq < 0 and dc <= 0
        else "no trade-off (one arm dominates)"
    )
    return {
        "parameter": key,
        "value": float(root),
        "base_value": float(space.entries[key]["value"]),
        "arm": contrast.arm,
        "versus": contrast.versus,
        "target_icer": target,
        "icer": float(dc / dq) if dq != 0 else float("nan"),
        "inc_cost": float(dc),
        "inc_qaly": float(dq),
        "quadrant": quadrant,
        "bracket": [a, b],
        "evaluations": len(evaluations) + 1,
        # every value the search tried and its INMB at the target (sorted by value)
        "search": sorted([float(x), contrast.inmb(m_)] for x, m_ in evaluations),
        "patients": n,
        "seed": s,
    }


def _contrast_info(contrast: Contrast) -> dict:
    return {"arm": contrast.arm, "versus": contrast.versus, "threshold": contrast.threshold}


@dataclass(eq=False, repr=False)
class DsaResult(ResultBase):
    """One-way sensitivity (tornado): incremental NMB of `info['arm']` vs
    `info['versus']` at each end of every uncertain parameter's range, by swing."""

    ANALYSIS: ClassVar[str] = "dsa one-way"
    MAIN: ClassVar[str] = "tornado"
    TABLES: ClassVar[dict[str, Table]] = {"tornado": Table("tornado.csv", TORNADO_COLUMNS)}
    JSON: ClassVar[dict[str, str]] = {"info": "tornado.json"}
    FIGURE: ClassVar[str] = "tornado.png"

    manifest: dict
    tornado: pd.DataFrame
    info: dict

    def summary(self, top: int = 5) -> str:
        """The base INMB and the `top` parameters with the widest swing."""
        i, cur = self.named()(self.info), self.manifest["currency"]  # arms by their labels
        lines = [
            f"INMB of {i['arm']} vs {i['versus']} at {money(i['threshold'], cur)}/QALY: base "
            f"{money(i['base_inmb'], cur, sign=True)} {plus_minus(i['base_inmb_se'], cur)} (MC SE)"
        ]
        for r in self.tornado.head(top).itertuples():
            lines.append(
                f"  {r.key}: {money(r.inmb_low, cur, sign=True)} to "
                f"{money(r.inmb_high, cur, sign=True)} "
                f"(optimal {r.optimal_low} / {r.optimal_high})"
            )
        return "\n".join(lines)

    def plot(self):
        """The tornado diagram."""
        from trdsim.plots import analysis as plots

        named = self.named()  # arms by their labels
        return plots.tornado_figure(
            named(self.tornado),
            named(self.info),
            self.manifest["currency"],
            **_about(self.manifest),
        )


@dataclass(eq=False, repr=False)
class TwoWayResult(ResultBase):
    """Two-way sensitivity: incremental NMB and the optimal arm over a grid of two
    parameters (one row per grid point)."""

    ANALYSIS: ClassVar[str] = "dsa two-way"
    MAIN: ClassVar[str] = "grid"
    TABLES: ClassVar[dict[str, Table]] = {"grid": Table("twoway.csv", TWO_WAY_COLUMNS)}
    JSON: ClassVar[dict[str, str]] = {"info": "twoway.json"}
    FIGURE: ClassVar[str] = "twoway.png"

    manifest: dict
    grid: pd.DataFrame
    info: dict

    @property
    def name(self) -> str:
        """twoway_<x>_x_<y>: the folder name the CLI gives it."""
        return f"twoway_{self.info['x_parameter']}_x_{self.info['y_parameter']}"

    def summary(self) -> str:
        """How often each arm is optimal over the grid, and the range of INMB."""
        cur = self.manifest["currency"]
        named = self.named()  # arms by their labels
        share = named(self.grid).optimal.value_counts(normalize=True)
        best = ", ".join(f"{a} {pct(p, 0)}" for a, p in share.items())
        i = named(self.info)
        return (
            f"INMB of {i['arm']} vs {i['versus']} over {i['x_parameter']}"
            f" x {i['y_parameter']}: {money(self.grid.inmb.min(), cur)} to "
            f"{money(self.grid.inmb.max(), cur)}; optimal over the grid: {best}"
        )

    def plot(self):
        """The heat map of INMB with its INMB = 0 line."""
        from trdsim.plots import analysis as plots

        named = self.named()  # arms by their labels
        return plots.two_way_figure(
            named(self.grid), named(self.info), self.manifest["currency"], **_about(self.manifest)
        )


@dataclass(eq=False, repr=False)
class ThresholdResult(ResultBase):
    """The value of a parameter at which an ICER equals a target (one-row table)."""

    ANALYSIS: ClassVar[str] = "threshold"
    MAIN: ClassVar[str] = "value"
    TABLES: ClassVar[dict[str, Table]] = {"value": Table("threshold.csv", THRESHOLD_COLUMNS)}
    JSON: ClassVar[dict[str, str]] = {"info": "threshold.json"}
    FIGURE: ClassVar[str] = "threshold.png"

    manifest: dict
    value: pd.DataFrame
    info: dict

    def summary(self) -> str:
        """One sentence: the value, the ICER it gives and the search behind it."""
        r, cur = self.named()(self.info), self.manifest["currency"]  # arms by their labels
        return (
            f"{r['parameter']} = {_value(r['value'])} (base {_value(r['base_value'])}) makes "
            f"the ICER of {r['arm']} vs {r['versus']} {money(r['icer'], cur)}/QALY "
            f"(target {money(r['target_icer'], cur)}): Δcost {money(r['inc_cost'], cur, True)}, "
            f"ΔQALYs {number(r['inc_qaly'], 4, True)}, {r['quadrant']}; {r['evaluations']} simulations of "
            f"{r['patients']:,} patients, seed {r['seed']}"
        )

    def plot(self):
        """The contrast's INMB at every value the search evaluated, the root marked."""
        from trdsim.plots import analysis as plots

        return plots.threshold_figure(self.named()(self.info), self.manifest["currency"],
                                      **_about(self.manifest))  # fmt: skip


def _value(x: float) -> str:
    """A parameter's value as a summary shows it: about four significant figures, a true
    minus sign, thousands separators."""
    digits = 0 if abs(x) >= 1000 else 2 if abs(x) >= 1 else 4
    return number(x, digits)


def _about(manifest: dict) -> dict:
    return {"scenario": manifest.get("scenario"), "price_year": manifest.get("price_year")}


def dsa(
    scenario: Scenario,
    arm: str | None = None,
    versus: str | None = None,
    threshold: float | None = None,
    keys: list[str] | None = None,
    patients: int | None = None,
    seed: int | None = None,
    level: float = 0.95,
    progress: Callable[[int], None] | None = None,
) -> DsaResult:
    """One-way sensitivity of arm vs versus at `threshold` (defaults: the scenario's second
    arm, its first, its first threshold) over `keys` (default: every uncertain parameter
    that drives others)."""
    contrast = Contrast.of(scenario, arm, versus, threshold)
    table, info = one_way(scenario, contrast, keys, patients, seed, level, progress)
    m = make_manifest(scenario, DsaResult.ANALYSIS, info["seed"], info["patients"])
    return DsaResult(m, table, json_ready(info))


def two_way_map(
    scenario: Scenario,
    key_x: str,
    key_y: str,
    arm: str | None = None,
    versus: str | None = None,
    threshold: float | None = None,
    steps: int = 7,
    patients: int | None = None,
    seed: int | None = None,
    level: float = 0.95,
    progress: Callable[[int], None] | None = None,
) -> TwoWayResult:
    """Two-way sensitivity over `steps` x `steps` values of two parameters' ranges."""
    contrast = Contrast.of(scenario, arm, versus, threshold)
    table = two_way(scenario, contrast, key_x, key_y, steps, patients, seed, level, progress)
    n = patients or scenario.patients
    s = scenario.seed if seed is None else seed
    info = _contrast_info(contrast) | {
        "x_parameter": str(table.x_parameter.iloc[0]),
        "y_parameter": str(table.y_parameter.iloc[0]),
        "steps": steps, "level": level, "patients": n, "seed": s,
    }  # fmt: skip
    m = make_manifest(scenario, TwoWayResult.ANALYSIS, s, n)
    return TwoWayResult(m, table, json_ready(info))


def threshold(
    scenario: Scenario,
    key: str,
    target: float,
    arm: str | None = None,
    versus: str | None = None,
    low: float | None = None,
    high: float | None = None,
    patients: int | None = None,
    seed: int | None = None,
) -> ThresholdResult:
    """`threshold_value` as a result object (see there)."""
    r = threshold_value(scenario, key, target, arm, versus, low, high, patients, seed)
    row = {k: r[k] for k in THRESHOLD_COLUMNS if k in r} | {"comparator": r["versus"]}
    m = make_manifest(scenario, ThresholdResult.ANALYSIS, r["seed"], r["patients"])
    return ThresholdResult(m, pd.DataFrame([row], columns=list(THRESHOLD_COLUMNS)), json_ready(r))
