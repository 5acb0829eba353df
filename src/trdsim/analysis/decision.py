"""Decision analysis on a table of (draw, arm, cost, qaly) from any model.

The input is tidy: one row per draw and arm. A table imported from another model works
the same as one from `trdsim psa`. Net monetary benefit NMB = lambda * QALYs - cost.

* CEAC: probability that each arm has the highest NMB, per threshold.
* CEAF: the arm with the highest *expected* NMB per threshold (the decision under
  current information) and its probability of being cost-effective.
* EVPI: E[max_a NMB] - max_a E[NMB]; per person and for a discounted population.
* Expected loss: E[max NMB - NMB_a] per arm; the optimal arm's expected loss is the EVPI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trdsim.economics import incremental_analysis
from trdsim.errors import TrdsimError
from trdsim.store.tables import arms_of

__all__ = [
    "REQUIRED",
    "ceac",
    "check_table",
    "check_thresholds",
    "default_thresholds",
    "evpi",
    "frontier",
    "nmb",
    "population_factor",
]

REQUIRED = ("draw", "arm", "cost", "qaly")


def check_thresholds(thresholds, source: str = "thresholds") -> list[float]:
    """Thresholds as floats; a clear error unless finite, >= 0 and strictly increasing."""
    try:
        values = [float(x) for x in thresholds]
    except (TypeError, ValueError):
        raise TrdsimError(f"{source}: {thresholds!r} must be numbers per QALY") from None
    if not values:
        raise TrdsimError(f"{source}: give at least one threshold")
    if not all(np.isfinite(v) and v >= 0 for v in values):
        raise TrdsimError(f"{source}: {values} must be finite and >= 0")
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise TrdsimError(f"{source}: {values} must be strictly increasing")
    return values


def check_table(df: pd.DataFrame, source: str = "table") -> pd.DataFrame:
    """Validate a (draw, arm, cost, qaly) table; returns it sorted by draw and arm order."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise TrdsimError(
            f"{source}: missing column(s) {', '.join(missing)}; "
            f"a PSA table needs {', '.join(REQUIRED)} (one row per draw and arm)"
        )
    if df.empty:
        raise TrdsimError(f"{source}: no rows")
    for c in ("cost", "qaly"):
        values = pd.to_numeric(df[c], errors="coerce")
        if values.isna().any() or not np.isfinite(values).all():
            bad = df.loc[values.isna() | ~np.isfinite(values.fillna(0)), c].iloc[0]
            raise TrdsimError(f"{source}: column {c} must be finite numbers (found {bad!r})")
    counts = df.groupby(["draw", "arm"], sort=False).size()
    if (counts > 1).any():
        d, a = counts[counts > 1].index[0]
        raise TrdsimError(f"{source}: draw {d} has arm {a!r} more than once")
    arms = list(dict.fromkeys(df["arm"]))
    per_draw = df.groupby("draw")["arm"].nunique()
    if (per_draw != len(arms)).any():
        d = per_draw[per_draw != len(arms)].index[0]
        raise TrdsimError(f"{source}: draw {d} lacks some of the arms {arms}")
    if len(arms) < 2:
        raise TrdsimError(f"{source}: needs at least two arms to compare, found {arms}")
    out = df.copy()
    out["arm"] = pd.Categorical(out["arm"], categories=arms, ordered=True)
    return out.sort_values(["draw", "arm"]).reset_index(drop=True)


def _matrix(df: pd.DataFrame, column: str) -> np.ndarray:
    """(draws, arms) array of one column."""
    wide = df.pivot(index="draw", columns="arm", values=column)
    return wide[arms_of(df)].to_numpy(dtype=np.float64)


def nmb(df: pd.DataFrame, threshold: float) -> np.ndarray:
    """(draws, arms) net monetary benefit at one threshold."""
    return threshold * _matrix(df, "qaly") - _matrix(df, "cost")


def means(df: pd.DataFrame) -> pd.DataFrame:
    """Mean cost and QALYs of each arm over the draws (arm, cost, qaly)."""
    arms = arms_of(df)
    return pd.DataFrame(
        {"arm": arms, "cost": _matrix(df, "cost").mean(axis=0), "qaly": _matrix(df, "qaly").mean(0)}
    )


def frontier(df: pd.DataFrame) -> pd.DataFrame:
    """Incremental analysis of mean costs and QALYs over draws (strict and extended dominance)."""
    return incremental_analysis(means(df))


def ceac(df: pd.DataFrame, thresholds: list[float]) -> pd.DataFrame:
    """Tidy CEAC and CEAF: threshold, arm, probability cost-effective, expected NMB, the
    expected loss of choosing the arm (E[max NMB - NMB_arm]), on_ceaf.

    Ties in a draw's NMB are shared between the tied arms, so probabilities sum to one.
    """
    arms = arms_of(df)
    rows = []
    for lam in thresholds:
        b = nmb(df, lam)
        best = b.max(axis=1, keepdims=True)
        winners = b == best
        share = winners / winners.sum(axis=1, keepdims=True)
        p = share.mean(axis=0)
        e = b.mean(axis=0)
        loss = (best - b).mean(axis=0)
        chosen = int(np.argmax(e))
        for j, a in enumerate(arms):
            rows.append(
                {
                    "threshold": lam,
                    "arm": a,
                    "p_cost_effective": p[j],
                    "expected_nmb": e[j],
                    "expected_loss": float(loss[j]),
                    "on_ceaf": j == chosen,
                }
            )
    return pd.DataFrame(rows)


def evpi(df: pd.DataFrame, thresholds: list[float]) -> pd.DataFrame:
    """Per-person EVPI and the expected loss of each arm, per threshold.

    Columns: threshold, optimal_arm (highest expected NMB), evpi: the optimal arm's
    expected loss (each arm's is in the ceac table).
    """
    arms = arms_of(df)
    rows = []
    for lam in thresholds:
        b = nmb(df, lam)
        loss = (b.max(axis=1, keepdims=True) - b).mean(axis=0)
        j = int(np.argmax(b.mean(axis=0)))
        rows.append({"threshold": lam, "optimal_arm": arms[j], "evpi": float(loss[j])})
    return pd.DataFrame(rows)


def population_factor(per_year: float, years: int, rate: float) -> float:
    """Discounted number of people affected: per_year * sum_{t<years} (1 + rate)^-t."""
    if per_year <= 0 or years < 1 or not 0 <= rate < 1:
        raise TrdsimError(
            f"population {per_year:g} per year over {years} years at {rate:g}: "
            "needs a population > 0, at least 1 year and a discount rate in [0, 1)"
        )
    return per_year * float(np.sum((1.0 + rate) ** -np.arange(years)))


def default_thresholds(scenario_thresholds: list[float], points: int = 61) -> list[float]:
    """A CEAC grid from 0 to twice the largest scenario threshold, with those included."""
    top = 2.0 * max(scenario_thresholds) if max(scenario_thresholds) > 0 else 100_000.0
    grid = set(np.linspace(0.0, top, points).round(6)) | set(scenario_thresholds)
    return sorted(float(x) for x in grid)
