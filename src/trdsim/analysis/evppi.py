"""EVPPI by nonparametric regression on the PSA sample (Strong, Oakley & Brennan 2014).

Strong M, Oakley JE, Brennan A. Estimating multiparameter partial expected value of
perfect information from a probabilistic sensitivity analysis sample: a nonparametric
regression approach. Med Decis Making 2014;34(3):311-326. doi:10.1177/0272989X13505910

For a parameter group phi and each arm a against the first, the incremental cost
dC_a and incremental QALYs dQ_a are regressed on phi over the PSA draws (the
regressions are in `trdsim.analysis.metamodel`). The regressions are linear smoothers,
so the fitted incremental NMB at any threshold is g_a(lambda) = lambda dQ_a^ - dC_a^ and

    EVPPI(phi, lambda) = mean_k max_a g_a(phi_k) - max_a mean_k g_a(phi_k),   g_0 = 0,

for a whole curve over thresholds from one fit per outcome. Fitting costs and QALYs
apart (rather than the NMB at each threshold, as dampack does) lets each have its own
smoothing; the error of the fitted NMB is then close to the smallest available at every
threshold, since lambda^2 MSE(dQ^) + MSE(dC^) is minimised term by term.

Methods (`method=`):

* "gam" (default from 50 draws): s() of each parameter plus tensor interactions
  ti() of every pair and the triple (the ANOVA terms of mgcv's te(); dampack's formula
  is s() + the highest-order ti() only). Groups of more than 3 parameters get the
  interactions of the 3 whose main effects explain most ("gam-screened"); see the
  README for its check against the exact GP. Smoothing by restricted likelihood
  (Fellner-Schall; Wood & Fasiolo 2017, Biometrics 73:1071-1081; Wood 2017, GAMs 2nd
  ed.).
* "gp" (default below 50 draws; refused above 3,000): exact Gaussian-process
  regression, Strong et al. (2014) section 3.2. It overfits groups of many parameters
  (see metamodel.AUTO_GP_BELOW), so it is not the default where a GAM can be fitted.

Standard error: as in Strong et al. (2014, section 4.3), the fitted values are drawn
POSTERIOR_SAMPLES times from the regression's Bayesian posterior and EVPPI is computed
for each draw; the SE is their standard deviation (the uncertainty due to the
regression, not the Monte Carlo error of the PSA sample). One set of posterior draws
serves the whole curve, so the value at a threshold does not depend on which other
thresholds are asked for.

EVPPI <= EVPI holds for the truth but not always for an estimate (the regression can
overfit); values above the EVPI are set to the EVPI and flagged `clipped`.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from trdsim.analysis.decision import _matrix
from trdsim.analysis.metamodel import choose_method, one_blas_thread, regress
from trdsim.errors import TrdsimError
from trdsim.store.tables import arms_of

__all__ = [
    "POSTERIOR_SAMPLES",
    "check_groups",
    "curve_from_fit",
    "default_groups",
    "evppi",
    "evppi_curve",
    "evppi_tables",
    "increments",
    "parameter_matrix",
    "value_of",
]

POSTERIOR_SAMPLES = 200  # posterior draws for the SE: the SE's own relative error ~5 %
_CLIP_TOLERANCE = 1e-9  # relative: closer to the EVPI than this is rounding, not a clip


def parameter_matrix(draws: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """(draws, keys) parameter values, one row per draw, in draw order."""
    missing = [k for k in keys if k not in draws.columns]
    if missing:
        raise TrdsimError(
            f"EVPPI: the table has no column for {', '.join(missing)} (unknown parameter); "
            "parameter columns come with `trdsim psa` tables or an imported table"
        )
    first = draws[draws["arm"] == arms_of(draws)[0]].sort_values("draw")
    return first[keys].to_numpy(dtype=np.float64)


def increments(draws: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(draws, arms - 1) incremental costs and QALYs of each arm against the first."""
    c, q = _matrix(draws, "cost"), _matrix(draws, "qaly")
    return c[:, 1:] - c[:, :1], q[:, 1:] - q[:, :1]


