"""Fit chosen parameters to targets under common random numbers.

The objective is a negative log-likelihood (binomial where a target's count is known,
beta-binomial when it also gives an overdispersion, normal on the log scale for hazard
ratios with a 95 % CI, normal with SD = tolerance / 2 otherwise) or, with
method = "wls", weighted least squares (every target normal with SD = half its interval
/ 2). A target given only as a range contributes nothing inside the range and a
quadratic penalty outside it; a weak pull toward the library values (PRIOR_SD) picks,
among fits the targets cannot tell apart, the one closest to the evidence. Each evaluation simulates every target's setting with the
same seeds (common random numbers), averaging the model values over the seeds.

Parameters are searched on an unbounded scale (logit for probabilities, log for
positive quantities) by Nelder-Mead, which does not need the derivatives a simulation
cannot give. Standard errors come from a finite-difference Hessian of the objective at
the optimum (steps wide enough to average over single patients), mapped back by the
delta method. They describe the fit to the targets, not the wider evidence.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

from trdsim.analysis.sampling import ParameterSpace
from trdsim.errors import ScenarioError, TrdsimError
from trdsim.scenario import Scenario, bundled_scenarios, from_dict
from trdsim.validation.targets import Target
from trdsim.validation.validate import measure, setting_raw

__all__ = ["MAX_EVALUATIONS", "CalibrationResult", "calibrate", "contribution"]

# Most objective evaluations the Nelder-Mead search makes (its maxfev); the command line
# sizes a calibration by it
MAX_EVALUATIONS = 400

HESSIAN_STEP = 0.1  # on the search scale (logit / log): wide enough to span many patients
# A weak normal pull (SD on the search scale) toward each parameter's library value, so
# that where the targets leave a parameter free (inside a range target) it stays as
# close to the evidence as the targets allow, instead of wherever the search stopped.
PRIOR_SD = 2.0
RANGE_MARGIN = 0.05  # share of a range target's width kept clear at each end
RANGE_WALL_SD = 0.01  # steepness of the penalty beyond that, as a share of the width
_PROBABILITY = ("prob", "prob_open", "decrement")
_POSITIVE = ("positive", "ratio", "cost", "nonneg")


def _to_search(kind: str, x: float) -> float:
    if kind in _PROBABILITY:
        return float(np.log(x / (1 - x)))
    if kind in _POSITIVE:
        return float(np.log(x))
    return float(x)


def _from_search(kind: str, z: float) -> float:
    if kind in _PROBABILITY:
        return float(1 / (1 + np.exp(-z)))
    if kind in _POSITIVE:
        return float(np.exp(z))
    return float(z)


def _derivative(kind: str, x: float) -> float:
    """d value / d search-scale value, for the delta method."""
    if kind in _PROBABILITY:
        return x * (1 - x)
    if kind in _POSITIVE:
        return x
    return 1.0


def contribution(t: Target, model: float, method: str) -> float:
    """The target's term in the objective (0 at perfect agreement)."""
    if not np.isfinite(model):
        return 1e6
    lo, hi = t.bounds
    if t.value is None:  # a range only: free inside, a steep quadratic wall outside
        width = max(hi - lo, 1e-6)
        # the wall starts 5 % of the width inside, so a fit pressed against it by the
        # pull toward the library value still ends inside the range
        margin = RANGE_MARGIN * width
        dist = max(lo + margin - model, 0.0, model - (hi - margin))
        return 0.5 * (dist / (RANGE_WALL_SD * width)) ** 2
    if t.setting == "hazard_ratio":
        se = (np.log(hi) - np.log(lo)) / (2 * 1.96)
        return 0.5 * ((np.log(max(model, 1e-12)) - np.log(t.value)) / se) ** 2
    if method == "likelihood" and t.n is not None:
        p = float(np.clip(model, 1e-9, 1 - 1e-9))
        p_hat = float(np.clip(t.events / t.n, 1e-9, 1 - 1e-9))
        if t.overdispersion:
            k = (1 - t.overdispersion) / t.overdispersion

            def ll(q):
                return stats.betabinom.logpmf(t.events, t.n, q * k, (1 - q) * k)
        else:

            def ll(q):
                return stats.binom.logpmf(t.events, t.n, q)

        return float(ll(p_hat) - ll(p))  # 0 at the observed proportion
    half = (hi - lo) / 2
    return 0.5 * ((model - t.value) / (half / 2)) ** 2


