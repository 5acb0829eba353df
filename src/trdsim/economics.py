"""Discounting and the incremental analysis: frontier, dominance, ICERs, net monetary benefit."""

import numpy as np
import pandas as pd

__all__ = ["discount_factors", "incremental_analysis"]

FRONTIER = "frontier"
REFERENCE = "frontier (reference)"
DOMINATED = "dominated"
EXTENDED = "extendedly dominated"
EQUIVALENT = "equivalent"


def discount_factors(rate: float, weeks: int) -> np.ndarray:
    """Weekly factors (1 + rate) ** (-w / 52) for w = 0 .. weeks - 1.

    Week w's costs and QALYs are valued at its start, so the first week is undiscounted;
    an annual rate r gives exactly (1 + r) ** -1 one year (52 weeks) on.
    """
    return (1.0 + rate) ** (-np.arange(weeks) / 52.0)


def _icer(c1: float, q1: float, c0: float, q0: float) -> float:
    return (c1 - c0) / (q1 - q0)


def incremental_analysis(arms: pd.DataFrame, thresholds: list[float]) -> pd.DataFrame:
    """Efficiency frontier with strict and extended dominance, ICERs and NMB.

    `arms` has columns arm, cost, qaly (means). Arms are ordered by cost; an arm is
    dominated if another costs no more and gives at least as many QALYs (one of them
    strictly); equal cost and QALYs make the later arm `equivalent` to the earlier;
    extended dominance removes arms whose ICER exceeds that of the next costlier arm
    on the frontier. The first row of `arms` is the comparator for incremental NMB.
    """
    df = arms[["arm", "cost", "qaly"]].reset_index(drop=True).copy()
    comparator = df.arm.iloc[0]
    order = df.sort_values(["cost", "qaly"], ascending=[True, False], kind="stable").index.tolist()
    status = dict.fromkeys(df.arm, "")
    versus = dict.fromkeys(df.arm, "")
    c = dict(zip(df.arm, df.cost, strict=True))
    q = dict(zip(df.arm, df.qaly, strict=True))
    names = [df.arm[i] for i in order]
    for a in names:
        for b in names:
            if a == b or status[b]:
                continue
            if c[b] == c[a] and q[b] == q[a]:
                if names.index(b) < names.index(a):
                    status[a], versus[a] = EQUIVALENT, b
                    break
            elif c[b] <= c[a] and q[b] >= q[a]:
                status[a], versus[a] = DOMINATED, b
                break
    frontier = [a for a in names if not status[a]]
    changed = True
    while changed:
        changed = False
        for k in range(1, len(frontier) - 1):
            prev, cur, nxt = frontier[k - 1], frontier[k], frontier[k + 1]
            if _icer(c[cur], q[cur], c[prev], q[prev]) > _icer(c[nxt], q[nxt], c[cur], q[cur]):
                status[cur], versus[cur] = EXTENDED, prev
                frontier.pop(k)
                changed = True
                break
    rows = []
    for a in names:
        row = {"arm": a, "cost": c[a], "qaly": q[a]}
        if a in frontier:
            k = frontier.index(a)
            row["status"] = REFERENCE if k == 0 else FRONTIER
            versus[a] = "" if k == 0 else frontier[k - 1]
        else:
            row["status"] = status[a]
        b = versus[a]
        row["compared_with"] = b
        row["inc_cost"] = c[a] - c[b] if b else np.nan
        row["inc_qaly"] = q[a] - q[b] if b else np.nan
        row["icer"] = _icer(c[a], q[a], c[b], q[b]) if b and row["status"] == FRONTIER else np.nan
        for lam in thresholds:
            nmb = lam * q[a] - c[a]
            row[f"nmb_{lam:g}"] = nmb
            row[f"inc_nmb_{lam:g}_vs_{comparator}"] = nmb - (lam * q[comparator] - c[comparator])
        rows.append(row)
    out = pd.DataFrame(rows)
    for lam in thresholds:
        col = f"nmb_{lam:g}"
        out[f"optimal_at_{lam:g}"] = out[col] == out[col].max()
    return out