def _expected_loss(nmb: np.ndarray) -> float:
    """E[max_a NMB] - max_a E[NMB], as the optimal arm's expected loss (exactly 0 when
    that arm wins in every draw)."""
    best = int(np.argmax(nmb.mean(axis=0)))
    return float((nmb.max(axis=1) - nmb[:, best]).mean())


def value_of(inc: np.ndarray) -> float:
    """EVPI-type value of incremental NMB (draws, arms - 1) against an arm with 0."""
    return _expected_loss(np.column_stack([np.zeros(len(inc)), inc]))


def curve_from_fit(
    fitted: np.ndarray,
    sampled: np.ndarray,
    dcost: np.ndarray,
    dqaly: np.ndarray,
    thresholds: list[float],
    totals: list[float] | None = None,
) -> pd.DataFrame:
    """Value (EVPPI or EVSI) over thresholds from fitted [dC..., dQ...] columns.

    fitted: (draws, 2 m) fitted incremental costs then QALYs of m comparisons;
    sampled: (2 m, draws, samples) their posterior draws; totals: the EVPI at each
    threshold if already known. Returns threshold, value, se, evpi, clipped (value set
    to the EVPI).
    """
    if totals is None:
        totals = [value_of(lam * dqaly - dcost) for lam in thresholds]
    m = dcost.shape[1]
    # float32 halves the memory traffic of the loop below; the SE needs 2-3 digits
    s_cost = sampled[:m].astype(np.float32, copy=False)
    s_qaly = sampled[m:].astype(np.float32, copy=False)
    mean_cost, mean_qaly = s_cost.mean(axis=1), s_qaly.mean(axis=1)  # (m, samples)
    inc = np.empty_like(s_cost)
    average = np.full(s_cost.shape[1], 1.0 / s_cost.shape[1], np.float32)  # mean via BLAS
    rows = []
    for lam, total in zip(thresholds, totals, strict=True):
        value = value_of(lam * fitted[:, m:] - fitted[:, :m])
        np.multiply(s_qaly, np.float32(lam), out=inc)
        inc -= s_cost
        best = inc[0].copy()
        for a in range(1, m):
            np.maximum(best, inc[a], out=best)
        np.maximum(best, 0.0, out=best)
        means = lam * mean_qaly - mean_cost
        per_sample = average @ best - np.maximum(means.max(axis=0), 0.0)
        rows.append(
            {
                "threshold": float(lam),
                "value": min(value, total),
                "se": float(per_sample.std(ddof=1)) if len(per_sample) > 1 else 0.0,
                "evpi": total,
                "clipped": bool(value > total * (1 + _CLIP_TOLERANCE) + 1e-12),
            }
        )
    return pd.DataFrame(rows)


def evppi_curve(
    draws: pd.DataFrame,
    keys: list[str],
    thresholds: list[float],
    method: str = "auto",
    samples: int = POSTERIOR_SAMPLES,
    seed: int = 0,
) -> tuple[pd.DataFrame, str]:
    """EVPPI per person of the group `keys` at each threshold, and the method used.

    Columns: threshold, evppi, se, evpi, clipped. `draws` is a checked table.
    """
    x = parameter_matrix(draws, keys)
    dc, dq = increments(draws)
    return _curve(x, dc, dq, thresholds, method, samples, seed)


def _curve(x, dc, dq, thresholds, method, samples, seed, totals=None):
    with one_blas_thread():
        return _fit_curve(x, dc, dq, thresholds, method, samples, seed, totals)


def _fit_curve(x, dc, dq, thresholds, method, samples, seed, totals=None):
    reg = regress(x, np.column_stack([dc, dq]), method, samples, seed)
    curve = curve_from_fit(reg.fitted, reg.sampled, dc, dq, thresholds, totals)
    return curve.rename(columns={"value": "evppi"}), reg.method