@dataclass
class CalibrationResult:
    """Fitted values with uncertainty, and the fit to each target before and after."""

    scenario: Scenario
    parameters: pd.DataFrame  # key, start, fitted, se, low_95, high_95
    fit: pd.DataFrame  # id, target, low, high, before, after, agrees_before, agrees_after, term
    objective_start: float
    objective: float
    evaluations: int
    converged: bool
    method: str
    patients: int
    seeds: list[int]

    def fragment(self, path: Path) -> str:
        """TOML text of a scenario that is the base scenario with the fitted values."""
        base = Path(self.scenario.source)
        bundled = bundled_scenarios()
        if base.parent.resolve() == bundled.resolve():
            base_ref = base.stem
        else:
            base_ref = os.path.relpath(base.resolve(), path.resolve().parent)
        ids = ", ".join(self.fit.id)
        lines = [
            f"# Written by `trdsim calibrate` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
            f"# Base scenario: {self.scenario.source}. Targets: {ids}.",
            f"# Method: {self.method}; {self.patients:,} patients x seeds {self.seeds}; "
            f"objective {self.objective_start:.4g} -> {self.objective:.4g} "
            f"in {self.evaluations} evaluations.",
            "# Run it like any scenario: trdsim compare THIS_FILE, trdsim psa THIS_FILE.",
            "",
            "[scenario]",
            f'base = "{base_ref}"',
            f'name = "{self.scenario.name}_calibrated"',
        ]
        sections: dict[str, list[str]] = {}
        for _, r in self.parameters.iterrows():
            parts = r.key.split(".")
            if parts[0] in ("unit_costs", "state_costs") and len(parts) == 2:
                parts = [parts[0], self.scenario.setting, parts[1]]
            table, name = ".".join(parts[:-1]), parts[-1]
            dist = _psa_distribution(r.kind, r.fitted, r.se)
            source = f"trdsim calibrate to {ids}"
            note = (
                f"Start {r.start:.6g}; 95 % CI {r.low_95:.4g}-{r.high_95:.4g} from the fit "
                "to the targets (finite-difference Hessian)."
                if np.isfinite(r.se)
                else f"Start {r.start:.6g}; no standard error (flat objective at the optimum, "
                "e.g. a range target), so fixed in a PSA."
            )
            sections.setdefault(table, []).append(
                f'{name} = {{ value = {r.fitted:.8g}, {dist}, source = "{source}", '
                f'verified = "calibrated", note = "{note}" }}'
            )
        for table, entries in sections.items():
            lines += ["", f"[{table}]", *entries]
        return "\n".join(lines) + "\n"


def _psa_distribution(kind: str, x: float, se: float) -> str:
    if not np.isfinite(se) or se <= 0:
        return 'dist = "fixed"'
    if kind in _PROBABILITY and 0 < x < 1 and se**2 < x * (1 - x):
        k = x * (1 - x) / se**2 - 1
        return f'dist = "beta", a = {x * k:.6g}, b = {(1 - x) * k:.6g}'
    if kind in _POSITIVE and x > 0:
        s = float(np.sqrt(np.log1p((se / x) ** 2)))
        return f'dist = "lognormal", mu = {np.log(x) - s * s / 2:.6g}, sigma = {s:.6g}'
    return f'dist = "normal", mean = {x:.8g}, sd = {se:.6g}'


class _Objective:
    """Targets' model values for parameter values, with every setting built once."""

    def __init__(self, scenario, targets, keys, kinds, patients, seeds, method):
        self.scenario, self.targets, self.keys, self.kinds = scenario, targets, keys, kinds
        self.patients, self.seeds, self.method = patients, seeds, method
        self.raws = [setting_raw(scenario, t) for t in targets]
        self.evaluations = 0
        self.cache: dict[tuple, list[float]] = {}
        self.z0 = np.zeros(len(keys))  # the library values on the search scale

    def values(self, x: dict[str, float]) -> list[float]:
        k = tuple(round(x[key], 14) for key in self.keys)
        if k not in self.cache:
            self.evaluations += 1
            out = []
            for t, raw in zip(self.targets, self.raws, strict=True):
                try:
                    sc = from_dict(self.scenario.raw_with(raw, x), self.scenario.source)
                except ScenarioError:
                    # outside what the scenario allows (e.g. remission above response):
                    # an infeasible point, which the search must step back from
                    out.append(float("nan"))
                    continue
                out.append(
                    float(np.mean([measure(t, sc, self.patients, s).value for s in self.seeds]))
                )
            self.cache[k] = out
        return self.cache[k]

    def natural(self, z: np.ndarray) -> dict[str, float]:
        return {k: _from_search(self.kinds[k], float(v)) for k, v in zip(self.keys, z, strict=True)}

    def __call__(self, z: np.ndarray) -> float:
        vals = self.values(self.natural(z))
        fit = sum(contribution(t, m, self.method) for t, m in zip(self.targets, vals, strict=True))
        return float(fit + 0.5 * np.sum(((z - self.z0) / PRIOR_SD) ** 2))


