"""Discounting and the incremental analysis: frontier, dominance, ICERs, net monetary benefit."""

import numpy as np
import pandas as pd

__all__ = [
    "INCREMENTAL_COLUMNS",
    "NET_BENEFIT_COLUMNS",
    "ON_FRONTIER",
    "STATUSES",
    "STATUS_LABELS",
    "discount_factors",
    "incremental_analysis",
    "net_benefit",
    "optimal_arms",
    "status_label",
]

# The fixed vocabulary of an arm's status in the incremental analysis (tables hold the
# code; STATUS_LABELS is how people read it)
REFERENCE = "reference"
FRONTIER = "frontier"
DOMINATED = "dominated"
EXTENDED = "extendedly_dominated"
EQUIVALENT = "equivalent"
STATUSES = (REFERENCE, FRONTIER, DOMINATED, EXTENDED, EQUIVALENT)
ON_FRONTIER = (REFERENCE, FRONTIER)
STATUS_LABELS = {
    REFERENCE: "frontier (reference)",
    FRONTIER: "frontier",
    DOMINATED: "dominated",
    EXTENDED: "extendedly dominated",
    EQUIVALENT: "equivalent",
}
INCREMENTAL_COLUMNS = (
    "arm",
    "cost",
    "qaly",
    "status",
    "comparator",
    "inc_cost",
    "inc_qaly",
    "icer",
)
NET_BENEFIT_COLUMNS = ("arm", "threshold", "comparator", "nmb", "inc_nmb", "optimal")


def status_label(status: str, comparator: str | None = None) -> str:
    """How a reader sees a status code: 'dominated by sequential', 'frontier', ..."""
    text = STATUS_LABELS.get(status, status)
    if status in (DOMINATED, EXTENDED, EQUIVALENT) and isinstance(comparator, str) and comparator:
        text += (" to " if status == EQUIVALENT else " by ") + comparator
    return text


def discount_factors(rate: float, weeks: int) -> np.ndarray:
    """Weekly factors (1 + rate) ** (-w / 52) for w = 0 .. weeks - 1.

    Week w's costs and QALYs are valued at its start, so the first week is undiscounted;
    an annual rate r gives exactly (1 + r) ** -1 one year (52 weeks) on.
    """
    return (1.0 + rate) ** (-np.arange(weeks) / 52.0)


def _icer(c1: float, q1: float, c0: float, q0: float) -> float:
    return (c1 - c0) / (q1 - q0)


def incremental_analysis(arms: pd.DataFrame) -> pd.DataFrame:
    """Efficiency frontier with strict and extended dominance, and ICERs.

    `arms` has columns arm, cost, qaly (means). Arms are ordered by cost; an arm is
    dominated if another costs no more and gives at least as many QALYs (one of them
    strictly); equal cost and QALYs make the later arm `equivalent` to the earlier;
    extended dominance removes arms whose ICER exceeds that of the next costlier arm
    on the frontier. One row per arm, by cost: status (a code of STATUSES), comparator
    (the next less costly frontier arm, or the arm that dominates; null for the
    reference), incremental cost and QALYs against it, and the ICER of frontier arms.
    """
    df = arms[["arm", "cost", "qaly"]].reset_index(drop=True).copy()
    order = df.sort_values(["cost", "qaly"], ascending=[True, False], kind="stable").index.tolist()
    status = dict.fromkeys(df.arm, "")
    versus: dict[str, str | None] = dict.fromkeys(df.arm, None)
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
        if a in frontier:
            k = frontier.index(a)
            status[a] = REFERENCE if k == 0 else FRONTIER
            versus[a] = None if k == 0 else frontier[k - 1]
        b = versus[a]
        rows.append(
            {
                "arm": a,
                "cost": c[a],
                "qaly": q[a],
                "status": status[a],
                "comparator": b,
                "inc_cost": c[a] - c[b] if b else np.nan,
                "inc_qaly": q[a] - q[b] if b else np.nan,
                "icer": _icer(c[a], q[a], c[b], q[b]) if b and status[a] == FRONTIER else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(INCREMENTAL_COLUMNS))


def net_benefit(arms: pd.DataFrame, thresholds: list[float]) -> pd.DataFrame:
    """Net monetary benefit in long form: one row per threshold x arm (arms in the
    order given), with the incremental NMB against the first arm (the comparator
    column names it) and whether the arm is optimal (highest NMB) at that threshold."""
    df = arms[["arm", "cost", "qaly"]].reset_index(drop=True)
    first = df.arm.iloc[0]
    rows = []
    for lam in thresholds:
        nmb = lam * df.qaly.to_numpy() - df.cost.to_numpy()
        for a, v in zip(df.arm, nmb, strict=True):
            rows.append(
                {
                    "arm": a,
                    "threshold": float(lam),
                    "comparator": first,
                    "nmb": v,
                    "inc_nmb": v - nmb[0],
                    "optimal": bool(v == nmb.max()),
                }
            )
    return pd.DataFrame(rows, columns=list(NET_BENEFIT_COLUMNS))


def optimal_arms(nb: pd.DataFrame, threshold: float) -> list[str]:
    """The arm(s) with the highest NMB at `threshold` in a `net_benefit` table."""
    at = nb[(nb.threshold == threshold) & nb.optimal.astype(bool)]
    return [str(a) for a in at.arm]