def evppi(
    draws: pd.DataFrame,
    keys: list[str],
    threshold: float,
    method: str = "auto",
    samples: int = POSTERIOR_SAMPLES,
    seed: int = 0,
) -> dict:
    """EVPPI per person for the parameter group `keys` at one threshold, with its SE.

    Returns evppi, se, evpi, parameters, method (used) and clipped.
    """
    curve, used = evppi_curve(draws, keys, [threshold], method, samples, seed)
    r = curve.iloc[0]
    return {
        "evppi": float(r.evppi),
        "se": float(r.se),
        "evpi": float(r.evpi),
        "parameters": len(keys),
        "method": used,
        "clipped": bool(r.clipped),
    }


def default_groups(keys: list[str]) -> dict[str, list[str]]:
    """Parameter groups by kind of evidence: each treatment, maintenance, utilities, ..."""
    groups: dict[str, list[str]] = {}
    for k in keys:
        parts = k.split(".")
        if parts[0] == "treatments":
            name = f"treatment: {parts[1]}"
        elif parts[0] == "maintenance":
            name = "maintenance effects and costs"
        elif parts[0] == "unit_costs":
            name = "unit costs"
        else:
            name = parts[0]
        groups.setdefault(name, []).append(k)
    return groups


def check_groups(draws: pd.DataFrame, groups: dict[str, list[str]]) -> None:
    """A clear error for a group naming a column the table does not have."""
    for name, keys in groups.items():
        missing = [k for k in keys if k not in draws.columns]
        if missing:
            raise TrdsimError(
                f"EVPPI group {name!r}: unknown parameter {', '.join(missing)} "
                "(not a column of the table)"
            )


def evppi_tables(
    draws: pd.DataFrame,
    groups: dict[str, list[str]],
    thresholds: list[float],
    grid: list[float] | None = None,
    method: str = "auto",
    progress=None,
    samples: int = POSTERIOR_SAMPLES,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """EVPPI of each named group at the decision thresholds and over a grid.

    Returns (table, curve). table: group, threshold, parameters, method, evppi, se, evpi,
    share_of_evpi, clipped, keys; curve: group, threshold, evppi, se, evpi, clipped, over
    the grid and the thresholds. Both come from one fit per group, so the curve at a
    decision threshold is the table's value.
    """
    check_groups(draws, groups)
    choose_method(method, int(draws["draw"].nunique()))  # a bad name fails before work
    every = sorted(set(grid or []) | set(thresholds))
    # once for all groups: the increments, the EVPI curve and the parameters by draw
    dc, dq = increments(draws)
    totals = [value_of(lam * dq - dc) for lam in every]
    params = draws[draws["arm"] == arms_of(draws)[0]].sort_values("draw")

    def fit(keys: list[str]):
        x = params[keys].to_numpy(dtype=np.float64)
        return _fit_curve(x, dc, dq, every, method, samples, seed, totals)

    rows, curves = [], []
    # groups are independent fits: one per core (numpy's linear algebra releases the GIL),
    # each on one BLAS thread; results do not depend on the order they finish in
    workers = min(len(groups), os.cpu_count() or 1)
    with one_blas_thread(), ThreadPoolExecutor(max(workers, 1)) as pool:
        fits = pool.map(fit, groups.values())
        for (name, keys), (curve, used) in zip(groups.items(), fits, strict=True):
            curve.insert(0, "group", name)
            curves.append(curve)
            at = curve[curve.threshold.isin(thresholds)]
            for r in at.itertuples():
                rows.append(
                    {
                        "group": name,
                        "threshold": r.threshold,
                        "parameters": len(keys),
                        "method": used,
                        "evppi": r.evppi,
                        "se": r.se,
                        "evpi": r.evpi,
                        "share_of_evpi": r.evppi / r.evpi if r.evpi > 0 else np.nan,
                        "clipped": r.clipped,
                        "keys": " ".join(keys),
                    }
                )
            if progress is not None:
                progress(1)
    table = pd.DataFrame(rows).sort_values(["threshold"], kind="stable").reset_index(drop=True)
    return table, pd.concat(curves, ignore_index=True)