def calibrate(
    scenario: Scenario,
    targets: list[Target],
    keys: list[str],
    patients: int = 5000,
    seeds: list[int] | None = None,
    method: str = "likelihood",
    progress: Callable[[int], None] | None = None,
    max_evaluations: int = MAX_EVALUATIONS,
) -> CalibrationResult:
    """Fit `keys` (parameter keys of the scenario) to `targets`; see the module doc."""
    if method not in ("likelihood", "wls"):
        raise TrdsimError(f"--method {method}: must be likelihood or wls")
    if not keys:
        raise TrdsimError("calibrate: name at least one parameter to fit (--param KEY)")
    space = ParameterSpace(scenario)
    keys = [space.resolve(k) for k in keys]
    kinds = {k: space.entries[k]["kind"] for k in keys}
    for k in keys:
        if kinds[k] in ("weeks", "count"):
            raise TrdsimError(f"{k}: a whole number; calibration fits continuous inputs")
    seeds = seeds or [scenario.seed]
    obj = _Objective(scenario, targets, keys, kinds, patients, seeds, method)
    start = {k: float(space.entries[k]["value"]) for k in keys}
    z0 = np.array([_to_search(kinds[k], start[k]) for k in keys])
    obj.z0 = z0
    f0 = obj(z0)
    before = obj.values(start)
    last = [0]

    def tick(_):
        if progress is not None:
            progress(obj.evaluations - last[0])
            last[0] = obj.evaluations

    res = optimize.minimize(
        obj, z0, method="Nelder-Mead", callback=tick,
        options={"maxfev": max_evaluations, "xatol": 1e-3, "fatol": 1e-4,
                 "initial_simplex": np.vstack([z0] + [z0 + 0.5 * e for e in np.eye(len(z0))])},
    )  # fmt: skip
    z = res.x
    fitted = obj.natural(z)
    cov = _covariance(obj, z)
    rows = []
    for i, k in enumerate(keys):
        se_z = float(np.sqrt(cov[i, i])) if cov[i, i] > 0 else float("nan")
        d = _derivative(kinds[k], fitted[k])
        rows.append(
            {
                "key": k,
                "kind": kinds[k],
                "start": start[k],
                "fitted": fitted[k],
                "se": se_z * d,
                "low_95": _from_search(kinds[k], z[i] - 1.96 * se_z)
                if np.isfinite(se_z)
                else np.nan,
                "high_95": _from_search(kinds[k], z[i] + 1.96 * se_z)
                if np.isfinite(se_z)
                else np.nan,
            }
        )
    after = obj.values(fitted)
    fit = pd.DataFrame(
        [
            {
                "id": t.id,
                "target": t.centre,
                "low": t.bounds[0],
                "high": t.bounds[1],
                "before": b,
                "after": a,
                "agrees_before": t.agrees(b),
                "agrees_after": t.agrees(a),
                "term": contribution(t, a, method),
            }
            for t, b, a in zip(targets, before, after, strict=True)
        ]
    )
    tick(None)
    return CalibrationResult(
        scenario=scenario,
        parameters=pd.DataFrame(rows),
        fit=fit,
        objective_start=f0,
        objective=float(res.fun),
        evaluations=obj.evaluations,
        converged=bool(res.success),
        method=method,
        patients=patients,
        seeds=list(seeds),
    )


def _covariance(obj: _Objective, z: np.ndarray) -> np.ndarray:
    """Inverse of the finite-difference Hessian of the objective (a -log-likelihood)."""
    p, h = len(z), HESSIAN_STEP
    f0 = obj(z)
    hess = np.empty((p, p))
    e = np.eye(p) * h
    for i in range(p):
        hess[i, i] = (obj(z + e[i]) - 2 * f0 + obj(z - e[i])) / h**2
        for j in range(i):
            hess[i, j] = hess[j, i] = (
                obj(z + e[i] + e[j])
                - obj(z + e[i] - e[j])
                - obj(z - e[i] + e[j])
                + obj(z - e[i] - e[j])
            ) / (4 * h**2)
    try:
        np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        # flat or saddle in some direction (e.g. a parameter held only by a range
        # target): keep a conditional SE where the curvature is positive, none elsewhere
        d = np.diag(hess)
        return np.diag(np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), np.nan))
    return np.linalg.inv(hess)
