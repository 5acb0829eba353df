"""A run's per-patient values reduced to means without keeping them: each arm's mean
cost and QALYs with the variances a PSA or DSA needs (`ArmMeans`), and each cost
category's mean and standard error pooled block by block (`CategoryMoments`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ArmMeans", "CategoryMoments", "means_of", "means_of_draws"]


@dataclass(frozen=True)
class ArmMeans:
    """Per-arm means and the patient-level variances a PSA or DSA needs.

    The lean counterpart of `simulate`: the same kernel, cohort and random numbers, but
    no per-patient table and no trace, so a parameter set costs little beyond the kernel.
    Differences are paired with the first arm (common random numbers).
    """

    arms: list[str]
    patients: int
    cost: np.ndarray  # (arms,) mean discounted cost
    qaly: np.ndarray  # (arms,) mean discounted QALYs
    cost_var: np.ndarray  # (arms,) variance over patients
    qaly_var: np.ndarray
    dcost_var: np.ndarray  # (arms,) variance over patients of the difference from arm 0
    dqaly_var: np.ndarray
    dcov: np.ndarray  # (arms,) covariance of those two differences


def means_of(arms: list[str], cost: np.ndarray, qaly: np.ndarray) -> ArmMeans:
    """ArmMeans of (arms, patients) discounted costs and QALYs."""
    return means_of_draws(arms, cost[None], qaly[None])[0]


def means_of_draws(arms: list[str], cost: np.ndarray, qaly: np.ndarray) -> list[ArmMeans]:
    """ArmMeans of each draw's (draws, arms, patients) costs and QALYs, in one pass of
    numpy over all draws (each row reduced as on its own)."""
    n = cost.shape[2]
    dc = cost - cost[:, :1]
    dq = qaly - qaly[:, :1]
    ddof = 1 if n > 1 else 0
    stats = {
        "cost": cost.mean(axis=2),
        "qaly": qaly.mean(axis=2),
        "cost_var": cost.var(axis=2, ddof=ddof),
        "qaly_var": qaly.var(axis=2, ddof=ddof),
        "dcost_var": dc.var(axis=2, ddof=ddof),
        "dqaly_var": dq.var(axis=2, ddof=ddof),
        "dcov": ((dc - dc.mean(axis=2, keepdims=True)) * (dq - dq.mean(axis=2, keepdims=True))).sum(
            axis=2
        )
        / max(n - 1, 1),
    }
    return [
        ArmMeans(arms=list(arms), patients=n, **{k: v[d] for k, v in stats.items()})
        for d in range(cost.shape[0])
    ]


class CategoryMoments:
    """Mean and standard error of each cost category over patients added block by block
    (`ArmRun.cost_by_category` of each block), without keeping per-patient values: each
    block's count, mean and sum of squared deviations, pooled exactly (Chan et al.)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean: dict[str, float] = {}
        self.m2: dict[str, float] = {}

    def add(self, block: dict[str, np.ndarray]) -> None:
        """Add one block of patients: per category, their discounted costs."""
        for k, x in block.items():
            nb = len(x)
            if nb == 0:
                continue
            mb = float(x.mean())
            m2b = float(((x - mb) ** 2).sum())
            n, m = self.n, self.mean.get(k, 0.0)
            d = mb - m
            self.mean[k] = m + d * nb / (n + nb)
            self.m2[k] = self.m2.get(k, 0.0) + m2b + d * d * n * nb / (n + nb)
        if block:
            self.n += len(next(iter(block.values())))

    def mean_se(self) -> dict[str, tuple[float, float]]:
        """Per category: (mean, standard error of the mean); SE NaN for one patient."""
        n = self.n
        return {
            k: (m, float(np.sqrt(self.m2[k] / (n - 1) / n)) if n > 1 else float("nan"))
            for k, m in self.mean.items()
        }
